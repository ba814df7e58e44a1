"""Epsilon (the largest gain from a unilateral deviation): hand-computed cases the value grid
missed, joint deviations, and exactness against brute force on the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dao_abm.deviations import Market
from dao_abm.deviations.breakpoints import below, member_candidates
from dao_abm.deviations.deviation import deviation_utilities
from dao_abm.deviations.payoffs import bid_payoffs
from dao_abm.learning import epsilon_kind, fixed_value_epsilon
from dao_abm.learning.epsilon import n_candidates
from dao_abm.mechanisms import Groups, TwoLevelMechanism
from dao_abm.model.model import DaoAuctionModel
from dao_abm.scenario import load_scenario
from dao_abm.scenario import mechanism_of as scenario_mechanism
from tests.strategies import instances

MODELS = Path(__file__).resolve().parent.parent / "models"
#: The learner's default relative grid: 41 points of [0, 1.5] (step 0.0375), and 1.
GRID = np.union1d(np.linspace(0.0, 1.5, 41), [1.0])


def grid_gain(market, values, bids):
    """The old epsilon: the best multiple of the value on ``GRID``."""
    return bid_payoffs(market, values, bids, GRID).gain


def test_crowdfund_breakpoint_the_value_grid_misses():
    """DAO {0, 1} (sum, pay your bid, shares pro rata) against member 2. Member 0 (value
    10) bids 2.625 = 10 · 0.2625, the lowest grid bid that still wins (2.625 + 5 > 7.3; the
    next one down, 2.25, loses). Its best deviation is the smallest winning bid, 7.3 - 5 =
    2.3 (the DAO has index 0 and wins the tie), a gain of 0.325 the grid cannot see."""
    market = Market("crowdfund", Groups.from_labels(np.array([0, 0, 1])))
    values = np.array([10.0, 5.0, 8.0])
    bids = np.array([10 * GRID[7], 5.0, 7.3])
    assert bids[0] == 2.625
    old = grid_gain(market, values, bids)
    new = fixed_value_epsilon(market, values, bids, grid=GRID).gain
    assert old[0] == 0.0
    assert new[0] == pytest.approx(2.625 - 2.3, abs=1e-12)
    # member 1 lowers 5 to 4.675 (grid: 4.6875); member 2 (value 8, pays its bid) needs
    # just above the DAO's 7.625 (grid: 7.8).
    assert old[1:] == pytest.approx([5 - 4.6875, 8 - 7.8])
    assert new[1:] == pytest.approx([5 - 4.675, 8 - 7.625], abs=1e-12)
    assert epsilon_kind(market, 1) == "exact"


def test_free_rider_deviation_above_grid_max():
    """Free rider (sum, Vickrey, everyone pays p / 10): member 0 (value 1, bid 0) tips its
    DAO of 10 over the competitor's 5 by bidding 5 - 9 · 0.25 = 2.75 > 1.5 · value, then
    pays 0.5: a gain of 0.5 above the value grid's reach."""
    labels = np.array([0] * 10 + [1])
    market = Market("split-the-bill", Groups.from_labels(labels))
    values = np.array([1.0] + [0.25] * 9 + [6.0])
    bids = np.array([0.0] + [0.25] * 9 + [5.0])
    assert grid_gain(market, values, bids)[0] == 0.0
    assert fixed_value_epsilon(market, values, bids, grid=GRID).gain[0] == pytest.approx(0.5)


def test_zero_value_member_gets_positive_candidates():
    """A member valuing an item at 0 still has bids above 0 among its candidates: the
    absolute range reaches 1.5 times the largest value, and the breakpoints the bid that
    ties the competitor (before, multiples of 0 were all 0)."""
    market = Market("split-the-bill", Groups.from_labels(np.array([0, 0, 1])))
    values = np.array([[0.0], [1.0], [4.0]])
    bids = np.array([[0.0], [1.0], [3.0]])
    cand = member_candidates(market, values, bids, GRID, 1.5)
    assert cand[0, 0].max() == pytest.approx(6.0)
    # the smallest bid with which the DAO ties member 2 (and wins the tie): x + 1 = 3
    tie = cand[0, 0][cand[0, 0] + 1.0 >= 3.0].min()
    assert tie == pytest.approx(2.0) and below(tie) + 1.0 < 3.0


