"""Candidate deviations for epsilon: a grid, an absolute range, and the breakpoints.

A member's outcome on a lot is piecewise constant (or monotone) in its own bid, and it can
change only where its DAO's bid crosses the highest other group bid p (the lot's price,
under Vickrey pricing) or where the member enters the set that gets access. Candidates that
only multiply the member's value miss those points, and a member who values an item at 0
could never bid on it. So a member's candidates for one lot are

- the relative grid: multiples of its value (``payoffs.relative_grid``, 0 and 1 included);
- an absolute range: ``ABSOLUTE_POINTS`` points of [0, grid_max · the largest value], the
  same for every member;
- its current bid;
- the breakpoints of the lot (``lot_breakpoints``): the competitor's group bid p and the
  floats either side of it (what a member of a group of one, or under the ``max``
  aggregation, must bid to tie or beat it), and the exact smallest bid that wins, with the
  largest bid below it: the critical bid theta under the ``wtp`` aggregation
  (``critical.py``: access under max-equal-split, and the group's win otherwise), and for
  the ``sum`` aggregation the smallest float x with (before + x) + after beating p in the
  engine's own order of addition (``smallest_winning_share``), where before/after are the
  sums of the member's DAO-mates' bids, and the float above it (proportional shares grant
  access only to a bid > 0, so where the DAO wins at 0 the best bid is the smallest
  positive one).

For a bundled upper mechanism the breakpoints are levels X of the member's bundle bid (the
sum of its item bids, additive, or their maximum, unit-demand); ``bundle_to_items`` turns
them into item bids.
"""

from __future__ import annotations

import numpy as np

from dao_abm.deviations.closed_forms import partial_sums
from dao_abm.deviations.critical import critical_bids, float_below
from dao_abm.deviations.market import Market
from dao_abm.deviations.payoffs import relative_grid
from dao_abm.mechanisms import AGGREGATIONS
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.ties import competition

#: Points of the absolute range [0, grid_max · largest value] in every member's candidates.
ABSOLUTE_POINTS = 9
#: Most halvings of ``smallest_winning_share`` (float64 has 2^63 nonnegative bit patterns).
_BISECTIONS = 64


def n_breakpoints(market: Market) -> int:
    """B, the number of breakpoints ``lot_breakpoints`` gives each member."""
    return {"wtp": 5, "sum": 6}.get(market.mechanism.aggregation, 3)


def lot_breakpoints(market: Market, lot_bids: np.ndarray) -> np.ndarray:
    """Every member's breakpoints on one lot.

    Args:
        market: the mechanism and DAOs.
        lot_bids: ``(R, n)`` member bids for the lot (R independent lots).

    Returns:
        ``(R, n, B)`` bids >= 0, B = ``n_breakpoints(market)`` (see the module docstring).
    """
    groups = market.groups
    aggregation = market.mechanism.aggregation
    p, tie_win = competition(AGGREGATIONS[aggregation](LotBids(lot_bids, groups)))
    p_i = p[:, groups.labels]
    points = [p_i, np.nextafter(p_i, np.inf), below(p_i)]
    if aggregation == "wtp":
        theta, _ = critical_bids(lot_bids, groups, market.slot_index)
        points += [theta, below(theta)]
    elif aggregation == "sum":
        x = smallest_winning_share(lot_bids, market, p_i, tie_win[:, groups.labels])
        points += [x, below(x), np.nextafter(x, np.inf)]  # > 0: proportional access
    return np.stack(points, axis=-1)


