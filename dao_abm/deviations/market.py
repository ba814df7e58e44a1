"""A market members learn in: a two-level mechanism, the DAOs, and the valuation class.

``Market`` also decides, once, how a member's deviation is evaluated (its ``kernel``):

- ``"critical"``: WTP aggregation, a Vickrey-priced single lot (second-price, VCG on
  single/additive values, grand bundle) and max-equal-split — Mechanism 1 / 2 of the paper.
  Every member's critical bid is computed in closed form (``critical.py``).
- ``"sum"``: the ``sum`` aggregation with equal-split-all or proportional cost sharing (the
  ``split-the-bill`` and ``crowdfund`` presets): O(1) per candidate (``closed_forms.py``).
- ``"sub-market"``: anything else, and every mechanism with a reserve price — exact engine
  runs on small sub-markets, one per (member, candidate), batched by group size
  (``submarket.py``).
- ``"full-market"``: VCG with unit-demand values and several items, where one group's bid
  moves every item's price: one full engine run per (member, item, candidate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from dao_abm.deviations.slots import SlotIndex
from dao_abm.mechanisms import Groups, Outcome, TwoLevelMechanism, preset, utilities
from dao_abm.mechanisms.two_level import check_valuation
from dao_abm.mechanisms.upper import UPPER_MECHANISMS, UpperMechanism

#: Upper mechanisms that price a single lot at the highest other group bid.
VICKREY_PRICED = ("second-price", "vcg", "grand-bundle")


@dataclass(frozen=True, eq=False)
class Market:
    """What members bid into, fixed for as long as the DAOs do.

    Attributes:
        mechanism: the two-level mechanism (a preset name is resolved on construction).
        groups: the membership; build a new ``Market`` when DAOs re-form.
        valuation: "single", "additive" or "unit-demand" (Section 2).
    """

    mechanism: TwoLevelMechanism
    groups: Groups
    valuation: str = "single"

    def __post_init__(self) -> None:
        if isinstance(self.mechanism, str):
            object.__setattr__(self, "mechanism", preset(self.mechanism))
        check_valuation(self.valuation)
        if np.unique(np.atleast_1d(self.mechanism.reserve)).size > 1:
            raise ValueError("learning needs one reserve price for every lot (got "
                             f"{self.mechanism.reserve!r})")

    @property
    def reserve(self) -> float:
        """The reserve price of every lot (0: none)."""
        return float(np.atleast_1d(self.mechanism.reserve)[0])

    @property
    def n_members(self) -> int:
        return self.groups.n_members

    @property
    def upper(self) -> UpperMechanism:
        return UPPER_MECHANISMS[self.mechanism.upper]

    @property
    def pricing(self) -> str:
        """How a won lot is priced: "second" (highest other group bid) or "first" (own)."""
        return "first" if self.mechanism.upper == "first-price" else "second"

    @cached_property
    def single_lot(self) -> TwoLevelMechanism:
        """The mechanism restricted to one lot of member lot bids (used by sub-markets)."""
        upper = "first-price" if self.pricing == "first" else "second-price"
        return TwoLevelMechanism(self.mechanism.aggregation, upper, self.mechanism.cost_sharing,
                                 reserve=self.reserve)

    @cached_property
    def slot_index(self) -> SlotIndex:
        """Per-slot facts about the sorted layout of ``groups`` (critical-bid kernel)."""
        return SlotIndex.from_groups(self.groups)

    @cached_property
    def kernel(self) -> str:
        """How a deviation on one lot is evaluated (see the module docstring)."""
        mech = self.mechanism
        if self.reserve:  # the closed forms below know no reserve price
            return "sub-market"
        if (mech.aggregation, mech.cost_sharing) == ("wtp", "max-equal-split") and (
            mech.upper in VICKREY_PRICED
        ):
            return "critical"
        if mech.aggregation == "sum" and mech.cost_sharing in ("equal-split-all", "proportional"):
            return "sum"
        return "sub-market"

    def full_market(self, n_items: int) -> bool:
        """True when items interact through the upper mechanism (VCG, unit-demand, m > 1)."""
        return self.mechanism.upper == "vcg" and self.valuation == "unit-demand" and n_items > 1

    def separable(self, n_items: int) -> bool:
        """True when a member's utility is a sum of independent per-item terms, so the best
        response can revise every item at once (one item, or additive values item by item)."""
        if n_items == 1:
            return True
        return self.valuation == "additive" and not self.upper.bundled

    def exact(self, n_items: int) -> bool:
        """True when ``best_response`` has an exact continuous answer (critical bids)."""
        return self.kernel == "critical" and self.separable(n_items) and not (
            self.full_market(n_items)
        )

    def run(self, bids: np.ndarray) -> Outcome:
        """The engine's outcome for member bids ``(*S, n)`` or ``(*S, n, m)``."""
        return self.mechanism.run(bids, self.groups, self.valuation, validate=False)

    def utilities(self, values: np.ndarray, bids: np.ndarray) -> np.ndarray:
        """``(*S, n)`` every member's utility at the profile ``bids``."""
        return utilities(values, self.run(bids))


def with_items(market: Market, values, bids) -> tuple[np.ndarray, np.ndarray]:
    """Validate member arrays and give them an item axis: ``(*S, n, m)`` float64 each.

    Raises:
        ValueError: shapes disagree with each other or with the market, or bids are not
            finite and nonnegative.
    """
    values = np.asarray(values, dtype=np.float64)
    bids = np.asarray(bids, dtype=np.float64)
    single = market.valuation == "single"
    if values.shape != bids.shape:
        raise ValueError(f"values {values.shape} and bids {bids.shape} must have one shape")
    member_axis = -1 if single else -2
    if bids.ndim < -member_axis or bids.shape[member_axis] != market.n_members:
        raise ValueError(
            f"{market.valuation!r} bids need shape (*S, n{'' if single else ', m'}) with "
            f"n = {market.n_members} members, got {bids.shape}"
        )
    if not (np.isfinite(bids).all() and np.isfinite(values).all()):
        raise ValueError("values and bids must be finite")
    if (bids < 0).any():
        raise ValueError("bids must be >= 0")
    if single:
        return values[..., None], bids[..., None]
    return values, bids


def member_rows(market: Market, members, *, covering=None) -> np.ndarray | None:
    """Validate ``members`` (None, or ``(r,)`` indices of members to evaluate) as int64.

    Args:
        covering: optional ``(n,)`` bool mask (the revising members) that ``members`` must
            include.

    Raises:
        ValueError: not a 1-D integer array of indices in ``0..n-1``, or missing a member
            of ``covering``.
    """
    if members is None:
        return None
    rows = np.asarray(members)
    if rows.ndim != 1 or not (rows.size == 0 or np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(f"members must be a 1-D array of member indices, got {rows.shape}")
    rows = rows.astype(np.int64, copy=False)
    if rows.size and (rows.min() < 0 or rows.max() >= market.n_members):
        raise ValueError(f"members must be indices in 0..{market.n_members - 1}")
    if covering is not None:
        covered = np.zeros(market.n_members, dtype=bool)
        covered[rows] = True
        if (np.asarray(covering, dtype=bool) & ~covered).any():
            raise ValueError("members must include every revising member")
    return rows