def unit_demand_case():
    """Singletons. A values (10, 9) and bids (0, 9): it wins item 2 (second price 8), a
    utility of 1. Raising item 1 to 5 alone wins both (10 - 13); dropping item 2 alone
    gives 0. Both at once, (5, 0), win item 1 only: 10 - 5 = 5, a gain of 4."""
    market = Market("dao-vickrey", Groups.from_sizes([1, 1, 1]), "unit-demand")
    values = np.array([[10.0, 9.0], [5.0, 0.0], [0.0, 8.0]])
    bids = np.array([[0.0, 9.0], [5.0, 0.0], [0.0, 8.0]])
    return market, values, bids


def test_joint_deviation_unit_demand():
    market, values, bids = unit_demand_case()
    cand = member_candidates(market, values, bids, GRID, 1.5)
    one_at_a_time = deviation_utilities(market, values, bids, cand).max(axis=(-2, -1))
    current = market.utilities(values, bids)
    assert current[0] == 1.0 and one_at_a_time[0] == pytest.approx(1.0)
    assert grid_gain(market, values, bids)[0] == 0.0
    eps = fixed_value_epsilon(market, values, bids, grid=GRID)
    assert eps.gain[0] == pytest.approx(4.0)
    assert eps.kind == "exact"


def test_joint_deviation_bundled_additive():
    """Grand bundle, additive: A values (2, 2) and bids (8, 8), B bids 7. A wins the bundle
    and pays 7 for a worth of 4 (utility -3). Lowering one item leaves a bundle bid of 8 > 7,
    still winning; lowering both loses: a gain of 3 only a joint deviation finds."""
    market = Market("grand-bundle", Groups.from_sizes([1, 1]), "additive")
    values = np.array([[2.0, 2.0], [7.0, 0.0]])
    bids = np.array([[8.0, 8.0], [7.0, 0.0]])
    assert grid_gain(market, values, bids)[0] == 0.0
    eps = fixed_value_epsilon(market, values, bids, grid=GRID)
    assert eps.gain[0] == pytest.approx(3.0)
    assert eps.kind == "exact"


def test_joint_deviation_vcg_unit_demand():
    """VCG + equal split, unit demand, three singletons bidding A (3, 2), B (5, 4), C (0, 4).
    The best assignment gives B item 1 and C item 2 (5 + 4); B pays its externality
    (3 + 4) - 4 = 3 for a value of 1: utility -2. Dropping item 1 alone moves B to item 2
    at price 4 (value 3): -1. Dropping both, B gets nothing: 0, a gain of 2 only the joint
    search (full engine runs on the product of breakpoint candidates) finds."""
    market = Market("vcg-equal-split", Groups.from_sizes([1, 1, 1]), "unit-demand")
    values = np.array([[4.0, 2.0], [1.0, 3.0], [2.0, 2.0]])
    bids = np.array([[3.0, 2.0], [5.0, 4.0], [0.0, 4.0]])
    current = market.utilities(values, bids)
    cand = member_candidates(market, values, bids, GRID, 1.5)
    one = deviation_utilities(market, values, bids, cand).max(axis=(-2, -1))
    assert current[1] == -2.0 and one[1] == pytest.approx(-1.0)
    eps = fixed_value_epsilon(market, values, bids, grid=GRID)
    assert eps.gain[1] == pytest.approx(2.0)
    assert "joint over 2 items" in eps.kind


def test_absolute_bid_grid_is_among_the_candidates():
    """A rule on an absolute grid of bids (``learning.grid_scale = "absolute"``): epsilon
    tries those bids too, and its kind counts them."""
    market = Market(TwoLevelMechanism("max", "first-price", "max-equal-split"),
                    Groups.from_sizes([1, 2]))
    values, bids = np.array([[1.0], [0.6], [0.2]]), np.array([[0.0], [0.5], [0.1]])
    points = np.array([0.05, 0.1, 0.55])
    cand = member_candidates(market, values, bids, GRID, 1.5, bids_grid=points)
    assert np.isin(points, cand).all() and not np.isin(
        points, member_candidates(market, values, bids, GRID, 1.5)).all()
    scenario = load_scenario(MODELS / "split_the_bill.toml", [
        "population.n_members=40", "learning.grid_scale='absolute'",
        "learning.grid=[0.05, 0.1, 0.55]", "mechanism.aggregation='max'"])
    kind = DaoAuctionModel(scenario).learner.epsilon_kind
    k = n_candidates(Market(scenario_mechanism(scenario), Groups.from_sizes([1])), None)
    assert kind == f"lower-bound: grid of {k + 3} candidates per item"


