"""The compiled (numba) "keep" / "truthful" kernel, ``exact_numba.nearest_to_truthful_single``,
against its reference, ``exact.nearest_to_truthful`` (numpy), bit for bit.

Instances with many ties (integer bids and values on small ranges: equal member bids, group
bids tied with each other and with p/s) and continuous ones, several groups of sizes 1..8
(and a few large groups for the argsort branch), random revising masks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("numba")

from dao_abm.deviations import Market
from dao_abm.deviations.market import with_items
from dao_abm.learning import exact_numba
from dao_abm.learning.exact import exact_best_response, nearest_to_truthful
from dao_abm.mechanisms import Groups


def numpy_path(market: Market, values, bids, revising, keep: bool):
    v, b = with_items(market, values, bids)
    r = nearest_to_truthful(market, v, b, np.asarray(bids, dtype=np.float64), revising,
                             keep=keep)
    return r.strategies, r.gain, r.changed


def assert_bit_identical(market: Market, values, bids, revising) -> None:
    for keep in (True, False):
        want = numpy_path(market, values, bids, revising, keep)
        got = exact_numba.nearest_to_truthful_single(bids, values, revising, market.groups,
                                                  keep=keep)
        for w, g, name in zip(want, got, ("strategies", "gain", "changed"), strict=True):
            assert w.shape == g.shape, name
            if w.dtype == np.bool_:
                np.testing.assert_array_equal(g, w, err_msg=f"{name} keep={keep}")
            else:
                np.testing.assert_array_equal(g.view(np.int64), w.view(np.int64),
                                              err_msg=f"{name} keep={keep}")


@st.composite
def tied_instances(draw: st.DrawFn):
    sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=6))
    n = sum(sizes)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    top = draw(st.sampled_from([1, 2, 3, 6, 12]))
    if draw(st.booleans()):  # integers on a small range: ties everywhere
        bids = rng.integers(0, top + 1, n).astype(np.float64)
        values = rng.integers(0, top + 1, n).astype(np.float64)
    else:
        bids = np.round(rng.random(n) * top, draw(st.integers(0, 17)))
        values = rng.random(n) * top
    revising = rng.random(n) < draw(st.sampled_from([0.0, 0.5, 1.0]))
    return Groups.from_labels(labels), values, bids, revising


@given(tied_instances())
def test_kernel_matches_numpy_bit_for_bit(instance):
    groups, values, bids, revising = instance
    assert_bit_identical(Market("dao-vickrey", groups), values, bids, revising)


@pytest.mark.parametrize("seed", range(3))
def test_large_groups_use_argsort_branch(seed):
    rng = np.random.default_rng(seed)
    sizes = np.array([200, 65, 64, 3, 1, 90])
    labels = rng.permutation(np.repeat(np.arange(sizes.size), sizes))
    bids = rng.integers(0, 5, labels.size).astype(np.float64) * 0.25
    values = rng.random(labels.size)
    revising = rng.random(labels.size) < 0.5
    assert_bit_identical(Market("dao-vickrey", Groups.from_labels(labels)), values, bids,
                         revising)


def test_constitution_dao_sized_mixed_instance():
    rng = np.random.default_rng(17_437)
    n = 17_437
    sizes = rng.integers(1, 51, n)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    sizes[-1] -= sizes.sum() - n
    sizes = sizes[sizes > 0]
    labels = rng.permutation(np.repeat(np.arange(sizes.size), sizes))
    values = rng.random(n)
    bids = values * rng.uniform(0.8, 1.2, n)
    bids[: n // 4] = np.round(bids[: n // 4], 2)  # some ties
    revising = rng.random(n) < 0.7
    assert_bit_identical(Market("dao-vickrey", Groups.from_labels(labels)), values, bids,
                         revising)


def test_exact_best_response_dispatches_to_kernel():
    rng = np.random.default_rng(5)
    groups = Groups.from_labels(rng.integers(0, 20, 300) % 20)
    market = Market("dao-vickrey", groups)
    values = rng.random(300)
    bids = np.round(values * rng.uniform(0.8, 1.2, 300), 1)
    revising = rng.random(300) < 0.5
    for policy in ("keep", "truthful"):
        r = exact_best_response(market, values, bids, revising=revising, tie_policy=policy,
                                rng=rng)
        want = numpy_path(market, values, bids, revising, policy == "keep")
        np.testing.assert_array_equal(r.strategies, want[0])
        np.testing.assert_array_equal(r.gain, want[1])
        np.testing.assert_array_equal(r.changed, want[2])


def test_single_group():
    groups = Groups.from_sizes([5])
    assert_bit_identical(Market("dao-vickrey", groups), np.array([1.0, 2, 3, 0, 1]),
                         np.array([0.0, 2, 2, 1, 3]), np.array([True, False, True, True, True]))
