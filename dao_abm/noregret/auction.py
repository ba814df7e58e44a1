"""One auction of one session, compiled: what a member gets if it alone bids x.

The three presets members learn under in this experiment, for any number of groups (DAOs,
or individual bidders as groups of one), with the members of group g stored contiguously
(``starts[g] .. starts[g + 1]``):

- ``dao-vickrey`` (Mechanism 1, Section 3.1): group bid WTP_g = max_j j·b_(j); the highest
  group bid wins and pays the highest other group bid p; the largest set of top bidders
  t = max{j : j·b_(j) >= p} gets access and each pays p / t.
- ``crowdfund``: pledges summed, first price, shares pro rata: a member with a positive
  pledge x in the winning group gets access and pays x.
- ``split-the-bill``: pledges summed, second price, every member of the winning group gets
  access and pays p / n_g.

Among equal group bids the lowest group index wins (``mechanisms.ties.wins_tie``, the rule
the engine uses). Member i's deviation to x is evaluated from the others' bids exactly as the
engine evaluates the deviated profile: the same products j·b_(j), the same comparisons, and
sums in the order ``deviations.closed_forms.sum_outcome`` uses. The named reference is the
engine itself, through ``dao_abm.deviations.deviation_utilities`` (equal on random and
tie-heavy profiles in ``tests/test_noregret.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.mechanisms.ties import wins_tie

#: The mechanisms this kernel evaluates, by code (index).
MECHANISMS = ("dao-vickrey", "crowdfund", "split-the-bill")

_wins_tie = numba.njit(cache=True, inline="always")(wins_tie)


@numba.njit(cache=True)
def prepare(mech, bids, starts, order, gbid, p, tie_win, before, after):
    """Per-round state shared by every deviation: each group's members sorted by bid (high
    to low, into ``order``), group bids, what each group must beat, and partial sums.

    Args:
        mech: index in ``MECHANISMS``.
        bids: ``(n,)`` member bids.
        starts: ``(G + 1,)`` the first member of each group, then n.
        order, before, after: ``(n,)`` outputs: member indices sorted high to low within
            each group; sums of the bids before and after each member within its group.
        gbid, p: ``(G,)`` outputs: group bids; the highest bid among the other groups.
        tie_win: ``(G,)`` output: True when the group wins a tie against that bid.
    """
    n_groups = starts.size - 1
    for g in range(n_groups):
        lo, hi = starts[g], starts[g + 1]
        for i in range(lo, hi):  # insertion sort, high to low (groups are small)
            j = i
            order[j] = i
            while j > lo and bids[order[j - 1]] < bids[order[j]]:
                order[j - 1], order[j] = order[j], order[j - 1]
                j -= 1
        if mech == 0:
            best = -1.0
            for j in range(hi - lo):
                best = max(best, (j + 1.0) * bids[order[lo + j]])
            gbid[g] = best
        else:
            run = 0.0
            for i in range(lo, hi):
                before[i] = run
                run += bids[i]
            gbid[g] = run
            run = 0.0
            for i in range(hi - 1, lo - 1, -1):
                after[i] = run
                run += bids[i]
    for g in range(n_groups):
        top, who = -np.inf, -1
        for h in range(n_groups):
            if h != g and gbid[h] > top:
                top, who = gbid[h], h
        p[g] = top if who >= 0 else 0.0
        tie_win[g] = True if who < 0 else _wins_tie(g, who)


@numba.njit(cache=True)
def deviation(mech, i, g, x, value, bids, starts, order, p, tie_win, before, after):
    """Member i (of group g, value ``value``)'s utility when it alone bids x; the other
    arguments as filled by ``prepare``."""
    lo, hi = starts[g], starts[g + 1]
    price = p[g]
    if mech != 0:
        group_bid = (before[i] + x) + after[i]
        if not (group_bid > price or (group_bid == price and tie_win[g])):
            return 0.0
        if mech == 1:
            return value - x if x > 0.0 else 0.0
        return value - price / (hi - lo)
    # Mechanism 1: walk the others high to low with x inserted at its place.
    wtp, t, cutoff, placed, rank = -1.0, 0, np.inf, False, 0
    for j in range(lo, hi):
        other = order[j]
        if other == i:
            continue
        if not placed and x >= bids[other]:
            rank += 1
            prod = rank * x
            wtp = max(wtp, prod)
            if prod >= price:
                t, cutoff = rank, x
            placed = True
        rank += 1
        b = bids[other]
        prod = rank * b
        wtp = max(wtp, prod)
        if prod >= price:
            t, cutoff = rank, b
    if not placed:
        rank += 1
        prod = rank * x
        wtp = max(wtp, prod)
        if prod >= price:
            t, cutoff = rank, x
    if not (wtp > price or (wtp == price and tie_win[g])):
        return 0.0
    if t == 0 or x < cutoff:
        return 0.0
    return value - price / t


@numba.njit(cache=True)
def largest_split(i, g, bids, starts, order, p, tie_win):
    """Mechanism 1: s_max = max{s : s·a_(s-1) >= p} over the others of member i's group
    sorted high to low (a_0 = inf); i gets access iff s_max · x >= p and then pays p / s_max
    (the critical bid, ``deviations/critical.py``). Also returns whether that shortcut may
    differ from ``deviation`` for some x: only when the group loses ties and a product
    s·a_(s-1) or s·a_s equals p exactly (a tie between group bids; measure zero for
    continuous values), when the caller must ask ``deviation``."""
    lo, hi = starts[g], starts[g + 1]
    price = p[g]
    s_max, fragile, rank = 1, False, 1  # s = 1 always qualifies (a_0 = inf)
    for j in range(lo, hi):
        other = order[j]
        if other == i:
            continue
        b = bids[other]
        if rank * b == price or (rank + 1) * b == price:
            fragile = True
        rank += 1
        if rank * b >= price:
            s_max = rank
    return float(s_max), fragile and not tie_win[g]


@numba.njit(cache=True)
def deviation_table(mech, values, bids, candidates, starts):
    """``(R, n, D)`` every member's utility when it alone bids each of its candidates,
    ``values`` and ``bids`` ``(R, n)``, ``candidates`` ``(R, n, D)``: the compiled twin of
    ``deviations.deviation_utilities`` for these mechanisms (for tests and measurements)."""
    rows, n = bids.shape
    n_groups = starts.size - 1
    out = np.empty(candidates.shape)
    order = np.empty(n, dtype=np.int64)
    before, after = np.empty(n), np.empty(n)
    gbid, p = np.empty(n_groups), np.empty(n_groups)
    tie_win = np.empty(n_groups, dtype=np.bool_)
    for r in range(rows):
        prepare(mech, bids[r], starts, order, gbid, p, tie_win, before, after)
        for g in range(n_groups):
            for i in range(starts[g], starts[g + 1]):
                for d in range(candidates.shape[2]):
                    out[r, i, d] = deviation(mech, i, g, candidates[r, i, d], values[r, i],
                                             bids[r], starts, order, p, tie_win, before, after)
    return out
