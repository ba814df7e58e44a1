"""Best responses: exact (Mechanism 1/2), over grids, shading, tie policies, dynamics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import memberships

from dao_abm.deviations import Market, deviation_utilities
from dao_abm.learning import (
    TIE_POLICIES,
    BestResponse,
    best_response,
    best_response_shading,
    dynamics,
)
from dao_abm.mechanisms import Groups, TwoLevelMechanism, utilities

FIRST_PRICE = TwoLevelMechanism("wtp", "first-price", "max-equal-split")
MAX_SECOND_PRICE = TwoLevelMechanism("max", "second-price", "equal-split-all")


def everyone(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


@pytest.mark.parametrize("policy", TIE_POLICIES)
@given(groups=memberships(max_groups=4, max_size=4), n_items=st.sampled_from([0, 2]),
       seed=st.integers(0, 2**32 - 1))
def test_exact_best_response_attains_current_plus_gain(policy, groups, n_items, seed):
    """Each revising member's new bid, played alone, earns its current utility + gain,
    and no grid bid earns more."""
    rng = np.random.default_rng(seed)
    shape = (groups.n_members,) if n_items == 0 else (groups.n_members, n_items)
    values, bids = rng.exponential(1.0, shape), rng.exponential(1.0, shape)
    market = Market("dao-vickrey", groups, "single" if n_items == 0 else "additive")
    revision = best_response(market, values, bids, revising=everyone(groups.n_members),
                             tie_policy=policy, rng=rng)
    current = market.utilities(values, bids)
    for i in range(groups.n_members):
        profile = bids.copy()
        profile[i] = revision.strategies[i]
        assert market.utilities(values, profile)[i] == pytest.approx(
            current[i] + revision.gain[i], abs=1e-9)
    on_grid = best_response(market, values, bids, revising=everyone(groups.n_members),
                            grid=np.arange(81) / 20, rng=rng)
    assert (revision.gain >= on_grid.gain - 1e-9).all()


@pytest.mark.parametrize(("mechanism", "grid"), [
    ("dao-vickrey", None), (MAX_SECOND_PRICE, None), ("dao-vickrey", np.arange(41) / 20),
])
@pytest.mark.parametrize("protocol", ["simultaneous", "sequential"])
def test_second_price_dynamics_end_truthful(mechanism, grid, protocol):
    """Individual bidders, fixed values: best-response dynamics under the "truthful" tie
    policy reach truthful bidding, a Nash equilibrium (epsilon = 0)."""
    rng = np.random.default_rng(11)
    n = 6
    market = Market(mechanism, Groups.from_sizes([1] * n))
    values, bids = rng.random(n), 2 * rng.random(n)
    states = list(dynamics(market, values, bids, rule=BestResponse(tie_policy="truthful"),
                           protocol=protocol, rounds=2 * n, rng=rng, grid=grid))
    assert_allclose(states[-1].strategies, values, rtol=0, atol=1e-12)
    final = best_response(market, values, states[-1].strategies, revising=everyone(n),
                          grid=grid, rng=rng)
    assert final.epsilon <= 1e-12
    assert not final.changed.any()


@pytest.mark.parametrize("n", [2, 3, 4])
def test_first_price_symmetric_best_response_is_the_bne(n):
    """Uniform [0, 1] values, n bidders, first price: the symmetric equilibrium shades by
    (n-1)/n (Vickrey 1961). Against others shading by (n-1)/n, the best factor on a grid of
    step 0.05 is within one step; dynamics from truthful bidding end near it."""
    rng = np.random.default_rng(100 + n)
    market = Market(FIRST_PRICE, Groups.from_sizes([1] * n))
    samples = rng.random((10_000, n))
    grid = np.arange(21) / 20
    equilibrium = (n - 1) / n
    revision = best_response_shading(
        market, samples, np.full(n, equilibrium), revising=everyone(n), alpha_grid=grid,
        tie_policy="truthful", rng=rng,
    )
    assert np.abs(revision.strategies - equilibrium).max() <= 0.05 + 1e-12
    states = list(dynamics(market, samples, np.ones(n), rule="best-response",
                           protocol="simultaneous", rounds=6, rng=rng, grid=grid))
    assert np.abs(states[-1].strategies - equilibrium).max() <= 0.05 + 1e-12
    assert states[-1].epsilon < 0.01


def test_shading_takes_fresh_samples_each_round():
    rng = np.random.default_rng(5)
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    draws = []

    def fresh(t, gen):
        draws.append(t)
        return gen.random((2_000, 2))

    states = list(dynamics(market, fresh, np.ones(2), rule="best-response",
                           protocol="simultaneous", rounds=4, rng=rng))
    assert draws == [0, 1, 2, 3]
    assert np.abs(states[-1].strategies - 0.5).max() <= 0.1


def test_equal_split_shading_is_free_not_profitable():
    """split-the-bill (sum / second price / equal split among all): the price share does not
    depend on one's own bid, so the least bid that keeps the group winning is a best
    response, far below value; a member whose share exceeds its value strictly gains by
    bidding 0 when that makes the group lose."""
    rng = np.random.default_rng(0)
    values = np.array([6.0, 3.0, 2.0, 1.0, 9.0])  # G0 = first four, G1 = [9]
    market = Market("split-the-bill", Groups.from_sizes([4, 1]))
    lowest = best_response(market, values, values, revising=everyone(5), tie_policy="lowest",
                           grid=np.arange(201) / 100, rng=rng)
    assert (lowest.strategies[:4] < values[:4]).all()
    assert lowest.gain[:3] == pytest.approx(0.0)  # shading is free, not profitable
    # Now G0's sum 9 ties G1's 9 and G0 wins the tie; each pays 9/4 = 2.25. Member 3
    # (value 1) pays more than its value and can make G0 lose by bidding below 1.
    values2 = np.array([3.0, 3.0, 2.0, 1.0, 9.0])
    truthful = best_response(market, values2, values2, revising=everyone(5),
                             tie_policy="truthful", rng=rng)
    assert truthful.strategies[3] < values2[3]  # member 3 strictly prefers losing
    assert truthful.gain[3] == pytest.approx(9 / 4 - 1)


def test_crowdfund_members_shade_strictly():
    """crowdfund (sum / first price / pro rata): every winning member pays its own bid,
    so it strictly gains by shading as far as the group still wins."""
    values = np.array([4.0, 3.0, 2.0, 6.0])
    market = Market("crowdfund", Groups.from_sizes([3, 1]))
    revision = best_response(market, values, values, revising=everyone(4),
                             grid=np.arange(101) / 50, tie_policy="truthful",
                             rng=np.random.default_rng(0))
    assert (revision.strategies[:3] < values[:3]).all()
    assert (revision.gain[:3] > 0).all()


class TestTiePoliciesExact:
    """dao-vickrey, G0 = members 0, 1 and G1 = member 2, values [5, 1, 4]. Critical bids
    depend on the others' *current* bids. At bids [5, 1, 4]: WTP 5 vs 4, so G0 faces
    p = 4. Member 0 (partner bids 1, 2·1 < 4): c = 4, best responses [4, inf). Member 1
    (partner bids 5, 2·5 >= 4): c = 2 > 1, best responses [0, 2). Member 2 faces 5 and
    loses ties to G0, so it needs a bid > 5: best responses [0, 5]."""

    values = np.array([5.0, 1.0, 4.0])
    market = Market("dao-vickrey", Groups.from_sizes([2, 1]))

    def revise(self, bids, policy, seed=0):
        return best_response(self.market, self.values, np.asarray(bids, float),
                             revising=everyone(3), tie_policy=policy,
                             rng=np.random.default_rng(seed))

    def test_truthful(self):
        assert_array_equal(self.revise([4.5, 1.5, 4.0], "truthful").strategies, self.values)

    def test_keep(self):
        kept = self.revise([4.5, 1.5, 4.0], "keep")
        assert_array_equal(kept.strategies, [4.5, 1.5, 4.0])
        assert not kept.changed.any()
        moved = self.revise([3.0, 1.0, 4.0], "keep")  # member 0: 3 < c = 4
        assert_array_equal(moved.strategies, [5.0, 1.0, 4.0])
        assert_array_equal(moved.changed, [True, False, False])
        moved = self.revise([5.0, 2.5, 4.0], "keep")  # member 1: 2.5 >= c = 2 > 1
        assert_array_equal(moved.strategies, [5.0, 1.0, 4.0])
        assert_array_equal(moved.changed, [False, True, False])

    def test_lowest(self):
        assert_array_equal(self.revise(self.values, "lowest").strategies, [4.0, 0.0, 0.0])

    def test_lowest_beats_a_lost_tie_by_one_ulp(self):
        market = Market("dao-vickrey", Groups.from_sizes([2, 1]))
        values = np.array([5.0, 1.0, 6.0])  # member 2 now wants the item: p = 5
        revision = best_response(market, values, np.array([5.0, 1.0, 0.0]),
                                 revising=everyone(3), tie_policy="lowest",
                                 rng=np.random.default_rng(0))
        bid = revision.strategies[2]
        assert bid == np.nextafter(5.0, 6.0)
        assert market.run(np.array([5.0, 1.0, bid])).access[0, 2]

    def test_random_is_uniform_on_the_best_responses_and_reproducible(self):
        draws = np.array([self.revise(self.values, "random", s).strategies for s in range(200)])
        assert (draws[:, 0] >= 4).all() and (draws[:, 0] <= 10).all()
        assert (draws[:, 1] < 2).all() and (draws[:, 2] <= 5).all()
        assert draws[:, 0].std() > 1  # spread out, not a point
        assert_array_equal(self.revise(self.values, "random", 7).strategies, draws[7])

    def test_random_draws_within_the_cap(self):
        """The cap grid_max · value: member 0's best responses [4, inf) become [4, 6];
        member 2's [0, 5] become [0, 4.8]; a member valuing the item at 0 bids 0."""
        values = np.array([5.0, 0.0, 4.0])
        for seed in range(100):
            bids = best_response(self.market, values, np.array([5.0, 1.0, 4.0]),
                                 revising=everyone(3), tie_policy="random", grid_max=1.2,
                                 rng=np.random.default_rng(seed)).strategies
            assert 4 <= bids[0] <= 6 and bids[1] == 0 and 0 <= bids[2] <= 4.8


