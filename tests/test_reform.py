"""DAO re-formation: the counterfactual score against brute force, and the move rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dao_abm.mechanisms import PRESETS, VALUATIONS, Groups, preset, utilities
from dao_abm.model.counterfactual import counterfactual_utilities, ghost_utilities
from dao_abm.model.reform import LastRound, candidate_moves, mean_utility_scores, reform_daos
from tests.strategies import group_sizes

POSITIVE = st.integers(1, 40).map(lambda q: q / 4)  # quarters: exact sums, many ties
QUARTERS = st.integers(0, 40).map(lambda q: q / 4)  # with zeros


def brute_force(last: LastRound, mover: int, target: int) -> float:
    """The mover's utility with its label rewritten and the auction re-run from scratch
    (DAOs keep their order, which decides ties; an emptied DAO drops out)."""
    labels = last.labels.copy()
    labels[mover] = target
    labels = np.unique(labels, return_inverse=True)[1]
    outcome = last.mechanism.run(last.bids, Groups.from_labels(labels), last.valuation)
    return float(utilities(last.values, outcome)[mover])


@st.composite
def rounds(draw: st.DrawFn, zeros: bool = False) -> LastRound:
    """A small last round: 2-4 DAOs, any preset and valuation, bids and values in
    quarters (exact sums, many ties), with zeros when ``zeros``. Under VCG with unit-demand
    values over several items bids are distinct floats: there the assignment's choice among
    tied allocations depends on how many DAOs there are."""
    sizes = draw(group_sizes(min_groups=2, max_groups=4, max_size=3))
    labels = np.repeat(np.arange(len(sizes)), sizes)
    labels = labels[np.array(draw(st.permutations(range(labels.size))), dtype=np.int64)]
    valuation = draw(st.sampled_from(VALUATIONS))
    m = 1 if valuation == "single" else draw(st.integers(1, 3))
    shape = (labels.size,) if valuation == "single" else (labels.size, m)
    mechanism = preset(draw(st.sampled_from(list(PRESETS))))
    coupled = mechanism.upper == "vcg" and valuation == "unit-demand" and m > 1
    pool = st.floats(0.1, 10, allow_subnormal=False) if coupled else (
        QUARTERS if zeros else POSITIVE)
    grid = st.lists(pool, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)),
                    unique=coupled)
    bids = np.array(draw(grid)).reshape(shape)
    values = np.array(draw(grid)).reshape(shape)
    return LastRound(labels, values, bids, np.zeros(labels.size), mechanism, valuation)


def every_move(last: LastRound) -> tuple[np.ndarray, np.ndarray]:
    k = int(last.labels.max()) + 1
    movers, targets = np.divmod(np.arange(last.labels.size * k), k)
    other = targets != last.labels[movers]
    return movers[other], targets[other]


@settings(max_examples=120, deadline=None)
@given(rounds(zeros=True))
def test_counterfactual_equals_brute_force(last: LastRound) -> None:
    """Sub-markets (and, for VCG with unit-demand values, ghost seats) against re-running
    the auction once per move, zero bids and ties included."""
    movers, targets = every_move(last)
    got = counterfactual_utilities(last, movers, targets)
    want = [brute_force(last, i, j) for i, j in zip(movers, targets, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(rounds())
def test_ghost_seats_equal_brute_force_without_zero_bids(last: LastRound) -> None:
    movers, targets = every_move(last)
    want = [brute_force(last, i, j) for i, j in zip(movers, targets, strict=True)]
    np.testing.assert_allclose(ghost_utilities(last, movers, targets), want, rtol=1e-12,
                               atol=1e-9)


def test_counterfactual_hand_computed() -> None:
    """Mechanism 1, DAOs {0, 1} and {2}; bids = values = (3, 3, 5). WTP_0 = 2·3 = 6 > 5,
    so DAO 0 wins at 5 and members 0, 1 pay 2.5 each (utility 0.5).
    Member 2 moving into DAO 0: WTP = 3·3 = 9 against no other DAO: price 0, utility 5.
    Member 0 moving to DAO {2}: {2, 0} has WTP max(5, 2·3) = 6 against member 1's 3:
    price 3, both get access (2·3 >= 3) and pay 1.5; member 0's utility 3 - 1.5 = 1.5."""
    last = LastRound(np.array([0, 0, 1]), np.array([3.0, 3, 5]), np.array([3.0, 3, 5]),
                     np.array([0.5, 0.5, 0.0]), preset("dao-vickrey"), "single")
    got = counterfactual_utilities(last, np.array([2, 0]), np.array([0, 1]))
    np.testing.assert_allclose(got, [5.0, 1.5])
    # The proxy scores DAO 0 by its members' mean utility, 0.5, whatever the mover gets.
    np.testing.assert_allclose(mean_utility_scores(last, np.array([2]), np.array([0])), [0.5])


