"""Each learning rule's own behaviour, against closed forms and hand-worked traces."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from dao_abm.deviations import Grid, Market, deviation_utilities, payoffs
from dao_abm.learning import (
    Exp3,
    Feedback,
    FictitiousPlay,
    Hedge,
    Logit,
    QLearning,
    dynamics,
    observe,
)
from dao_abm.mechanisms import Groups, TwoLevelMechanism

FIRST_PRICE = TwoLevelMechanism("wtp", "first-price", "max-equal-split")
GRID = np.arange(21) / 20


def synthetic(utilities=None, *, reward, played, headroom=0.0, k=None) -> Feedback:
    """Feedback for ``r`` members with one item each, payoffs given by hand (scale 1)."""
    reward = np.asarray(reward, dtype=np.float64)
    r = reward.size
    k = k if utilities is None else np.shape(utilities)[-1]
    options = np.broadcast_to(np.arange(k) / k, (r, 1, k))
    return Feedback("full" if utilities is not None else "bandit", options,
                    np.asarray(played).reshape(r, 1), reward,
                    None if utilities is None else np.asarray(utilities).reshape(r, 1, k),
                    np.ones(r), np.full((r, 1), headroom), np.zeros((r, 1)),
                    options[..., 0].copy(), np.ones((r, 1)), False, True, None)


def test_cold_logit_is_a_best_response_and_hot_logit_is_uniform():
    rng = np.random.default_rng(3)
    market = Market("crowdfund", Groups.from_sizes([4, 3, 1]))
    values, bids = rng.random(8), rng.random(8)
    table = payoffs(market, values, bids, GRID)
    cold = Logit(temperature=1e-9)
    cold.reset(8, 1, grid=GRID, rng=rng)
    revision = cold.step(market, values, bids, revising=np.ones(8, bool), rng=rng)
    chosen = deviation_utilities(market, values, bids, revision.strategies[:, None])[:, 0]
    assert_allclose(chosen, table.utilities[:, 0].max(axis=1), atol=1e-12)
    hot = Logit(temperature=1e9)
    hot.reset(8, 1, grid=GRID, rng=rng)
    picks = np.array([hot.step(market, values, bids, revising=np.ones(8, bool),
                               rng=rng).strategies for _ in range(400)])
    index = np.rint(picks / values * 20).astype(int)  # grid position 0..20
    counts = np.bincount(index.ravel(), minlength=21)
    assert counts.min() > 0.5 * counts.mean()


def test_hedge_plays_the_softmax_of_cumulative_payoffs_and_meets_its_regret_bound():
    """Rewards in [0, 1] on a fixed sequence: p_t = softmax(η Σ_{s<t} x_s) exactly, and the
    expected regret max_k Σ x_tk - Σ p_t·x_t is at most ln K / η + η T / 8 (Cesa-Bianchi &
    Lugosi 2006, Thm 2.2). The sequence switches the best option halfway, which is what
    makes a follow-the-leader learner pay."""
    k, horizon = 5, 400
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 0.6, size=(horizon, k))
    x[: horizon // 2, 1] += 0.4
    x[horizon // 2:, 3] += 0.4
    eta = np.sqrt(8 * np.log(k) / horizon)
    rule = Hedge(eta=eta)
    rule.reset(1, 1, grid=None, rng=rng)
    p, expected = np.full(k, 1 / k), 0.0
    for t in range(horizon):
        expected += p @ x[t]
        rule.learn(synthetic(x[t], reward=[p @ x[t]], played=[0]), rng)
        p = rule.probabilities()[0, 0]
        assert_allclose(p, np.exp(eta * (x[: t + 1].sum(0) - x[: t + 1].sum(0).max()))
                        / np.exp(eta * (x[: t + 1].sum(0) - x[: t + 1].sum(0).max())).sum())
    regret = x.sum(axis=0).max() - expected
    bound = np.log(k) / eta + eta * horizon / 8
    assert 0 < regret <= bound
    assert regret > 0.1 * bound  # the sequence is not a trivial one


def test_hedge_average_regret_vanishes_in_a_first_price_duel():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    values = np.array([1.0, 0.8])
    rng = np.random.default_rng(4)
    states = list(dynamics(market, values, values.copy(), rule=Hedge(eta=2.0),
                           protocol="simultaneous", rounds=300, rng=rng, grid=GRID))
    first = payoffs(market, values, values, GRID)
    assert_allclose(states[0].regret, first.utilities.max(axis=-1)[:, 0] - first.current)
    assert (states[-1].regret / 300 < 0.02).all()


def test_q_learning_update_on_a_hand_worked_trace():
    """α = 0.5, γ = 0.9, optimistic Q_0 = headroom / (1 - γ) = 0.025 / 0.1 = 0.25 for all three
    options. Round 1: option 2 pays 0.5, so Q[2] = 0.5·0.25 + 0.5·(0.5 + 0.9·0.25) = 0.4875.
    Round 2: option 2 pays 0, so Q[2] = 0.5·0.4875 + 0.5·(0 + 0.9·0.4875) = 0.463125; the
    other entries stay 0.25 (bandit: only the played option is updated)."""
    rule = QLearning(alpha=0.5, gamma=0.9, exploration=0.0)
    rng = np.random.default_rng(0)
    rule.reset(1, 1, grid=None, rng=rng)
    assert rule.learn(synthetic(reward=[0.5], played=[2], headroom=0.025, k=3), rng) == 2
    assert_allclose(rule.q[0, 0, 0], [0.25, 0.25, 0.4875])
    assert rule.learn(synthetic(reward=[0.0], played=[2], headroom=0.025, k=3), rng) == 2
    assert_allclose(rule.q[0, 0, 0], [0.25, 0.25, 0.463125])


def test_q_learning_reward_is_the_realized_payoff_of_the_played_bid():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    values = np.array([1.0, 1.0])
    bids = np.array([0.5, 0.3])  # member 0 wins, pays 0.5: reward 0.5; member 1 gets 0
    rule = QLearning(alpha=1.0, gamma=0.0, exploration=0.0, q_init="zero")
    rule.reset(2, 1, grid=GRID, rng=np.random.default_rng(0))
    revision = rule.step(market, values, bids, revising=np.ones(2, bool),
                         rng=np.random.default_rng(0))
    q = rule.q[:, 0, 0]  # (members, K), stateless
    assert q[0, 10] == 0.5 and q[1, 6] == 0.0
    assert np.count_nonzero(q) == 1
    assert revision.strategies[0] == 0.5  # greedy: its only positive Q
    assert revision.strategies[1] in GRID  # all Q equal: a uniformly random tie


def test_q_learning_optimistic_start_and_exploration_schedule():
    """Optimistic Q_0 = max_k (v - b_k)+ / (1 - γ); the share of members exploring at
    round t is ε_0 e^(-β t) (each explorer hits the greedy option 1/K of the time)."""
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    rule = QLearning(gamma=0.9)
    rule.reset(2, 1, grid=GRID, rng=np.random.default_rng(0))
    rule.step(market, np.array([0.8, 0.4]), np.array([0.2, 0.1]), revising=np.ones(2, bool),
              rng=np.random.default_rng(0))
    assert_allclose(rule.q[:, 0, 0].max(axis=-1), [8.0, 4.0])
    n, k, eps0, beta = 20_000, 4, 0.6, 0.5
    rule = QLearning(exploration=eps0, decay=beta, q_init="zero", alpha=1.0, gamma=0.0)
    rng = np.random.default_rng(1)
    rule.reset(n, 1, grid=None, rng=rng)
    for t in range(3):
        choice = rule.learn(synthetic(reward=np.ones(n), played=np.zeros(n, int), k=k), rng)
        off = (choice[:, 0] != 0).mean()  # option 0 is every member's greedy option
        assert off == pytest.approx(eps0 * np.exp(-beta * t) * (k - 1) / k, abs=0.012)


def test_q_learning_last_price_states_and_convergence_counter():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    rule = QLearning(state="last-price", exploration=0.0, q_init="zero")
    states = list(dynamics(market, np.array([1.0, 1.0]), np.array([0.5, 0.3]), rule=rule,
                           protocol="simultaneous", rounds=20, rng=np.random.default_rng(0),
                           grid=GRID))
    assert rule.q.shape == (2, 1, 22, 21)
    assert (0 <= rule.state).all() and (rule.state <= 21).all()
    assert states[-1].regret.shape == (2,)
    assert 0 <= rule.stable_rounds <= 19


def test_q_learning_converges_when_the_greedy_profile_has_held_for_k_rounds():
    """α = 1, γ = 0, Q₀ = 0, no exploration: Q[a] is a's last reward. The greedy option
    (first maximizer) starts at 0; round 1 pays 0.5 on option 2 (greedy -> 2), round 2 pays
    0.7 on option 1 (greedy -> 1), then option 0 pays 0 forever (greedy stays 1). With
    K = 3 the rule has converged from round 5 on (rounds 3, 4, 5 unchanged), not before."""
    rule = QLearning(alpha=1.0, gamma=0.0, exploration=0.0, q_init="zero", converge_rounds=3)
    rng = np.random.default_rng(0)
    rule.reset(1, 1, grid=None, rng=rng)
    steps = [(0.5, 2), (0.7, 1)] + [(0.0, 0)] * 5
    stable, converged = [], []
    for reward, played in steps:
        rule.learn(synthetic(reward=[reward], played=[played], k=3), rng)
        stable.append(rule.stable_rounds)
        converged.append(rule.converged)
    assert stable == [0, 0, 1, 2, 3, 4, 5]
    assert converged == [False, False, False, False, True, True, True]
    assert rule.greedy.tolist() == [[[1]]]


def test_q_learning_counts_the_initial_greedy_profile():
    """The initial Q's greedy option counts as the first profile: a round that leaves it the
    first maximizer is not a change (as the compiled kernel counts, ``qgame.converged``)."""
    rule = QLearning(alpha=1.0, gamma=0.0, exploration=0.0, q_init="zero", converge_rounds=2)
    rng = np.random.default_rng(0)
    rule.reset(2, 1, grid=None, rng=rng)
    rule.learn(synthetic(reward=[0.0, -0.5], played=[0, 1], k=3), rng)  # argmax stays 0
    assert rule.stable_rounds == 1 and not rule.converged
    rule.learn(synthetic(reward=[0.0, 0.0], played=[0, 2], k=3), rng)
    assert rule.stable_rounds == 2 and rule.converged
    rule.learn(synthetic(reward=[0.0, 0.1], played=[0, 2], k=3), rng)  # member 1 -> 2
    assert rule.stable_rounds == 0 and not rule.converged


@pytest.mark.parametrize(("value", "message"), [
    (0, "learning.params.converge_rounds: 0 must be >= 1"),
    (2.5, "learning.params.converge_rounds: expected an integer, got 2.5"),
])
def test_q_learning_converge_rounds_bad_values(value, message):
    with pytest.raises(ValueError, match=message):
        QLearning(converge_rounds=value)


def test_exp3_finds_the_best_option_from_bandit_feedback():
    """Three options paying 0.9, 0.5, 0.1 (plus noise): after 3,000 rounds of bandit
    feedback the best option carries almost all the probability."""
    rule = Exp3(eta=0.05)
    rng = np.random.default_rng(2)
    rule.reset(1, 1, grid=None, rng=rng)
    means, played = np.array([0.9, 0.5, 0.1]), 1
    for _ in range(3000):
        reward = np.clip(means[played] + 0.1 * rng.normal(), 0, 1)
        played = int(rule.learn(synthetic(reward=[reward], played=[played], k=3), rng)[0, 0])
    assert rule.probabilities()[0, 0, 0] > 0.9


def test_fictitious_play_against_a_fixed_opponent_is_the_best_response():
    """When the others never move, their empirical distribution is their bid, so fictitious
    play's answer is the grid best response (ties: nearest to truthful)."""
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    values, bids = np.array([1.0, 0.6]), np.array([0.3, 0.45])
    only_first = np.array([True, False])
    rule = FictitiousPlay(tie_policy="truthful")
    rule.reset(2, 1, grid=GRID, rng=np.random.default_rng(0))
    for _ in range(3):
        revision = rule.step(market, values, bids, revising=only_first,
                             rng=np.random.default_rng(0))
    table = payoffs(market, values, bids, GRID)
    assert revision.strategies[0] == table.options[0, 0, table.utilities[0, 0].argmax()]
    assert revision.strategies[1] == 0.45