def test_kinds():
    groups = Groups.from_sizes([2, 1])
    first = Market(TwoLevelMechanism("wtp", "first-price", "max-equal-split"), groups)
    assert epsilon_kind(Market("dao-vickrey", groups), 1) == "exact"
    assert epsilon_kind(Market("split-the-bill", groups, "additive"), 3) == "exact"
    assert epsilon_kind(Market("crowdfund", groups, "unit-demand"), 3) == "exact"
    assert epsilon_kind(Market("vcg-equal-split", groups, "unit-demand"), 2) == (
        "lower-bound: grid of 56 candidates per item one item at a time, and joint over 2 "
        "items on 0, the current bid, the value and the breakpoints (8 per item)")
    assert epsilon_kind(Market("vcg-equal-split", groups, "unit-demand"), 5) == (
        "lower-bound: grid of 56 candidates per item, one item at a time")
    assert epsilon_kind(first, 1, bids_grid=np.arange(19) / 20) == (
        "lower-bound: grid of 91 candidates per item")
    assert epsilon_kind(first, 1, samples=1, shading_grid=42) == (
        "lower-bound: grid of 42 shading factors, this round's values")
    assert epsilon_kind(first, 1) == "lower-bound: grid of 72 candidates per item"
    assert epsilon_kind(first, 2, samples=256, shading_grid=42) == (
        "lower-bound: grid of 42 shading factors, joint over 2 items, mean utility over 256 "
        "sampled value profiles")
    assert epsilon_kind(Market("dao-vickrey", groups, "unit-demand"), 9) == (
        "lower-bound: grid of 56 candidates per item, one item at a time")


# --- brute force on the engine ------------------------------------------------------------

#: Deviations tried by brute force: every 1/64 in [0, 45] (bids are quarters in [0, 20]).
FINE = np.arange(0, 45 * 64 + 1) / 64


def brute_force_single(market: Market, values: np.ndarray, bids: np.ndarray) -> np.ndarray:
    """``(n,)`` best gain over ``FINE`` for every member, one engine call per member."""
    n = values.size
    current = market.utilities(values, bids)
    gain = np.empty(n)
    for i in range(n):  # a test oracle: plain and readable
        profiles = np.repeat(bids[None], FINE.size, axis=0)
        profiles[:, i] = FINE
        best = market.utilities(np.broadcast_to(values, profiles.shape), profiles)[:, i].max()
        gain[i] = max(best - current[i], 0.0)
    return gain


single_instances = instances(valuations=("single",), exact=True, max_groups=4, max_size=3)


@settings(max_examples=60, deadline=None)
@given(inst=single_instances, data=st.data())
def test_exact_epsilon_equals_brute_force(inst, data):
    """Constant price once the bid wins (Mechanism 1, free rider): the exact epsilon equals
    the best of a fine grid. Pay-your-bid (crowdfund): it is at least that, and above it by
    less than the grid step (the smallest winning bid may fall between grid points)."""
    values = data.draw(st.lists(st.integers(0, 80), min_size=inst.groups.n_members,
                                max_size=inst.groups.n_members)).copy()
    values = np.array(values, dtype=np.float64) / 4
    for name in ("dao-vickrey", "split-the-bill", "crowdfund"):
        market = Market(name, inst.groups)
        eps = fixed_value_epsilon(market, values, inst.bids, grid=GRID)
        assert eps.kind == "exact"
        brute = brute_force_single(market, values, inst.bids)
        slack = 1 / 64 if name == "crowdfund" else 1e-9
        assert (eps.gain >= brute - 1e-9).all(), name
        assert (eps.gain <= brute + slack + 1e-9).all(), name