def smallest_winning_share(
    lot_bids: np.ndarray, market: Market, p: np.ndarray, tie_win: np.ndarray
) -> np.ndarray:
    """``(R, n)`` the smallest float bid x >= 0 with which each member's DAO wins the lot
    under the ``sum`` aggregation, every other bid fixed: (before + x) + after > p, or = p
    where the DAO wins ties (``critical.competition``), summed in the order of
    ``closed_forms.sum_outcome``. Found by bisection on the bits of x (floats >= 0 are
    ordered as their int64 bits), which converges in as many steps as the sum has bits
    more than x. ``p``, ``tie_win``: ``(R, n)`` each member's competition."""
    before, after = partial_sums(lot_bids, market.groups)

    def wins(x: np.ndarray) -> np.ndarray:
        bid = (before + x) + after
        return (bid > p) | ((bid == p) & tie_win)

    guess = np.maximum((p - before) - after, 0.0)
    slack = 4 * np.spacing(np.maximum(p, before + after))
    hi = guess + slack
    for _ in range(_BISECTIONS):  # grow hi until it wins (at most a few doublings)
        short = ~wins(hi)
        if not short.any():
            break
        hi = np.where(short, 2 * hi + slack, hi)
    lo = np.maximum(guess - slack, 0.0)
    lo = np.where(wins(lo), 0.0, lo)  # lo loses, or is 0
    lo_bits, hi_bits = lo.view(np.int64), hi.view(np.int64)
    for _ in range(_BISECTIONS):
        open_ = hi_bits - lo_bits > 1
        if not open_.any():
            break
        mid = lo_bits + (hi_bits - lo_bits) // 2
        ok = wins(mid.view(np.float64))
        hi_bits = np.where(open_ & ok, mid, hi_bits)
        lo_bits = np.where(open_ & ~ok, mid, lo_bits)
    found = hi_bits.view(np.float64)
    return np.where(wins(np.zeros_like(found)), 0.0, found)


def below(x: np.ndarray) -> np.ndarray:
    """The largest float below each x > 0, and 0 at x = 0."""
    return np.fmax(float_below(np.asarray(x, dtype=np.float64) + 0.0), 0.0)


def member_candidates(
    market: Market, values: np.ndarray, bids: np.ndarray, grid, grid_max: float
) -> np.ndarray:
    """``(n, m, K)`` each member's candidate bids per item (module docstring).

    Args:
        values, bids: ``(n, m)`` fixed values and current bids (``with_items``).
        grid: the relative grid (None: ``DEFAULT_GRID``); grid_max: the absolute range's
            top as a multiple of the largest value.
    """
    relative = values[..., None] * relative_grid(grid)
    top = grid_max * float(values.max(initial=0.0))
    absolute = np.broadcast_to(np.linspace(0.0, top, ABSOLUTE_POINTS), (*values.shape,
                                                                      ABSOLUTE_POINTS))
    if market.upper.bundled:
        level = lot_breakpoints(market, bundle_bids(market, bids)[None])[0]  # (n, B)
        points = bundle_to_items(market, bids, level)
    else:
        points = np.moveaxis(lot_breakpoints(market, np.ascontiguousarray(bids.T)), 0, 1)
    return np.concatenate([relative, absolute, bids[..., None], points], axis=-1)


def bundle_bids(market: Market, bids: np.ndarray) -> np.ndarray:
    """``(..., n)`` the bundle bid the engine forms from item bids ``(..., n, m)``."""
    return bids.max(axis=-1) if market.valuation == "unit-demand" else bids.sum(axis=-1)


def bundle_to_items(market: Market, bids: np.ndarray, level: np.ndarray) -> np.ndarray:
    """``(n, m, B)`` item bids that move each member's bundle bid to ``level`` ``(n, B)``
    with its other items kept: X itself (unit-demand: the bundle bid is the maximum, so X
    is reached when it is at least the other items' bids) or X minus the other items' sum
    (additive; clipped at 0, where X is out of reach)."""
    if market.valuation == "unit-demand":
        return np.broadcast_to(level[:, None, :], (*bids.shape, level.shape[-1])).copy()
    rest = bids.sum(axis=-1, keepdims=True) - bids  # (n, m)
    return np.maximum(level[:, None, :] - rest[..., None], 0.0)