def test_candidates_respect_the_cap_and_skip_own_dao() -> None:
    labels = np.array([0, 0, 1, 2])
    edges = np.array([[0, 1], [0, 2], [0, 3], [3, 0], [2, 1]])
    movers, targets = candidate_moves(labels, edges, max_size=0)
    assert list(zip(movers, targets, strict=True)) == [(0, 1), (0, 2), (2, 0), (3, 0)]
    movers, targets = candidate_moves(labels, edges, max_size=2)  # DAO 0 is full
    assert list(zip(movers, targets, strict=True)) == [(0, 1), (0, 2)]


@pytest.mark.parametrize(("rule", "moved"), [("counterfactual", [3]),
                                             ("mean-utility", [2, 3])])
def test_a_loser_joins_the_winner_only_under_the_proxy(rule: str, moved: list[int]) -> None:
    """One item, Mechanism 1: DAO {0, 1} (values 4, 4) beats singletons {2} (0.1) and {3}
    (3) at price 3; its members pay 1.5 each, utility 2.5, the DAO's mean. Member 2 joining
    it: WTP stays 8, the price 3 and t = 2 (3·0.1 < 3): member 2 is excluded, utility 0,
    so it gains nothing; the proxy sees 2.5 > 0 and moves it. Member 3 joining: the price
    falls to 0.1, t = 3, it pays 1/30 for value 3: both rules move it."""
    labels = np.array([0, 0, 1, 2])
    values = np.array([4.0, 4, 0.1, 3])
    mech = preset("dao-vickrey")
    outcome = mech.run(values, Groups.from_labels(labels))
    last = LastRound(labels, values, values, utilities(values, outcome), mech, "single")
    np.testing.assert_allclose(last.utility, [2.5, 2.5, 0, 0])
    np.testing.assert_allclose(counterfactual_utilities(last, np.array([2, 3]),
                                                        np.array([0, 0])), [0, 3 - 0.1 / 3])
    edges = np.array([[2, 0], [3, 1]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    new = reform_daos(last, edges, rule=rule, max_size=0, rate=1.0,
                      rng=np.random.default_rng(0))
    assert [i for i in (2, 3) if new[i] == new[0]] == moved
    assert new[0] == new[1]


def test_the_size_cap_holds_under_the_counterfactual() -> None:
    """Five singletons with edges to DAO {0, 1}, all better off inside, cap 4: two move."""
    labels = np.array([0, 0, 1, 2, 3, 4, 5])
    values = np.array([4.0, 4, 3, 3, 3, 3, 3])
    mech = preset("dao-vickrey")
    outcome = mech.run(values, Groups.from_labels(labels))
    last = LastRound(labels, values, values, utilities(values, outcome), mech, "single")
    edges = np.array([[i, 0] for i in range(2, 7)])
    edges = np.concatenate([edges, edges[:, ::-1]])
    new = reform_daos(last, edges, rule="counterfactual", max_size=4, rate=1.0,
                      rng=np.random.default_rng(1))
    assert np.bincount(new).max() == 4 and (new == new[0]).sum() == 4
