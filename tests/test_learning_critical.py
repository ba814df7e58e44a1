"""Critical bids of Mechanism 1 (Section 3.1, Theorem 3.1) against brute force.

For every member the engine is run on a fine grid of its own bids (all others fixed): the
utility must be 0 below the threshold theta and v - c above it, c being the critical bid
p / s_max recomputed here by a naive loop straight from the paper's definitions.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import instances, memberships

from dao_abm.deviations import Market, critical_bids
from dao_abm.learning import best_response
from dao_abm.mechanisms import Groups, utilities


def naive_critical(bids: np.ndarray, groups: Groups, i: int) -> float:
    """c_i = p / max{s : s·a_{s-1} >= p}, others of i's group sorted high to low, a_0 = inf."""
    j = groups.labels[i]
    wtp = [max(s * b for s, b in enumerate(sorted(bids[groups.labels == g])[::-1], 1))
           for g in range(groups.n_groups)]
    p = max((w for g, w in enumerate(wtp) if g != j), default=0.0)
    others = sorted(np.delete(bids, i)[np.delete(groups.labels, i) == j])[::-1]
    a = [np.inf, *others]
    s_max = max(s for s in range(1, len(a) + 1) if s * a[s - 1] >= p)
    return p / s_max


def engine_utility_curve(market, bids, i, grid, value):
    """Utility of member i (value ``value``) bidding each point of ``grid``."""
    profile = np.repeat(bids[None], grid.size, axis=0)
    profile[:, i] = grid
    values = np.where(np.arange(bids.size) == i, value, 0.0)
    return utilities(values, market.run(profile))[:, i]


@given(memberships(max_groups=4, max_size=4), st.data())
def test_critical_bids_match_brute_force(groups, data):
    n = groups.n_members
    bids = np.array(data.draw(st.lists(st.floats(0, 10, allow_subnormal=False),
                                       min_size=n, max_size=n)))
    market = Market("dao-vickrey", groups)
    theta, price = critical_bids(bids[None], groups, market.slot_index)
    theta, price = theta[0], price[0]
    top = 1.5 * max(bids.max(), theta.max(), 1.0)
    for i in range(n):
        assert price[i] == pytest.approx(naive_critical(bids, groups, i), rel=1e-12, abs=1e-12)
        grid = np.concatenate([np.linspace(0, top, 301), [theta[i], np.nextafter(theta[i], 0)]])
        grid = grid[grid >= 0]
        value = 2 * top  # a keen member, so access is visible in the utility
        u = engine_utility_curve(market, bids, i, grid, value)
        assert_allclose(u, np.where(grid >= theta[i], value - price[i], 0.0), rtol=0, atol=1e-9)


@given(instances(valuations=("single",), max_groups=5, max_size=5, exact=True))
def test_thresholds_are_float_exact_even_with_ties(inst):
    """Quarter-grid bids tie often, between members and between groups: the engine grants
    access at exactly theta, not one ulp below, and charges the critical bid."""
    market = Market("dao-vickrey", inst.groups)
    theta, price = critical_bids(inst.bids[None], inst.groups, market.slot_index)
    n = inst.groups.n_members
    at = np.repeat(inst.bids[None], n, axis=0)
    at[np.arange(n), np.arange(n)] = theta[0]
    below = at.copy()
    below[np.arange(n), np.arange(n)] = np.maximum(np.nextafter(theta[0], -np.inf), 0)
    got, miss = market.run(at), market.run(below)
    assert got.access[np.arange(n), 0, np.arange(n)].all()
    assert_array_equal(got.lot_payments[np.arange(n), 0, np.arange(n)], price[0])
    lowered = below[np.arange(n), np.arange(n)] < theta[0]
    assert not miss.access[np.arange(n), 0, np.arange(n)][lowered].any()


def test_equal_bids_get_equal_critical_bids():
    groups = Groups.from_sizes([4, 1])
    bids = np.array([3.0, 2.0, 2.0, 2.0, 5.0])
    market = Market("dao-vickrey", groups)
    theta, price = critical_bids(bids[None], groups, market.slot_index)
    assert price[0, 1] == price[0, 2] == price[0, 3]
    assert theta[0, 1] == theta[0, 2] == theta[0, 3]
    # WTP = max(3, 4, 6, 8) = 8 beats 5; a member bidding 2 joins a 4-way split: 5/4.
    assert_allclose(price[0], [5 / 4] * 4 + [8.0])


def test_rows_are_independent():
    groups = Groups.from_sizes([3, 2, 1])
    market = Market("dao-vickrey", groups)
    rows = np.random.default_rng(0).random((5, 6)) * 10
    theta, price = critical_bids(rows, groups, market.slot_index)
    for r in range(5):
        t1, p1 = critical_bids(rows[r : r + 1], groups, market.slot_index)
        assert_array_equal(theta[r], t1[0])
        assert_array_equal(price[r], p1[0])