@settings(max_examples=40, deadline=None)
@given(inst=single_instances, data=st.data())
def test_lower_bound_beats_the_value_grid(inst, data):
    """Where epsilon is a lower bound, it is at least the value grid's; where the outcome is
    decided by the competitor's bid alone (``max`` aggregation, equal split among all), it
    is also at least the best bid of a fine grid on the engine."""
    values = np.array(data.draw(st.lists(st.integers(0, 80), min_size=inst.groups.n_members,
                                         max_size=inst.groups.n_members)), dtype=float) / 4
    for mech, brute in ((TwoLevelMechanism("wtp", "first-price", "max-equal-split"), False),
                        (TwoLevelMechanism("max", "second-price", "equal-split-all"), True),
                        (TwoLevelMechanism("sum", "second-price", "max-equal-split"), False)):
        market = Market(mech, inst.groups)
        eps = fixed_value_epsilon(market, values, inst.bids, grid=GRID)
        assert eps.kind.startswith("lower-bound")
        assert (eps.gain >= grid_gain(market, values, inst.bids) - 1e-12).all()
        if brute:
            assert (eps.gain >= brute_force_single(market, values, inst.bids) - 1e-9).all()


def test_first_price_equal_share_of_the_own_bid():
    """WTP, first price, max-equal-split; one DAO alone (price = its own WTP). Member 0 bids
    0.25, member 1 (value 2.75) bids 0 and gets nothing. Bidding 0.125 = 0.25 / 2 keeps the
    WTP at 0.25 and splits it: 2.75 - 0.125 = 2.625. The level L / s with L the DAO's own
    bid finds it; multiples of the value (step 0.103) pay more."""
    market = Market(TwoLevelMechanism("wtp", "first-price", "max-equal-split"),
                    Groups.from_sizes([2]))
    values, bids = np.array([0.0, 2.75]), np.array([0.25, 0.0])
    assert grid_gain(market, values, bids)[1] < 2.6
    assert fixed_value_epsilon(market, values, bids, grid=GRID).gain[1] == pytest.approx(2.625)


@settings(max_examples=20, deadline=None)
@given(inst=instances(valuations=("unit-demand",), exact=True, max_groups=3, max_size=2,
                      max_items=2))
def test_joint_unit_demand_equals_brute_force(inst):
    """Mechanism 1 item by item with unit-demand members: the joint epsilon equals the best
    of the product grid of quarters (prices do not depend on a winning bid)."""
    bids = inst.bids
    values = bids[::-1].copy()  # any fixed values
    market = Market("dao-vickrey", inst.groups, "unit-demand")
    eps = fixed_value_epsilon(market, values, bids, grid=GRID)
    # Quarters up to past every threshold a DAO of two can reach (twice the top bid): the
    # winning region of a tied group bid starts just above it (lowest index wins ties).
    coarse = np.arange(0, 4 * (2 * bids.max() + 1) + 1) / 4
    m = bids.shape[1]
    pairs = np.stack(np.meshgrid(*[coarse] * m, indexing="ij"), -1).reshape(-1, m)
    current = market.utilities(values, bids)
    for i in range(bids.shape[0]):
        profiles = np.repeat(bids[None], pairs.shape[0], axis=0)
        profiles[:, i] = pairs
        best = market.utilities(np.broadcast_to(values, profiles.shape), profiles)[:, i].max()
        assert eps.gain[i] == pytest.approx(max(best - current[i], 0.0), abs=1e-9)


def test_joint_unit_demand_gain_past_a_tied_group_bid():
    """Hand-worked (found by hypothesis): DAO 1 = members 0, 1 bidding 10.5 and 10.75 bids
    max(10.75, 2 x 10.5) = 21; member 3 (value 10.75) sits in DAO 2 beside a bid of 10.5.
    Bidding 21 ties DAO 2 with DAO 1 and loses (lowest index wins); bidding above 21 wins at
    Vickrey price 21, which the maximum equal split shares between both members of DAO 2:
    member 3 pays 10.5 and gains 10.75 - 10.5 = 0.25 over losing with its bid of 0."""
    groups = Groups.from_labels(np.array([1, 1, 2, 2, 0]))
    bids = np.array([[10.5], [10.75], [10.5], [0.0], [0.0]])
    values = bids[::-1].copy()
    market = Market("dao-vickrey", groups, "unit-demand")
    eps = fixed_value_epsilon(market, values, bids, grid=GRID)
    assert eps.gain[3] == pytest.approx(0.25, abs=1e-12)
    deviated = bids.copy()
    deviated[3] = 21.25
    assert market.utilities(values, deviated)[3] == pytest.approx(0.25, abs=1e-12)
    deviated[3] = 21.0
    assert market.utilities(values, deviated)[3] == 0.0
