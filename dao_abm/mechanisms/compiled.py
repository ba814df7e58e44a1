"""The two-level settle of one lot, compiled: the pieces the numba loops share.

The engine's rules (``aggregation.py``, ``upper.py``, ``cost_sharing.py``) for one profile of
one lot, as numba functions a compiled loop calls member by member without allocating:

- aggregation (``AGGREGATION_CODES``): ``wtp``, WTP_g = max_i i·b_(i) over the group's bids
  high to low (``rank``, ``willingness_to_pay``), or ``sum``, added member by member in
  layout order (``total``); ``group_bid`` picks by code;
- upper auction: the highest group bid wins and pays itself (first price) or the highest
  other group bid (second price), ``winner_and_price``; what each group must beat,
  ``competition``;
- cost sharing (``SHARING_CODES``): ``max-equal-split``, the t = max{i : i·b_(i) >= p}
  highest bidders pay p/t each (``access_count``); ``equal-split-all``, all k members pay
  p/k; ``proportional``, members with b > 0 pay b·(p/Σb); ``settle`` applies one.

Layout: the members of group g are ``members[starts[g]:starts[g + 1]]`` (indices into the
member arrays ``bid``, ``values``); ``members`` is the identity when groups are contiguous.

Ties among equal highest group bids: ``winner_and_price`` gives the lot to the ``pick``-th
tied group in index order, so the caller chooses the rule: ``pick = 0`` is the engine's
(the lowest index wins, ``mechanisms/ties.py``), a uniform draw among the tied groups is a
fair coin (Banchio & Skrzypacz, ``ensemble/qgame.py``). ``competition`` states the engine's
rule as what each group must beat (``ties.competition``), for deviation analyses.

The small pieces are inlined into their callers (``inline="always"``): as calls into
another module they cost the Q-learning period loop about 5-10% (measured, wtp groups).
Numba's on-disk cache (``cache=True``) checks only the caller's own source file, so after
editing this module in a working tree, ``make clean-cache`` drops the compiled callers
(``ensemble/q_compiled.py``, ``noregret/``) that would otherwise keep the old pieces;
an installed package is unaffected (installing rewrites every file).

Named references: ``ensemble/q_reference`` (``group_bid``, ``settle``) and
``ties.competition``, held equal bit for bit on tie-heavy and large inputs
(``tests/test_mechanisms_compiled.py``); the loops built on these pieces are held to the
engine in ``tests/test_qgame.py`` and ``tests/test_noregret.py``.
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.mechanisms.ties import wins_tie

#: The aggregations compiled here, by code (index); ``group_bid`` takes ``wtp = code == 0``.
AGGREGATION_CODES = ("wtp", "sum")
#: The cost-sharing rules compiled here, by code (index), as ``settle`` takes them.
SHARING_CODES = ("max-equal-split", "equal-split-all", "proportional")

_wins_tie = numba.njit(cache=True, inline="always")(wins_tie)


@numba.njit(cache=True, inline="always")
def rank(bid, members, lo, hi, out):
    """``out[:hi - lo]`` = the bids of members ``members[lo:hi]``, high to low (insertion
    sort: groups are small); returns hi - lo."""
    k = hi - lo
    for m in range(k):
        x = bid[members[lo + m]]
        pos = m
        while pos > 0 and out[pos - 1] < x:
            out[pos] = out[pos - 1]
            pos -= 1
        out[pos] = x
    return k


@numba.njit(cache=True, inline="always")
def willingness_to_pay(ranked, k):
    """max_i i·b_(i) over ``ranked[:k]`` (bids high to low)."""
    best = -np.inf
    for i in range(k):
        if (i + 1) * ranked[i] > best:
            best = (i + 1) * ranked[i]
    return best


@numba.njit(cache=True, inline="always")
def total(bid, members, lo, hi):
    """The bids of members ``members[lo:hi]``, added left to right."""
    out = 0.0
    for m in range(lo, hi):
        out = out + bid[members[m]]
    return out


@numba.njit(cache=True)
def group_bid(bid, members, lo, hi, wtp, scratch):
    """The group bid of members ``members[lo:hi]``: WTP (``wtp``, ranking into ``scratch``)
    or the sum."""
    if wtp:
        return willingness_to_pay(scratch, rank(bid, members, lo, hi, scratch))
    return total(bid, members, lo, hi)


@numba.njit(cache=True)
def winner_and_price(group_bids, top, pick, first_price):
    """The ``pick``-th group (in index order) among those bidding ``top`` (the highest
    group bid) wins; it pays ``top`` (first price) or the highest other group bid (second
    price)."""
    winner, seen, second = -1, 0, -np.inf
    for j in range(group_bids.size):
        if winner < 0 and group_bids[j] == top:
            if seen == pick:
                winner = j
                continue
            seen += 1
        if group_bids[j] > second:
            second = group_bids[j]
    return winner, (top if first_price else second)


@numba.njit(cache=True)
def competition(group_bids, p, tie_win):
    """What each group must beat under the engine's tie rule (``ties.competition``):
    ``p[g]`` the highest bid among the other groups (0 with no other group), ``tie_win[g]``
    whether g wins when its bid equals ``p[g]``. Outputs ``(G,)``."""
    n_groups = group_bids.size
    for g in range(n_groups):
        top, who = -np.inf, -1
        for h in range(n_groups):
            if h != g and group_bids[h] > top:
                top, who = group_bids[h], h
        p[g] = top if who >= 0 else 0.0
        tie_win[g] = True if who < 0 else _wins_tie(g, who)


@numba.njit(cache=True, inline="always")
def access_count(ranked, k, price):
    """max-equal-split's t = max{i : i·b_(i) >= price} over ``ranked[:k]`` (0: none)."""
    t = 0
    for i in range(k):
        if ranked[i] * (i + 1) >= price:
            t = i + 1
    return t


@numba.njit(cache=True)
def settle(bid, group_bids, members, starts, values, top, pick, first_price, sharing,
           scratch, reward):
    """Settle one lot: the winner (``winner_and_price``) pays, its members share the price
    by rule ``sharing`` (code in ``SHARING_CODES``); ``reward`` ``(n,)`` is filled with
    every member's value - payment if it gets access, else 0. Returns the price.

    Args:
        bid, values: ``(n,)`` member bids and values; ``group_bids`` ``(G,)`` and ``top``
            their maximum; ``members``, ``starts`` the layout; ``scratch`` ``(n,)``.
    """
    winner, price = winner_and_price(group_bids, top, pick, first_price)
    for m in range(reward.size):
        reward[m] = 0.0
    lo, hi = starts[winner], starts[winner + 1]
    k = hi - lo
    if sharing == 0:  # max-equal-split
        rank(bid, members, lo, hi, scratch)
        t = access_count(scratch, k, price)
        if t > 0:
            cutoff, share = scratch[t - 1], price / t
            for m in range(lo, hi):
                i = members[m]
                if bid[i] >= cutoff:
                    reward[i] = values[i] - share
    elif sharing == 1:  # equal-split-all
        share = price / k
        for m in range(lo, hi):
            reward[members[m]] = values[members[m]] - share
    else:  # proportional
        pledged = total(bid, members, lo, hi)
        scale = price / pledged if pledged > 0 else 0.0
        for m in range(lo, hi):
            i = members[m]
            if bid[i] > 0:
                reward[i] = values[i] - bid[i] * scale
    return price