class TestCapAtAGroupBidTie:
    """G0 = member 0 bids 6 and wins ties; G1 = members 1-4, others bidding 2.5, 1.5, 1.5.
    Member 4 (value 2) joins a split of 4 at c = 6/4 = 1.5 < 2, but with any bid in
    [1.5, 6] G1's WTP is exactly 6 = p (4 · 1.5) and G1 loses the tie: its only best
    responses are above 6 = 3 · value (it then pays 1.5). Capped at grid_max = 1.5 no bid
    wins, so every capped bid is equally good."""

    market = Market("dao-vickrey", Groups.from_sizes([1, 4]))
    values = np.array([6.0, 2.5, 1.5, 1.5, 2.0])
    bids = np.array([6.0, 2.5, 1.5, 1.5, 1.0])

    def revise(self, policy, grid_max, seed=0):
        revising = np.array([False, False, False, False, True])
        return best_response(self.market, self.values, self.bids, revising=revising,
                             tie_policy=policy, grid_max=grid_max,
                             rng=np.random.default_rng(seed))

    def test_unrestricted_best_response_is_above_six(self):
        for policy in ("keep", "truthful", "lowest"):
            revision = self.revise(policy, None)
            assert revision.strategies[4] == np.nextafter(6.0, 7.0)
            assert revision.gain[4] == 0.5
        won = self.market.run(np.array([6.0, 2.5, 1.5, 1.5, np.nextafter(6.0, 7.0)]))
        assert won.access[0, 4] and won.member_payments[4] == 1.5

    def test_capped_policies_choose_among_the_capped_bids(self):
        want = {"keep": 1.0, "truthful": 2.0, "lowest": 0.0}
        for policy, bid in want.items():
            revision = self.revise(policy, 1.5)
            assert revision.strategies[4] == bid
            assert revision.changed[4] == (bid != 1.0)
            assert revision.gain[4] == 0.5  # the unrestricted gain, still reported
        draws = [self.revise("random", 1.5, seed).strategies[4] for seed in range(50)]
        assert 0 <= min(draws) and max(draws) <= 3.0 and np.std(draws) > 0.5