def test_feedback_modes_agree_where_they_should():
    rng = np.random.default_rng(5)
    market = Market("crowdfund", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    full, _ = observe("full", market, values, bids, GRID)
    expected, _ = observe("expected", market, values, bids, GRID)
    bandit, _ = observe("bandit", market, values, bids, GRID)
    assert_array_equal(full.utilities, expected.utilities)  # fixed values: the same thing
    assert_allclose(bandit.reward, market.utilities(values, bids))
    assert_allclose(bandit.reward, full.reward)
    assert_array_equal(bandit.options, full.options)
    assert_array_equal(bandit.played, full.played)
    # shading factors, values redrawn: bandit sees one profile, the round's
    samples = rng.random((3, 6))
    alphas = np.full(6, 0.5)
    shaded, _ = observe("bandit", market, samples[:1], alphas, GRID)
    assert_allclose(shaded.reward, market.utilities(samples[0], 0.5 * samples[0]))
    with pytest.raises(ValueError, match="one value profile"):
        observe("bandit", market, samples, alphas, GRID)


def test_grids_relative_and_absolute_with_and_without_the_value():
    values = np.array([[0.5], [2.0]])
    relative = Grid.even(0.0, 1.5, 4)  # 0, 0.5, 1, 1.5 (1 is already there)
    assert_allclose(relative.bids(values)[1, 0], [0.0, 1.0, 2.0, 3.0])
    paper = Grid(np.arange(1, 20) / 20, "absolute", with_value=False)
    assert paper.size == 19
    assert_allclose(paper.bids(values)[0, 0], np.arange(1, 20) / 20)
    with_value = Grid([0.1, 0.9], "absolute")
    assert_allclose(with_value.bids(values)[:, 0], [[0.1, 0.5, 0.9], [0.1, 0.9, 2.0]])
    assert_allclose(Grid([0.5], with_value=False).factors(), [0.5])
    with pytest.raises(ValueError, match="shading factors"):
        paper.factors()
    with pytest.raises(ValueError, match="at least one"):
        Grid([-1.0])


def test_exp3_stays_finite_when_members_keep_options_they_did_not_draw():
    """Under the inertia protocol most members keep last round's option, which EXP3 did not
    draw this round; the uniform mixture γ keeps every probability >= γ / K, so the
    importance weights stay finite (without it they overflowed on default.toml)."""
    rng = np.random.default_rng(6)
    market = Market("crowdfund", Groups.from_sizes([5, 4, 3, 1]))
    values = rng.random(13)
    rule = Exp3(eta=0.5, exploration=0.05)
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        states = list(dynamics(market, values, values * 0.7, rule=rule, protocol="inertia",
                               rounds=300, rng=rng, grid=GRID, fraction=0.1))
    assert np.isfinite(rule.estimate).all() and np.isfinite(states[-1].strategies).all()
    assert rule.probabilities().min() >= 0.05 / rule.estimate.shape[-1] - 1e-15
