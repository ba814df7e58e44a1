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

The round's group bids and what each group must beat come from the compiled settle
(``mechanisms/compiled.py``: ``group_bid``, ``competition``): among equal group bids the
lowest group index wins, the rule the engine uses. Member i's deviation to x is evaluated
from the others' bids exactly as the engine evaluates the deviated profile: the same
products j·b_(j), the same comparisons, and sums in the order
``deviations.closed_forms.sum_outcome`` uses. The named reference is the engine itself,
through ``dao_abm.deviations.deviation_utilities`` (equal on random and tie-heavy profiles
in ``tests/test_noregret.py``).
"""

from __future__ import annotations

import numba
import numpy as np

from dao_abm.mechanisms.compiled import competition, group_bid

#: The mechanisms this kernel evaluates, by code (index).
MECHANISMS = ("dao-vickrey", "crowdfund", "split-the-bill")


@numba.njit(cache=True)
def prepare(mech, bids, members, starts, ranked, gbid, p, tie_win, before, after):
    """Per-round state shared by every deviation: each group's bids sorted high to low,
    group bids, what each group must beat, and partial sums (the compiled settle's pieces,
    ``mechanisms/compiled.py``).

    Args:
        mech: index in ``MECHANISMS``.
        bids: ``(n,)`` member bids.
        members: ``(n,)`` the identity (groups are contiguous).
        starts: ``(G + 1,)`` the first member of each group, then n.
        ranked, before, after: ``(n,)`` outputs: each group's bids high to low (Mechanism
            1), at its members' places; sums of the bids before and after each member
            within its group (the sum rules).
        gbid, p: ``(G,)`` outputs: group bids; the highest bid among the other groups.
        tie_win: ``(G,)`` output: True when the group wins a tie against that bid.
    """
    for g in range(starts.size - 1):
        lo, hi = starts[g], starts[g + 1]
        gbid[g] = group_bid(bids, members, lo, hi, mech == 0, ranked[lo:hi])
        if mech != 0:
            run = 0.0
            for i in range(lo, hi):
                before[i] = run
                run += bids[i]
            run = 0.0
            for i in range(hi - 1, lo - 1, -1):
                after[i] = run
                run += bids[i]
    competition(gbid, p, tie_win)


@numba.njit(cache=True)
def deviation(mech, i, g, x, value, bids, starts, ranked, p, tie_win, before, after):
    """Member i (of group g, value ``value``)'s utility when it alone bids x; the other
    arguments as filled by ``prepare``."""
    lo, hi = starts[g], starts[g + 1]
    price = p[g]
    if mech != 0:
        pooled = (before[i] + x) + after[i]
        if not (pooled > price or (pooled == price and tie_win[g])):
            return 0.0
        if mech == 1:
            return value - x if x > 0.0 else 0.0
        return value - price / (hi - lo)
    # Mechanism 1: walk the others high to low (the group's bids but one equal to i's
    # own) with x inserted at its place.
    wtp, t, cutoff, placed, rank, skip = -1.0, 0, np.inf, False, 0, True
    for j in range(lo, hi):
        b = ranked[j]
        if skip and b == bids[i]:
            skip = False
            continue
        if not placed and x >= b:
            rank += 1
            prod = rank * x
            wtp = max(wtp, prod)
            if prod >= price:
                t, cutoff = rank, x
            placed = True
        rank += 1
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
def largest_split(i, g, bids, starts, ranked, p, tie_win):
    """Mechanism 1: s_max = max{s : s·a_(s-1) >= p} over the others of member i's group
    sorted high to low (a_0 = inf); i gets access iff s_max · x >= p and then pays p / s_max
    (the critical bid, ``deviations/critical.py``). Also returns whether that shortcut may
    differ from ``deviation`` for some x: only when the group loses ties and a product
    s·a_(s-1) or s·a_s equals p exactly (a tie between group bids; measure zero for
    continuous values), when the caller must ask ``deviation``."""
    lo, hi = starts[g], starts[g + 1]
    price = p[g]
    s_max, fragile, rank, skip = 1, False, 1, True  # s = 1 always qualifies (a_0 = inf)
    for j in range(lo, hi):
        b = ranked[j]
        if skip and b == bids[i]:  # i's own bid, once
            skip = False
            continue
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
    members = np.arange(n)
    ranked, before, after = np.empty(n), np.empty(n), np.empty(n)
    gbid, p = np.empty(n_groups), np.empty(n_groups)
    tie_win = np.empty(n_groups, dtype=np.bool_)
    for r in range(rows):
        prepare(mech, bids[r], members, starts, ranked, gbid, p, tie_win, before, after)
        for g in range(n_groups):
            for i in range(starts[g], starts[g + 1]):
                for d in range(candidates.shape[2]):
                    out[r, i, d] = deviation(mech, i, g, candidates[r, i, d], values[r, i],
                                             bids[r], starts, ranked, p, tie_win, before, after)
    return out