class TestTiePoliciesGrid:
    """Individual bidders, max / second price / equal split, values [3, 5], bids [1, 7].
    Member 0 faces 7 (winning ties): any bid below 7 is best (losing beats paying 7).
    Member 1 faces 1 and loses ties to member 0: any bid above 1 is best.
    Grid: multiples 0, 0.05, ..., 2 of the value."""

    values = np.array([3.0, 5.0])
    market = Market(MAX_SECOND_PRICE, Groups.from_sizes([1, 1]))

    def revise(self, bids, policy, seed=0):
        return best_response(self.market, self.values, np.asarray(bids, float),
                             revising=everyone(2), grid=np.arange(41) / 20,
                             tie_policy=policy, rng=np.random.default_rng(seed))

    def test_truthful_lowest_keep(self):
        assert_array_equal(self.revise([1.0, 7.0], "truthful").strategies, [3.0, 5.0])
        assert_allclose(self.revise([1.0, 7.0], "lowest").strategies, [0.0, 0.25 * 5])
        assert_array_equal(self.revise([1.234, 7.0], "keep").strategies, [1.234, 7.0])
        # at [7.5, 7] member 0 wins and pays 7 > 3; member 1 is right to lose
        assert_array_equal(self.revise([7.5, 7.0], "keep").strategies, [3.0, 7.0])

    def test_random_draws_only_best_grid_points(self):
        for seed in range(30):
            bids = self.revise([1.0, 7.0], "random", seed).strategies
            assert bids[0] < 7 and bids[1] > 1
            assert np.isclose(bids / self.values * 20, np.round(bids / self.values * 20)).all()


