"""The plain implementation of the Q-learning period loop (``qgame.py``): numpy, one period
at a time, vectorized over sessions. ``q_compiled.advance`` is held equal to it bit for bit;
use this one to read what a period does."""

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
        group_bids = group_bid(game, game.grid[action])
        n_tied = (group_bids == group_bids.max(axis=1, keepdims=True)).sum(axis=1)
        # the k-th tied group wins (a fair coin; ties = "lowest": always the first)
        coin = 1.0 if game.ties == "coin" else 0.0
        pick = (tie_uniform(state.keys, t) * n_tied * coin).astype(np.int64)
        price, reward = settle(game, game.grid[action], group_bids, pick)
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


def group_bid(game: QGame, bids: np.ndarray) -> np.ndarray:
    """``(S, G)`` group bids of member bids ``(S, n)``: WTP (max_i i·b_(i)) or the sum
    (added member by member, in ``game.order``)."""
    out = np.empty((bids.shape[0], game.starts.size - 1))
    for j, (lo, hi) in enumerate(zip(game.starts[:-1], game.starts[1:], strict=True)):
        members = bids[:, game.order[lo:hi]]
        if game.aggregation == "wtp":
            ranked = -np.sort(-members, axis=1)  # high to low
            out[:, j] = (ranked * np.arange(1, hi - lo + 1)).max(axis=1)
        else:
            out[:, j] = _sequential_sum(members)
    return out


def settle(game: QGame, bids: np.ndarray, group_bids: np.ndarray, pick: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(S,)`` price and ``(S, n)`` rewards when the ``pick``-th of the groups tied at the
    top wins (``bids`` ``(S, n)``, ``group_bids`` ``(S, G)``)."""
    top = group_bids.max(axis=1)
    tied = group_bids == top[:, None]
    winner = ((np.cumsum(tied, axis=1) == (pick + 1)[:, None]) & tied).argmax(axis=1)
    others = group_bids.copy()
    others[np.arange(winner.size), winner] = -np.inf
    price = top if game.price == "first" else others.max(axis=1)
    pay = np.zeros_like(bids)
    access = np.zeros(bids.shape, dtype=bool)
    for j, (lo, hi) in enumerate(zip(game.starts[:-1], game.starts[1:], strict=True)):
        members = game.order[lo:hi]
        won = (winner == j)[:, None]
        b = bids[:, members]
        if game.sharing == "max-equal-split":
            ranked = -np.sort(-b, axis=1)
            ok = ranked * np.arange(1, hi - lo + 1) >= price[:, None]
            t = np.where(ok.any(axis=1), (hi - lo) - ok[:, ::-1].argmax(axis=1), 0)
            cutoff = np.where(t > 0, ranked[np.arange(t.size), np.maximum(t - 1, 0)], np.inf)
            got = won & (b >= cutoff[:, None])
            share = np.divide(price, t, out=np.zeros_like(price), where=t > 0)[:, None]
        elif game.sharing == "equal-split-all":
            got = np.broadcast_to(won, b.shape)
            share = (price / (hi - lo))[:, None]
        else:  # proportional
            total = _sequential_sum(b)
            got = won & (b > 0)
            share = b * np.divide(price, total, out=np.zeros_like(price), where=total > 0)[
                :, None]
        access[:, members] = got
        pay[:, members] = np.where(got, share, 0.0)
    reward = np.where(access, game.values[None, :] - pay, 0.0)
    return price, reward


def _sequential_sum(x: np.ndarray) -> np.ndarray:
    """Row sums added left to right (the compiled loop's order)."""
    total = np.zeros(x.shape[0])
    for k in range(x.shape[1]):
        total = total + x[:, k]
    return total


def expected_outcome(game: QGame, bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S,)`` price and ``(S, n)`` stage rewards of ``bids`` ``(S, n)``, averaged over the
    tie-breaks."""
    group_bids = group_bid(game, bids)
    n_tied = (group_bids == group_bids.max(axis=1, keepdims=True)).sum(axis=1)
    price, total = np.zeros(bids.shape[0]), np.zeros_like(bids)
    for k in range(group_bids.shape[1]):
        p, reward = settle(game, bids, group_bids, np.minimum(k, n_tied - 1))
        price += np.where(k < n_tied, p / n_tied, 0.0)
        total += np.where((k < n_tied)[:, None], reward / n_tied[:, None], 0.0)
    return price, total
