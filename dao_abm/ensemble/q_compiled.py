"""The compiled Q-learning period loop: ``q_reference.advance`` as one numba pass.

Sessions run in parallel (``prange``); inside a session the loop keeps each bidder's greedy
action and runner-up (first maximizer among the other actions), so a period touches only
the played entry of Q, and the argmax is rescanned only when the greedy action loses the
lead or the runner-up is the entry that changed. Bit-identical to ``q_reference.advance``
(same operations in the same order; ``tests/test_qgame.py``). A period's group bids, winner
and shares are the engine's compiled settle (``mechanisms/compiled.py``).

Two bidders alone (Banchio & Skrzypacz's setting) have their own loop, ``_advance_pair``:
the period's state (greedy and runner-up actions and their Q-values, exploration cursors)
lives in registers, and the winner, price and rewards come from integer arithmetic and
selects rather than branches, so the fair coin of a tie (every period once both bid alike)
costs no mispredicted branch. ``benchmarks/sessions.py`` measures it.
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.ensemble.qgame import GOLDEN, MIX1, MIX2, QGame, QState
from dao_abm.mechanisms.compiled import (
    AGGREGATION_CODES,
    SHARING_CODES,
    group_bid,
    settle,
    winner_and_price,
)


def advance(game: QGame, state: QState, periods: int) -> None:
    """Play ``periods`` periods of every session, updating ``state`` in place."""
    if game.n_bidders == 2 and game.starts.size == 3 and game.sharing != "proportional":
        # two bidders alone (B&S; proportional is left out: b·(p/b) may differ from p)
        _advance_pair(state.q, state.greedy, state.runner_up, state.t, periods,
                      state.event_time, state.event_action, state.cursor, state.keys,
                      state.revenue, state.changes, state.last_change, game.grid,
                      game.values, game.order, game.price == "first", game.alpha,
                      game.gamma, game.ties == "coin")
        state.t += periods
        return
    _advance(state.q, state.greedy, state.runner_up, state.t, periods, state.event_time,
             state.event_action, state.cursor, state.keys, state.revenue, state.changes,
             state.last_change, game.grid, game.values, game.order, game.starts,
             game.price == "first", AGGREGATION_CODES.index(game.aggregation),
             SHARING_CODES.index(game.sharing), game.alpha, game.gamma, game.ties == "coin")
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


#: Below every key of a float64 that is not NaN.
_LOWEST = np.iinfo(np.int64).min


@numba.njit(cache=True, inline="always")
def _order_key(bits):
    """An int64 that orders as the float64 with these bits does (no NaN): negative floats
    have their magnitude bits flipped, and -0.0 (key -1) is mapped to +0.0's key 0."""
    key = bits ^ ((bits >> 63) & 0x7FFFFFFFFFFFFFFF)
    return key + (key == -1)


@numba.njit(cache=True)
def _first_max_except(q, skip):
    """The first maximizer of ``q`` among the entries other than ``skip``: the largest key,
    then the lowest index holding it (two integer reductions, no branch per entry)."""
    bits = q.view(np.int64)
    top = _LOWEST
    for k in range(bits.size):
        key = _order_key(bits[k]) if k != skip else _LOWEST
        top = max(top, key)
    best = bits.size
    for k in range(bits.size):
        here = k if (_order_key(bits[k]) == top) & (k != skip) else bits.size
        best = min(best, here)
    return best


@numba.njit(cache=True, inline="always")
def _learn(qs, i, a, reward, greedy, runner_up, keep, alpha, gamma):
    """Update agent i's Q[a] and its cached greedy action and runner-up; returns whether
    the greedy action changed."""
    g, r2 = greedy[i], runner_up[i]
    qs[i, a] = keep * qs[i, a] + alpha * (reward + gamma * qs[i, g])
    qi = qs[i]
    if a == g:
        if not _better(qi, g, r2):
            greedy[i] = r2
            runner_up[i] = _first_max_except(qi, r2)
            return True
    elif a == r2:
        if _better(qi, a, g):
            greedy[i], runner_up[i] = a, g
            return True
        runner_up[i] = _first_max_except(qi, g)
    elif _better(qi, a, g):
        greedy[i], runner_up[i] = a, g
        return True
    elif _better(qi, a, r2):
        runner_up[i] = a
    return False


@numba.njit(cache=True, parallel=True)
def _advance(q, greedy, runner_up, t0, periods, event_time, event_action, cursor, keys,
             revenue, changes, last_change, grid, values, order, starts, first_price,
             aggregation, sharing, alpha, gamma, coin):
    n_sessions, n, _ = q.shape
    n_groups = starts.size - 1
    wtp = aggregation == 0
    keep = 1 - alpha
    # groups of one under a rule that charges a lone winner exactly the price (not
    # proportional: b·(p/b) may differ from p in the last bit)
    alone = n_groups == n and sharing != 2
    for s in numba.prange(n_sessions):
        qs = q[s]
        g_loc, r_loc = greedy[s].copy(), runner_up[s].copy()
        cur = cursor[s].copy()
        nxt = np.empty(n, dtype=np.int64)
        for i in range(n):
            nxt[i] = event_time[cur[i]]
        action = np.empty(n, dtype=np.int64)
        bid = np.empty(n)
        reward = np.zeros(n)
        group_bids = np.empty(n_groups)
        scratch = np.empty(n)
        total, moves, last = revenue[s], changes[s], last_change[s]
        for t in range(t0, t0 + periods):
            for i in range(n):
                if nxt[i] == t:
                    a = event_action[cur[i]]
                    cur[i] += 1
                    nxt[i] = event_time[cur[i]]
                else:
                    a = g_loc[i]
                action[i] = a
                bid[i] = grid[a]
            top, n_tied = -np.inf, 0
            for j in range(n_groups):
                g = bid[order[j]] if alone else group_bid(bid, order, starts[j],
                                                          starts[j + 1], wtp, scratch)
                group_bids[j] = g
                if g > top:
                    top, n_tied = g, 1
                elif g == top:
                    n_tied += 1
            pick = 0
            if n_tied > 1 and coin:  # else the lowest-index tied group
                pick = np.int64(_tie_uniform(keys[s], t) * n_tied)
            moved = False
            if alone:  # everyone bids alone (B&S): the winner pays the price, exactly
                winner, price = winner_and_price(group_bids, top, pick, first_price)
                winner = order[winner]
                for i in range(n):
                    r = values[i] - price if i == winner else 0.0
                    if _learn(qs, i, action[i], r, g_loc, r_loc, keep, alpha, gamma):
                        moves += 1
                        moved = True
            else:
                price = settle(bid, group_bids, order, starts, values, top, pick,
                               first_price, sharing, scratch, reward)
                for i in range(n):
                    if _learn(qs, i, action[i], reward[i], g_loc, r_loc, keep, alpha, gamma):
                        moves += 1
                        moved = True
            total += price
            if moved:
                last = t
        greedy[s], runner_up[s], cursor[s] = g_loc, r_loc, cur
        revenue[s], changes[s], last_change[s] = total, moves, last