def test_only_revising_members_move_but_everyone_reports_a_gain():
    rng = np.random.default_rng(2)
    market = Market("dao-vickrey", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    mask = np.array([True, False, True, False, False, False])
    revision = best_response(market, values, bids, revising=mask, tie_policy="truthful",
                             rng=rng)
    assert_array_equal(revision.strategies[~mask], bids[~mask])
    everybody = best_response(market, values, bids, revising=everyone(6), rng=rng)
    assert_array_equal(revision.gain, everybody.gain)


def test_gain_matches_deviation_utilities_on_a_grid():
    rng = np.random.default_rng(4)
    market = Market("crowdfund", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    grid = np.arange(41) / 20
    revision = best_response(market, values, bids, revising=everyone(6), grid=grid, rng=rng)
    cand = values[:, None] * np.union1d(grid, [0, 1])
    best = deviation_utilities(market, values, bids, cand).max(axis=1)
    current = utilities(values, market.run(bids))
    assert_allclose(revision.gain, np.maximum(best - current, 0), atol=1e-12)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"tie_policy": "nearest"}, "tie policy"),
    ({"revising": np.ones(2, bool)}, "revising"),
    ({"revising": np.ones(3)}, "revising"),
])
def test_bad_arguments_raise(kwargs, match):
    market = Market("dao-vickrey", Groups.from_sizes([2, 1]))
    args = {"revising": everyone(3), "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(ValueError, match=match):
        best_response(market, np.ones(3), np.ones(3), **args)


def test_alpha_grid_must_hold_one():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    with pytest.raises(ValueError, match="contains 1"):
        best_response_shading(market, np.ones((5, 2)), np.ones(2), revising=everyone(2),
                              alpha_grid=np.array([0.2, 0.5]), rng=np.random.default_rng(0))
