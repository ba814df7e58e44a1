"""Learning rules: one contract for all (Axelrod style), then each rule's own behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from dao_abm.learning import (
    LEARNING_RULES,
    Hedge,
    Logit,
    Market,
    QLearning,
    deviation_utilities,
    dynamics,
    payoffs,
)
from dao_abm.mechanisms import Groups, TwoLevelMechanism

FIRST_PRICE = TwoLevelMechanism("wtp", "first-price", "max-equal-split")
RULES = LEARNING_RULES.names()
GRID = np.arange(21) / 20


def setups():
    rng = np.random.default_rng(0)
    groups = Groups.from_sizes([3, 2, 1])
    yield "single", Market("dao-vickrey", groups), rng.random(6), rng.random(6)
    yield "additive", Market("free-rider", groups, "additive"), rng.random((6, 2)), np.ones((6, 2))
    yield "unit-demand", Market("grand-bundle", groups, "unit-demand"), rng.random((6, 2)), \
        rng.random((6, 2))
    yield "shading", Market(FIRST_PRICE, Groups.from_sizes([1, 1, 1])), \
        rng.random((500, 3)), np.ones(3)


SETUPS = list(setups())


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("setup", SETUPS, ids=[s[0] for s in SETUPS])
class TestContract:
    def run(self, name, setup, seed, rounds=4, protocol="inertia"):
        _, market, values, start = setup
        rule = LEARNING_RULES[name]()
        return list(dynamics(market, values, start, rule=rule, protocol=protocol,
                             rounds=rounds, rng=np.random.default_rng(seed), grid=GRID,
                             fraction=0.5))

    def test_shapes_and_gains(self, name, setup):
        _, market, _, start = setup
        for state in self.run(name, setup, 1):
            assert state.strategies.shape == start.shape
            assert state.gain.shape == state.changed.shape == (market.n_members,)
            assert (state.gain >= 0).all()
            assert state.regret is None or state.regret.shape == (market.n_members,)
            assert not (state.changed & ~state.revising).any()

    def test_reproducible(self, name, setup):
        a, b = self.run(name, setup, 5), self.run(name, setup, 5)
        for x, y in zip(a, b, strict=True):
            assert_array_equal(x.strategies, y.strategies)
            assert_array_equal(x.gain, y.gain)

    def test_reset_forgets(self, name, setup):
        _, market, values, start = setup
        rule = LEARNING_RULES[name]()
        first = list(dynamics(market, values, start, rule=rule, protocol="simultaneous",
                              rounds=3, rng=np.random.default_rng(2), grid=GRID))
        again = list(dynamics(market, values, start, rule=rule, protocol="simultaneous",
                              rounds=3, rng=np.random.default_rng(2), grid=GRID))
        assert_array_equal(first[-1].strategies, again[-1].strategies)


def test_registry_names_and_errors():
    assert RULES == ["best-response", "logit", "hedge", "q-learning"]
    with pytest.raises(ValueError, match="choose one of"):
        LEARNING_RULES["fictitious-play"]
    with pytest.raises(ValueError):
        Logit(temperature=0)
    with pytest.raises(ValueError):
        Hedge(eta=-1)
    with pytest.raises(ValueError, match="state"):
        QLearning(state="history")


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


def test_hedge_regret_is_bookkept_and_vanishes_on_average():
    """Hedge's cumulative external regret after round 1 is (best option - current); its
    average regret goes to 0 (Freund & Schapire 1997) in a first-price duel."""
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    values = np.array([1.0, 0.8])
    rng = np.random.default_rng(4)
    states = list(dynamics(market, values, values.copy(), rule=Hedge(eta=2.0),
                           protocol="simultaneous", rounds=300, rng=rng, grid=GRID))
    first = payoffs(market, values, values, GRID)
    assert_allclose(states[0].regret, first.utilities.max(axis=-1)[:, 0] - first.current)
    assert (states[-1].regret / 300 < 0.02).all()


def test_q_learning_updates_only_the_played_action_from_realized_utility():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    values = np.array([1.0, 1.0])
    bids = np.array([0.5, 0.3])  # member 0 wins, pays 0.5: reward 0.5; member 1 gets 0
    rule = QLearning(alpha=1.0, gamma=0.0, epsilon=0.0)
    rule.reset(2, 1, grid=GRID, rng=np.random.default_rng(0))
    revision = rule.step(market, values, bids, revising=np.ones(2, bool),
                         rng=np.random.default_rng(0))
    q = rule.q[:, 0, 0]  # (members, K), stateless
    assert q[0, 10] == 0.5 and q[1, 6] == 0.0
    assert np.count_nonzero(q) == 1
    assert revision.strategies[0] == 0.5  # greedy: its only positive Q
    assert revision.strategies[1] in GRID  # all Q equal: a uniformly random tie


def test_q_learning_last_price_states():
    market = Market(FIRST_PRICE, Groups.from_sizes([1, 1]))
    rule = QLearning(state="last-price")
    states = list(dynamics(market, np.array([1.0, 1.0]), np.array([0.5, 0.3]), rule=rule,
                           protocol="simultaneous", rounds=20, rng=np.random.default_rng(0),
                           grid=GRID))
    assert rule.q.shape == (2, 1, 22, 21)
    assert (0 <= rule.state).all() and (rule.state <= 21).all()
    assert states[-1].regret.shape == (2,)
