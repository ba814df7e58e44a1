"""Hypothesis generators for the engine's inputs: memberships, member bids, batch axes.

Bids come from two pools: a grid of quarters (exact in float64, so sums and products are
exact and ties are frequent) and arbitrary floats in [0, 100]. Tests that compare two runs
whose floating-point sums may be reordered (permuted members) ask for ``exact=True``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dao_abm.mechanisms import VALUATIONS, Groups

#: Quarters in [0, 20]: exact sums and products, many ties.
GRID = st.integers(0, 80).map(lambda q: q / 4)
#: Arbitrary nonnegative floats (no subnormals: they only test the FPU).
FLOATS = st.floats(0, 100, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@dataclass(frozen=True)
class Instance:
    """One engine input.

    Attributes:
        groups: the membership.
        bids: ``(*B, n)`` for "single", ``(*B, n, m)`` otherwise.
        valuation: the valuation class.
        sizes: ``(k,)`` the group sizes the membership was drawn from.
    """

    groups: Groups
    bids: np.ndarray
    valuation: str
    sizes: tuple[int, ...]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self.bids.shape[: self.bids.ndim - (1 if self.valuation == "single" else 2)]


def group_sizes(
    min_groups: int = 1, max_groups: int = 4, max_size: int = 4
) -> st.SearchStrategy[list[int]]:
    """Sizes ``n_j >= 1`` of ``min_groups..max_groups`` groups."""
    return st.lists(st.integers(1, max_size), min_size=min_groups, max_size=max_groups)


@st.composite
def memberships(
    draw: st.DrawFn,
    min_groups: int = 1,
    max_groups: int = 4,
    max_size: int = 4,
    shuffled: bool = True,
) -> Groups:
    """A ``Groups``; with ``shuffled`` the members of a group are not contiguous."""
    sizes = draw(group_sizes(min_groups, max_groups, max_size))
    return Groups.from_labels(_labels(draw, sizes, shuffled))


def _labels(draw: st.DrawFn, sizes: list[int], shuffled: bool) -> np.ndarray:
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if shuffled:
        labels = labels[np.array(draw(st.permutations(range(labels.size))), dtype=np.int64)]
    return labels


def bid_arrays(shape: tuple[int, ...], exact: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Nonnegative float64 bids of ``shape``, from the grid (``exact``) or grid and floats."""
    elements = GRID if exact else st.one_of(GRID, FLOATS)
    return hnp.arrays(np.float64, shape, elements=elements)


def batch_shapes(
    max_axes: int = 2, max_len: int = 3, min_axes: int = 0
) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch axes: ``min_axes..max_axes`` axes of length ``1..max_len``."""
    return st.lists(st.integers(1, max_len), min_size=min_axes, max_size=max_axes).map(tuple)


@st.composite
def instances(
    draw: st.DrawFn,
    valuations: tuple[str, ...] = VALUATIONS,
    min_groups: int = 1,
    max_groups: int = 4,
    max_size: int = 4,
    max_items: int = 3,
    batch: st.SearchStrategy[tuple[int, ...]] | None = None,
    exact: bool = False,
    shuffled: bool = True,
) -> Instance:
    """Random groups and bids of one of ``valuations``, with leading axes from ``batch``
    (none by default)."""
    valuation = draw(st.sampled_from(valuations))
    sizes = draw(group_sizes(min_groups, max_groups, max_size))
    groups = Groups.from_labels(_labels(draw, sizes, shuffled))
    batch_shape = draw(batch) if batch is not None else ()
    n = groups.n_members
    if valuation == "single":
        shape = (*batch_shape, n)
    else:
        shape = (*batch_shape, n, draw(st.integers(1, max_items)))
    return Instance(groups, draw(bid_arrays(shape, exact)), valuation, tuple(sizes))
