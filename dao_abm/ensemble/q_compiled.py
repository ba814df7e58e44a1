"""The compiled Q-learning period loop: ``q_reference.advance`` as one numba pass.

Sessions run in parallel (``prange``); inside a session the loop keeps each bidder's greedy
action and runner-up (first maximizer among the other actions), so a period touches only
the played entry of Q, and the argmax is rescanned only when the greedy action loses the
lead or the runner-up is the entry that changed. Bit-identical to ``q_reference.advance``
(same operations in the same order; ``tests/test_qgame.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.ensemble.qgame import GOLDEN, MIX1, MIX2, QGame, QState


def advance(game: QGame, state: QState, periods: int) -> None:
    """Play ``periods`` periods of every session, updating ``state`` in place."""
    _advance(state.q, state.greedy, state.runner_up, state.t, periods, state.event_time,
             state.event_action, state.cursor, state.keys, state.revenue, state.changes,
             state.last_change, game.grid, game.values, game.price == "first",
             game.alpha, game.gamma)
    state.t += periods


@numba.njit(cache=True, inline="always")
def _tie_uniform(key, t):
    z = key + GOLDEN * np.uint64(t + 1)
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * 2.0**-53


@numba.njit(cache=True, inline="always")
def _better(q, i, j):
    """Whether action i comes before j: higher Q, or equal Q and lower index."""
    return q[i] > q[j] or (q[i] == q[j] and i < j)


@numba.njit(cache=True)
def _first_max_except(q, skip):
    best = -1
    for k in range(q.size):
        if k != skip and (best < 0 or q[k] > q[best]):
            best = k
    return best


@numba.njit(cache=True, parallel=True)
def _advance(q, greedy, runner_up, t0, periods, event_time, event_action, cursor, keys,
             revenue, changes, last_change, grid, values, first_price, alpha, gamma):
    n_sessions, n, _ = q.shape
    for s in numba.prange(n_sessions):
        action = np.empty(n, dtype=np.int64)
        bid = np.empty(n)
        total, moves, last = revenue[s], changes[s], last_change[s]
        for t in range(t0, t0 + periods):
            top, n_tied = -np.inf, 0
            for i in range(n):
                c = cursor[s, i]
                if event_time[c] == t:
                    a = event_action[c]
                    cursor[s, i] = c + 1
                else:
                    a = greedy[s, i]
                action[i] = a
                bid[i] = grid[a]
                if bid[i] > top:
                    top, n_tied = bid[i], 1
                elif bid[i] == top:
                    n_tied += 1
            pick = 0
            if n_tied > 1:
                pick = np.int64(_tie_uniform(keys[s], t) * n_tied)
            winner, seen, second = -1, 0, -np.inf
            for i in range(n):
                if winner < 0 and bid[i] == top:
                    if seen == pick:
                        winner = i
                        continue
                    seen += 1
                if bid[i] > second:
                    second = bid[i]
            price = top if first_price else second
            total += price
            moved = False
            for i in range(n):
                qi = q[s, i]
                a, g, r2 = action[i], greedy[s, i], runner_up[s, i]
                reward = values[i] - price if i == winner else 0.0
                qi[a] = (1 - alpha) * qi[a] + alpha * (reward + gamma * qi[g])
                if a == g:
                    if not _better(qi, g, r2):
                        greedy[s, i] = r2
                        runner_up[s, i] = _first_max_except(qi, r2)
                        moves += 1
                        moved = True
                elif a == r2:
                    if _better(qi, a, g):
                        greedy[s, i], runner_up[s, i] = a, g
                        moves += 1
                        moved = True
                    else:
                        runner_up[s, i] = _first_max_except(qi, g)
                elif _better(qi, a, g):
                    greedy[s, i], runner_up[s, i] = a, g
                    moves += 1
                    moved = True
                elif _better(qi, a, r2):
                    runner_up[s, i] = a
            if moved:
                last = t
        revenue[s], changes[s], last_change[s] = total, moves, last
