"""The plain implementation of the Q-learning period loop (``qgame.py``): numpy, one period
at a time, vectorized over sessions and bidders. ``q_compiled.advance`` is held equal to it
bit for bit; use this one to read what a period does."""

from __future__ import annotations

import numpy as np

from dao_abm.ensemble.qgame import QGame, QState, first_two, tie_uniform


def advance(game: QGame, state: QState, periods: int) -> None:
    """Play ``periods`` periods of every session, updating ``state`` in place."""
    s, n, _ = state.q.shape
    rows, agents = np.indices((s, n))
    for _ in range(periods):
        t = state.t
        # act: greedy, or the agent's next exploration if it falls in this period
        explore = state.event_time[state.cursor] == t
        action = np.where(explore, state.event_action[state.cursor], state.greedy)
        state.cursor += explore
        bids = game.grid[action]  # (S, n)
        # the auction: highest bid wins, a uniformly random tied bidder
        top = bids.max(axis=1)
        tied = bids == top[:, None]
        n_tied = tied.sum(axis=1)
        pick = (tie_uniform(state.keys, t) * n_tied).astype(np.int64)  # k-th tied bidder
        winner = (np.cumsum(tied, axis=1) == (pick + 1)[:, None]) & tied
        second = np.where(winner, -np.inf, bids).max(axis=1)
        price = top if game.price == "first" else second
        reward = np.where(winner, game.values[None, :] - price[:, None], 0.0)
        state.revenue += price
        # learn: only the played action, from the own reward
        best = state.q[rows, agents, state.greedy]
        played = state.q[rows, agents, action]
        state.q[rows, agents, action] = (1 - game.alpha) * played + game.alpha * (
            reward + game.gamma * best)
        greedy, runner_up = first_two(state.q)
        moved = (greedy != state.greedy).sum(axis=1)
        state.changes += moved
        state.last_change[moved > 0] = t
        state.greedy[:], state.runner_up[:] = greedy, runner_up
        state.t += 1