@given(memberships(max_groups=5, max_size=5), st.sampled_from([0, 1, 3]),
       st.integers(0, 2**32 - 1))
def test_truthful_profile_has_zero_epsilon(groups, n_items, seed):
    """Theorem 3.1 / 4.1: with continuous values (no ties) truthful bidding is a best
    response, so epsilon = 0, exactly and over a grid."""
    rng = np.random.default_rng(seed)
    shape = (groups.n_members,) if n_items == 0 else (groups.n_members, n_items)
    values = rng.exponential(1.0, size=shape)
    market = Market("dao-vickrey", groups, "single" if n_items == 0 else "additive")
    mask = np.ones(groups.n_members, dtype=bool)
    exact = best_response(market, values, values, revising=mask, rng=rng)
    grid = best_response(market, values, values, revising=mask, grid=np.arange(41) / 20, rng=rng)
    assert exact.gain.max() <= 1e-9
    assert grid.gain.max() <= 1e-9


def test_group_bid_ties_can_break_truthfulness_and_the_gain_says_so():
    """G0 = [0, 1, 1] and G1 = [0, 0, 1, 1.25] both bid WTP 2; G0 wins the tie. Member 6
    (value 1.25) can bid above 2, win, and share 2 with the member bidding 1: gain 0.25.
    The paper breaks ties arbitrarily; the engine's tie rule makes this profile
    non-truthful, and the reported gain is what the engine pays out."""
    groups = Groups.from_sizes([3, 4])
    values = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.25])
    market = Market("dao-vickrey", groups)
    revision = best_response(market, values, values, revising=np.ones(7, bool),
                             tie_policy="lowest", rng=np.random.default_rng(0))
    assert_allclose(revision.gain, [0, 0, 0, 0, 0, 0, 0.25])
    assert revision.strategies[6] == np.nextafter(2.0, 3.0)  # the least bid beating the tie
    deviated = values.copy()
    deviated[6] = revision.strategies[6]
    assert utilities(values, market.run(deviated))[6] == pytest.approx(0.25)


def test_truthful_epsilon_on_a_large_mixed_market():
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 51, size=400)
    groups = Groups.from_labels(rng.permutation(np.repeat(np.arange(sizes.size), sizes)))
    values = rng.random((groups.n_members, 2))
    market = Market("dao-vickrey", groups, "additive")
    revision = best_response(market, values, values, revising=np.ones(len(values), bool),
                             rng=rng)
    assert revision.gain.max() <= 1e-9
    assert not revision.changed.any()


@pytest.mark.parametrize("n_items", [0, 3])
@pytest.mark.parametrize("bid_grid", [False, True])
def test_slot_order_best_responses_match_the_critical_bids(n_items, bid_grid):
    """"keep" and "truthful" are computed in the sorted slot order (no theta for members
    who stay); they must equal the rule applied to ``critical_bids`` member by member, here
    on a padded layout (more than 64 distinct DAO sizes) with ties."""
    rng = np.random.default_rng(n_items + 7 * bid_grid)
    sizes = rng.integers(1, 150, size=90)
    groups = Groups.from_labels(rng.permutation(np.repeat(np.arange(sizes.size), sizes)))
    assert groups.layout_pad is not None
    shape = (groups.n_members,) if n_items == 0 else (groups.n_members, n_items)
    values = rng.random(shape)
    bids = values * rng.uniform(0.5, 1.5, shape)
    if bid_grid:
        values, bids = np.round(values * 8) / 8, np.round(bids * 8) / 8
    market = Market("dao-vickrey", groups, "single" if n_items == 0 else "additive")
    v, b = (values[:, None], bids[:, None]) if n_items == 0 else (values, bids)
    theta, price = critical_bids(np.ascontiguousarray(b.T), groups, market.slot_index)
    theta, surplus = theta.T, v - price.T

    def best(x):
        return np.where(surplus > 0, x >= theta, (surplus == 0) | (x < theta))

    below = np.maximum(np.nextafter(theta, -np.inf), 0.0)
    truthful = np.where(best(v), v, np.where(surplus > 0, theta, below))
    gain = (np.maximum(surplus, 0) - np.where(b >= theta, surplus, 0)).sum(axis=1)
    revising = rng.random(groups.n_members) < 0.7
    for policy, want in (("truthful", truthful), ("keep", np.where(best(b), b, truthful))):
        got = best_response(market, values, bids, revising=revising, tie_policy=policy,
                            rng=rng)
        want = np.where(revising[:, None], want, b).reshape(bids.shape)
        assert_array_equal(got.strategies, want)
        assert_array_equal(got.gain, gain)