@numba.njit(cache=True, inline="always")
def _ahead(x, i, y, j):
    """Whether action i with Q-value x comes before action j with Q-value y."""
    return x > y or (x == y and i < j)


@numba.njit(cache=True, inline="always")
def _learn_cached(q, a, reward, g, r2, qg, qr, keep, alpha, gamma):
    """``_learn`` with the greedy and runner-up Q-values held in registers (``qg = q[g]``,
    ``qr = q[r2]``): the same update, the same comparisons. Returns (g, r2, qg, qr, moved)."""
    if a == g:
        new = keep * qg + alpha * (reward + gamma * qg)
        q[a] = new
        if _ahead(new, a, qr, r2):
            return g, r2, new, qr, False
        g, qg = r2, qr
        r2 = _first_max_except(q, g)
        return g, r2, qg, q[r2], True
    if a == r2:
        new = keep * qr + alpha * (reward + gamma * qg)
        q[a] = new
        if _ahead(new, a, qg, g):
            return a, g, new, qg, True
        r2 = _first_max_except(q, g)
        return g, r2, qg, q[r2], False
    new = keep * q[a] + alpha * (reward + gamma * qg)
    q[a] = new
    if _ahead(new, a, qg, g):
        return a, g, new, qg, True
    if _ahead(new, a, qr, r2):
        return g, a, qg, new, False
    return g, r2, qg, qr, False


@numba.njit(cache=True, parallel=True)
def _advance_pair(q, greedy, runner_up, t0, periods, event_time, event_action, cursor, keys,
                  revenue, changes, last_change, grid, values, order, first_price, alpha,
                  gamma, coin):
    """``_advance`` for two bidders, each alone: the period's state in registers. Slot 0 is
    group 0's bidder (``order[0]``), slot 1 group 1's; a tie goes to slot ``pick`` (always 0
    when ``coin`` is False: ties to the lowest index)."""
    keep = 1 - alpha
    tie_mask = np.int64(1 if coin else 0)
    i0, i1 = order[0], order[1]
    v0, v1 = values[i0], values[i1]
    for s in numba.prange(q.shape[0]):
        q0, q1 = q[s, i0], q[s, i1]
        g0, g1 = greedy[s, i0], greedy[s, i1]
        r0, r1 = runner_up[s, i0], runner_up[s, i1]
        qg0, qg1, qr0, qr1 = q0[g0], q1[g1], q0[r0], q1[r1]
        c0, c1 = cursor[s, i0], cursor[s, i1]
        n0, n1 = event_time[c0], event_time[c1]
        key = keys[s]
        total, moves, last = revenue[s], changes[s], last_change[s]
        for t in range(t0, t0 + periods):
            a0, a1 = g0, g1
            if n0 == t:
                a0 = event_action[c0]
                c0 += 1
                n0 = event_time[c0]
            if n1 == t:
                a1 = event_action[c1]
                c1 += 1
                n1 = event_time[c1]
            b0, b1 = grid[a0], grid[a1]
            # slot 1 wins (integer arithmetic, no branch on the coin)
            pick = np.int64(_tie_uniform(key, t) * 2) & tie_mask
            one = np.int64(b1 > b0) | (np.int64(b1 == b0) & pick)
            aw = a0 + one * (a1 - a0)
            price = grid[aw] if first_price else grid[a0 + a1 - aw]
            # the winner's v - price, the loser's 0.0 (d·1 + 0 = d and d·0 + 0 = +0.0 for
            # any finite d other than -0.0, which QGame rules out)
            w0 = (v0 - price) * np.float64(1 - one) + 0.0
            w1 = (v1 - price) * np.float64(one) + 0.0
            g0, r0, qg0, qr0, m0 = _learn_cached(q0, a0, w0, g0, r0, qg0, qr0, keep, alpha,
                                                 gamma)
            g1, r1, qg1, qr1, m1 = _learn_cached(q1, a1, w1, g1, r1, qg1, qr1, keep, alpha,
                                                 gamma)
            total += price
            if m0 or m1:
                moves += np.int64(m0) + np.int64(m1)
                last = t
        greedy[s, i0], greedy[s, i1] = g0, g1
        runner_up[s, i0], runner_up[s, i1] = r0, r1
        cursor[s, i0], cursor[s, i1] = c0, c1
        revenue[s], changes[s], last_change[s] = total, moves, last
