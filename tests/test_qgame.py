"""Q-learning sessions (``dao_abm.ensemble.qgame``): the compiled kernel equals the numpy
reference bit for bit, a hand-worked trace, the exploration schedule and session
independence (Banchio & Skrzypacz's findings: ``tests/test_paper.py``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from dao_abm.ensemble import q_compiled, q_reference
from dao_abm.ensemble.qgame import QGame, start, tie_uniform
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.paper import banchio_skrzypacz as bs

FIELDS = ("q", "greedy", "runner_up", "cursor", "revenue", "changes", "last_change", "t")


@pytest.mark.parametrize("price", ["first", "second"])
@pytest.mark.parametrize(("values", "q_init"), [([1.0, 1.0], "optimistic"),
                                                ([1.0, 0.7, 0.9], 0.0)])
def test_compiled_kernel_equals_the_reference(price, values, q_init) -> None:
    """Tie-heavy: a coarse grid, heavy exploration, and (q_init = 0) ties among Q-values."""
    game = QGame(values=values, grid=[0.1, 0.3, 0.5, 0.7, 0.9], price=price, alpha=0.3,
                 gamma=0.9, epsilon=0.4, decay=0.0005, q_init=q_init)
    a = start(game, 4000, range(7), seed=5)
    b = copy.deepcopy(a)
    q_reference.advance(game, a, 4000)
    for chunk in (1, 999, 3000):  # chunking changes nothing
        q_compiled.advance(game, b, chunk)
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.changes.sum() > 100 and (a.revenue > 0).all()


def test_hand_worked_trace() -> None:
    """No exploration, Q₀ = 0, α = γ = 1/2, bids {0.2, 0.6}, first price: both bid 0.2 (the
    first maximizer), tie; the winner w gets Q[0.2] = ½·0 + ½·(0.8 + ½·0) = 0.4."""
    game = QGame(values=[1.0, 1.0], grid=[0.2, 0.6], price="first", alpha=0.5, gamma=0.5,
                 epsilon=0.0, decay=0.0, q_init=0.0)
    state = start(game, 2, [0], seed=1)
    w = [int(tie_uniform(state.keys, t)[0] * 2) for t in (0, 1)]
    q_reference.advance(game, state, 1)
    expected = np.zeros((2, 2))
    expected[w[0], 0] = 0.4
    np.testing.assert_array_equal(state.q[0], expected)
    q_reference.advance(game, state, 1)  # still both at 0.2 (0.4 > 0 and 0 = 0 -> first)
    if w[1] == w[0]:  # ½·0.4 + ½·(0.8 + ½·0.4); the other's 0 stays
        expected[w[0], 0] = 0.7
    else:  # the new winner ½·0 + ½·(0.8 + 0); the old one ½·0.4 + ½·(0 + ½·0.4)
        expected[w[1], 0], expected[w[0], 0] = 0.4, 0.3
    np.testing.assert_allclose(state.q[0], expected, rtol=0, atol=1e-15)
    assert state.revenue[0] == pytest.approx(0.4)


def test_exploration_schedule() -> None:
    """Exploration periods are Bernoulli(ε_t): about Σ ε_t per agent (B&S: 125), with the
    right frequency early on, and uniform actions."""
    game = bs.game("first")
    state = start(game, 200_000, range(200), seed=2)
    n_agents = 400
    per_agent = state.event_time.size - n_agents  # minus the closing sentinels
    expected = game.exploration(200_000).sum()
    assert per_agent / n_agents == pytest.approx(expected, rel=0.02)
    early = (state.event_time < 1000).sum() / n_agents
    assert early == pytest.approx(game.exploration(1000).sum(), rel=0.1)
    real = state.event_time < 200_000
    counts = np.bincount(state.event_action[real], minlength=19) / real.sum()
    assert np.abs(counts - 1 / 19).max() < 0.01


def test_sessions_are_independent_of_which_run_beside_them() -> None:
    game = bs.game("second")
    whole = QEnsemble(game, 3000, range(5), seed=4, kernel=q_reference)
    part = QEnsemble(game, 3000, [3, 1], seed=4)
    whole.advance(3000)
    part.advance(3000)
    a, b = whole.metrics().set_index("session"), part.metrics().set_index("session")
    assert a.loc[[3, 1]].equals(b.loc[[3, 1]])
    assert not a.loc[1].equals(a.loc[2])
