"""``dao_abm.noregret``: the compiled auction equals the engine, the compiled loop equals the
registered Hedge and EXP3 rules step for step, and what they learn (small, fast versions of
``dao-abm paper no-regret-truthful``)."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.errors import DaoAbmError
from dao_abm.learning import Market, deviation_utilities
from dao_abm.mechanisms import Groups
from dao_abm.noregret import FACTORS, Setting, run, run_reference
from dao_abm.noregret.auction import MECHANISMS, deviation_table
from dao_abm.paper.no_regret_truthful import first_reach, hedge_rounds, theory

SIZES = [(1, 1), (3, 2), (4, 1, 2), (5, 5)]


def _starts(sizes) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("sizes", SIZES)
def test_compiled_auction_equals_the_engine(mechanism: str, sizes) -> None:
    """Every member's utility for every candidate bid, against the library's
    ``deviation_utilities`` (the engine): continuous profiles, and dyadic ones full of ties
    between member bids, group bids and zero bids. Split-the-bill's group sums may differ
    from the engine's by an ulp (summation order); everything else is bit-equal."""
    rng = np.random.default_rng(sum(sizes))
    market, n = Market(mechanism, Groups.from_sizes(list(sizes))), sum(sizes)
    continuous = (rng.random((150, n)), rng.random((150, n)), rng.random((150, n, 6)))
    dyadic = (rng.integers(0, 5, (150, n)) / 4, rng.integers(0, 5, (150, n)) / 4,
              np.broadcast_to(np.arange(9) / 8, (150, n, 9)).copy())
    for values, bids, cand in (continuous, dyadic):
        got = deviation_table(MECHANISMS.index(mechanism), values, bids, cand, _starts(sizes))
        want = deviation_utilities(market, values, bids, cand)
        if mechanism == "split-the-bill":
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("rule", ["hedge", "exp3"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("sizes,factors", [((1, 1), FACTORS), ((3, 2), (0.0, 0.5, 1.0)),
                                           ((2, 2, 1), FACTORS)])
def test_compiled_loop_is_the_registered_rule(rule, mechanism, sizes, factors) -> None:
    """The compiled loop against the registered rule object (``Hedge.learn`` /
    ``Exp3.learn`` on the library's payoffs, the same draws), after 1, 2, 7 and 150 rounds:
    the same factors played next, the same weights (to float rounding). With the grid
    {0, 0.5, 1} zero bids make group bids tie, decided by the engine's tie rule."""
    for rounds in (1, 2, 7, 150):
        setting = Setting(mechanism, sizes, rule, factors=factors, sessions=3, rounds=rounds,
                          seed=11)
        trace = run(setting)
        choice, weights = run_reference(setting)
        np.testing.assert_array_equal(trace.choice, choice)
        np.testing.assert_allclose(trace.weights, weights, rtol=1e-12, atol=1e-15)


def test_hedge_hand_worked_first_round() -> None:
    """One round of one session, two single bidders under dao-vickrey (second price),
    grid {0.5, 1}: Hedge's cumulative utilities in units of the value are the second-price
    payoffs of each factor, and its weights their softmax with η = 0.5."""
    setting = Setting("dao-vickrey", (1, 1), "hedge", factors=(0.5, 1.0), sessions=1,
                      rounds=1, seed=3)
    gen = np.random.default_rng(np.random.SeedSequence(3).spawn(1)[0])
    start = gen.integers(2, size=2)
    v = gen.random((1000, 2))[0]
    bids = np.array([0.5, 1.0])[start] * v
    expected = np.empty((2, 2))
    for i in range(2):
        for k, f in enumerate((0.5, 1.0)):
            x, other = f * v[i], bids[1 - i]
            wins = x > other or (x == other and i == 0)
            expected[i, k] = (v[i] - other) / v[i] if wins else 0.0
    weights = np.exp(0.5 * expected)
    weights /= weights.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(run(setting).weights[0], weights, rtol=1e-13)


def test_sessions_do_not_depend_on_their_neighbours() -> None:
    """Session s of a 2-session run equals session s of a 5-session run (own child seed)."""
    small = run(Setting("crowdfund", (2, 2), "exp3", sessions=2, rounds=300, seed=4))
    large = run(Setting("crowdfund", (2, 2), "exp3", sessions=5, rounds=300, seed=4))
    np.testing.assert_array_equal(small.weights, large.weights[:2])
    np.testing.assert_array_equal(small.w1, large.w1[:, :2])


def test_records_match_the_final_weights() -> None:
    """The last record is computed from the final weights: mean weight on 1, share above
    1/2, mean expected factor, share whose likeliest factor is 1."""
    trace = run(Setting("split-the-bill", (3, 2), "hedge", sessions=3, rounds=400,
                        every=100, seed=2))
    f = np.asarray(FACTORS)
    w = trace.weights
    for g, (lo, hi) in enumerate(((0, 3), (3, 5))):
        part = w[:, lo:hi]
        np.testing.assert_allclose(trace.w1[-1, :, g], part[..., -1].mean(axis=1))
        np.testing.assert_allclose(trace.share[-1, :, g], (part[..., -1] > 0.5).mean(axis=1))
        np.testing.assert_allclose(trace.factor[-1, :, g], (part @ f).mean(axis=1))
        np.testing.assert_allclose(trace.modal[-1, :, g],
                                   (part.argmax(axis=-1) == f.size - 1).mean(axis=1))
    assert trace.rounds.tolist() == [100, 200, 300, 400]


def test_hedge_turns_truthful_under_mechanism_1_not_under_crowdfund() -> None:
    """Two single bidders (k = 1), Hedge η = 0.5, tenths grid, eight sessions: under
    dao-vickrey every session's weight on factor 1 passes 0.9 within 3,000 rounds (the
    prediction ln 9 / (η Δ) against truthful others is about 1,750); under crowdfund (a
    first-price auction of two) no member puts 1e-6 on it and the mean factor is the
    Bayes–Nash 1/2 within 0.03."""
    vickrey = run(Setting("dao-vickrey", (1, 1), "hedge", sessions=8, rounds=3000, seed=5))
    reached = first_reach(vickrey.overall("w1"), vickrey.rounds, 0.9)
    assert np.isfinite(reached).all() and reached.max() <= 3000 and reached.min() >= 1000
    crowd = run(Setting("crowdfund", (1, 1), "hedge", sessions=8, rounds=3000, seed=5))
    assert crowd.weights[..., -1].max() < 1e-6
    assert abs(crowd.overall("factor")[-1].mean() - 0.5) < 0.03


def test_crowdfund_members_free_ride_more_in_larger_daos() -> None:
    """Two DAOs of 4 under crowdfund: the learned factor stays far below 1 and below the
    singles' 1/2 (others' pledges carry the DAO)."""
    trace = run(Setting("crowdfund", (4, 4), "hedge", sessions=4, rounds=3000, seed=6))
    factor = trace.overall("factor")[-1]
    assert factor.max() < 0.4 and trace.weights[..., -1].max() < 1e-6


def test_theory_predicts_the_rounds_and_the_pivot_falls_but_not_to_zero() -> None:
    """Against truthful others under Mechanism 1. Two single bidders: factors 0.9 and 1
    differ when the other's bid w lies in (0.9v, v], probability E[0.1 v] = 0.05, and then
    1 gains (v - w) / v, so Δ_0.9 = E[(0.1 v)² / 2 / v] = 0.0025. In DAOs of 8 the pivot
    probability is lower but stays above 0.02; the predicted rounds grow."""
    rows = {r["k"]: r for r in theory((1, 8), etas=(0.5,), draws=200_000, seed=1)}
    assert rows[1]["pivot"] == pytest.approx(0.05, abs=0.003)
    assert rows[1]["delta"] == pytest.approx(0.0025, abs=0.0003)
    assert 0.02 < rows[8]["pivot"] < rows[1]["pivot"]
    assert rows[8]["predicted_rounds"] > rows[1]["predicted_rounds"]


def test_hedge_rounds_closed_form() -> None:
    """One trailing factor: exp(−η t Δ) = 1/9, t = ln 9 / (η Δ)."""
    assert hedge_rounds(np.array([0.01]), 0.5) == pytest.approx(np.log(9) / 0.005, rel=1e-9)


@pytest.mark.parametrize("kwargs,key", [
    ({"mechanism": "vcg-equal-split"}, "mechanism"),
    ({"rule": "logit"}, "learning.rule"),
    ({"sizes": (3,)}, "sizes"),
    ({"factors": (0.2, 0.5)}, "learning.grid"),
    ({"params": {"eta": -1.0}}, "learning.params.eta"),
    ({"rule": "exp3", "params": {"exploration": 2.0}}, "learning.params.exploration"),
    ({"sessions": 0}, "sessions"),
])
def test_bad_settings_name_their_key(kwargs, key) -> None:
    with pytest.raises(DaoAbmError, match=key):
        Setting(**kwargs)
