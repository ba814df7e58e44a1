"""The compiled round loop: sessions of Hedge or EXP3 members learning a shading factor.

Each round of each session: every member draws its value afresh, bids factor × value, the
auction runs (``auction.py``), and every member updates its weights with the registered
rule's own update, operation for operation:

- ``hedge`` (``learning/rules/hedge.py``, full feedback): ``total += u / max(v, 1e-12)``
  for every factor's utility u against the others' actual bids this round, then plays
  next from ``softmax(eta · total)``;
- ``exp3`` (``learning/rules/exp3.py``, bandit feedback): from the realized utility of the
  factor played only, x = clip(u / max(v, 1e-12), 0, 1); ``estimate += 1``,
  ``estimate[played] -= (1 - x) / P_played``; plays next from
  ``(1 - gamma) · softmax(eta · estimate) + gamma / K``.

The next factor is drawn as ``learning.choice.sample`` draws it (one uniform per member,
inverse CDF). The uniforms and values come in from the caller's Generators, so the loop
holds no random state; ``sessions.run_reference`` steps the registered rule objects
themselves on the same draws, and ``tests/test_noregret.py`` holds the two equal, choice
for choice.
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.noregret.auction import deviation, largest_split, prepare

#: The rules this kernel runs, by code (index).
RULES = ("hedge", "exp3")


@numba.njit(cache=True, inline="always")
def _softmax_into(logits, out):
    top = logits.max()
    total = 0.0
    for k in range(logits.size):
        out[k] = np.exp(logits[k] - top)
        total += out[k]
    for k in range(logits.size):
        out[k] /= total


@numba.njit(cache=True, inline="always")
def _sample(prob, u):
    """``learning.choice.sample`` for one row: the number of CDF entries <= u · CDF[-1]
    (the CDF summed twice in the same order instead of stored)."""
    cdf = 0.0
    for k in range(prob.size):
        cdf += prob[k]
    level = u * cdf
    cdf, count = 0.0, 0
    for k in range(prob.size):
        cdf += prob[k]
        if cdf <= level:
            count += 1
    return min(count, prob.size - 1)


@numba.njit(cache=True, inline="always")
def _full_feedback(mech, i, g, value, factors, bids, starts, ranked, p, tie_win, before,
                   after, total, scale):
    """Hedge's update: add every factor's utility this round, in units of the value, to
    ``total``. Each equals ``auction.deviation``; Mechanism 1 goes through the critical bid
    p / s_max (``auction.largest_split``), the sum rules through their O(1) closed forms."""
    price = p[g]
    if mech == 0:
        split, fragile = largest_split(i, g, bids, starts, ranked, p, tie_win)
        for k in range(factors.size):
            x = factors[k] * value
            if fragile or split * x == price:
                u = deviation(mech, i, g, x, value, bids, starts, ranked, p, tie_win, before,
                              after)
            elif split * x >= price:
                u = value - price / split
            else:
                u = 0.0
            total[k] += u / scale
        return
    share = price / (starts[g + 1] - starts[g])
    for k in range(factors.size):
        x = factors[k] * value
        group_bid = (before[i] + x) + after[i]
        u = 0.0
        if group_bid > price or (group_bid == price and tie_win[g]):
            if mech == 2:
                u = value - share
            elif x > 0.0:
                u = value - x
        total[k] += u / scale


@numba.njit(cache=True)
def advance(mech, rule, eta, gamma, factors, one, starts, values, uniforms, choice, state,
            last, t0, every, w1, share, factor, modal):
    """Play ``values.shape[1]`` rounds of every session in place.

    Args:
        mech, rule: indices in ``auction.MECHANISMS`` and ``RULES``.
        eta, gamma: the rule's learning rate and (EXP3) exploration.
        factors: ``(K,)`` the shading factors; ``one``: the index of factor 1.
        starts: ``(G + 1,)`` first member of each group, then n.
        values, uniforms: ``(S, B, n)`` each round's values and sampling uniforms.
        choice: ``(S, n)`` the factor index each member plays this round (updated).
        state: ``(S, n, K)`` Hedge's cumulative scaled utilities, EXP3's estimates.
        last: ``(S, n, K)`` the probabilities each member plays with (updated).
        t0: rounds played before this block; ``every``: record every this many rounds.
        w1, share, factor, modal: ``(R, S, G)`` records at rounds every, 2·every, ...: per
            group, the mean weight on factor 1, the share of members whose weight on it
            exceeds 1/2, the mean of E_w[factor], and the share whose likeliest factor is 1.
    """
    n_sessions, n_rounds, n = values.shape
    n_groups = starts.size - 1
    k_opts = factors.size
    bids = np.empty(n)
    members = np.arange(n)
    ranked, before, after = np.empty(n), np.empty(n), np.empty(n)
    gbid, p = np.empty(n_groups), np.empty(n_groups)
    tie_win = np.empty(n_groups, dtype=np.bool_)
    group_of = np.empty(n, dtype=np.int64)
    for g in range(n_groups):
        group_of[starts[g]:starts[g + 1]] = g
    logits = np.empty(k_opts)
    soft = np.empty(k_opts)
    for s in range(n_sessions):
        for b in range(n_rounds):
            v = values[s, b]
            for i in range(n):
                bids[i] = factors[choice[s, i]] * v[i]
            prepare(mech, bids, members, starts, ranked, gbid, p, tie_win, before, after)
            for i in range(n):
                g = group_of[i]
                scale = max(v[i], 1e-12)
                if rule == 0:
                    _full_feedback(mech, i, g, v[i], factors, bids, starts, ranked, p,
                                   tie_win, before, after, state[s, i], scale)
                    for k in range(k_opts):
                        logits[k] = eta * state[s, i, k]
                    _softmax_into(logits, last[s, i])
                else:
                    a = choice[s, i]
                    u = deviation(mech, i, g, bids[i], v[i], bids, starts, ranked, p,
                                  tie_win, before, after)
                    x = min(max(u / scale, 0.0), 1.0)
                    p_played = last[s, i, a]
                    for k in range(k_opts):
                        state[s, i, k] += 1.0
                    state[s, i, a] -= (1.0 - x) / p_played
                    for k in range(k_opts):
                        logits[k] = eta * state[s, i, k]
                    _softmax_into(logits, soft)
                    for k in range(k_opts):
                        last[s, i, k] = (1.0 - gamma) * soft[k] + gamma / k_opts
                choice[s, i] = _sample(last[s, i], uniforms[s, b, i])
            t = t0 + b + 1
            if t % every == 0:
                _record(t // every - 1, s, last[s], factors, one, starts, w1, share, factor,
                        modal)


@numba.njit(cache=True)
def _record(r, s, prob, factors, one, starts, w1, share, factor, modal):
    for g in range(starts.size - 1):
        lo, hi = starts[g], starts[g + 1]
        a = b = c = d = 0.0
        for i in range(lo, hi):
            w = prob[i, one]
            a += w
            b += 1.0 if w > 0.5 else 0.0
            c += (prob[i] * factors).sum()
            d += 1.0 if prob[i].argmax() == one else 0.0
        size = hi - lo
        w1[r, s, g], share[r, s, g] = a / size, b / size
        factor[r, s, g], modal[r, s, g] = c / size, d / size
