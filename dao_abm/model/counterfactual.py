"""A member's utility last round had it been in another DAO: the re-formation score.

``counterfactual_utilities`` answers, for many candidate moves (member i from its DAO a to
DAO b) at once: what would i's utility have been had last round's auction run with i in b,
bidding as it did, every other bid and membership fixed? Every DAO keeps its index, which
decides ties between group bids (``upper.py``), and a DAO that i empties drops out.

Two evaluations, held equal (and equal to re-running the auction) in ``tests/test_reform.py``:

- ``submarket_utilities`` (used whenever the lots are independent): a lot's outcome for i
  depends on the other groups only through the highest bid it must beat. So i's new DAO
  b ∪ {i} is run against one singleton competitor bidding the highest of a \\ {i} (its
  group bid recomputed without i) and of the best DAO other than a and b, with the tie
  rule applied by index. Sub-markets are batched by the size of b, so the cost is
  O(Σ_moves n_b) and the only Python loops run over distinct DAO sizes and lots.
- ``ghost_utilities`` (VCG with unit-demand values over several items, where one group's
  bid moves every item's price): every candidate is one profile on the batch axis of a
  full engine run in which each DAO has an extra *ghost* seat; the ghost seat of b holds
  i's bids and i's own seat bids 0. O(moves × n) bids, chunked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from dao_abm.deviations import Market
from dao_abm.mechanisms import AGGREGATIONS, Groups, bundle_bids, utilities
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.ties import wins_tie

if TYPE_CHECKING:
    from dao_abm.model.reform import LastRound

#: Most member bids one engine call holds (memory bound).
CHUNK = 2_000_000


def counterfactual_utilities(last: LastRound, movers: np.ndarray, targets: np.ndarray
                             ) -> np.ndarray:
    """``(C,)`` the utility each ``movers[c]`` would have had last round in DAO
    ``targets[c]`` (see the module docstring)."""
    market = Market(last.mechanism, Groups.from_labels(last.labels), last.valuation)
    n_items = 1 if last.values.ndim == 1 else last.values.shape[1]
    if market.full_market(n_items):
        return ghost_utilities(last, movers, targets)
    return submarket_utilities(market, last.values, last.bids, movers, targets)


def submarket_utilities(market: Market, values: np.ndarray, bids: np.ndarray,
                        movers: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(C,)`` counterfactual utilities from one sub-market per (move, lot).

    Args:
        market: last round's mechanism, DAOs and valuation (independent lots).
        values, bids: ``(n,)`` or ``(n, m)``.
        movers, targets: ``(C,)`` member and the DAO it moves to (not its own).
    """
    groups, k = market.groups, market.groups.n_groups
    v = values.reshape(values.shape[0], -1)
    b = bids.reshape(v.shape)
    lot_bids = bundle_bids(b, market.valuation)[None] if market.upper.bundled else b.T
    aggregate = AGGREGATIONS[market.mechanism.aggregation]
    group_bids = aggregate(LotBids(np.ascontiguousarray(lot_bids), groups))  # (R, k)
    src = groups.labels[movers]
    rest, rest_id = _best_other(group_bids, src, targets)  # (R, C); id k when none
    left, left_id = _without_mover(aggregate, lot_bids, groups, movers, src)
    q = np.maximum(rest, left)
    first = np.minimum(np.where(rest == q, rest_id, k), np.where(left == q, left_id, k))
    access, payment = _join(market, lot_bids, movers, targets, q, wins_tie(targets, first))
    items = np.repeat(access, v.shape[1], axis=0) if market.upper.bundled else access
    held = np.where(items.T, v[movers], 0.0)  # (C, m): the items each mover would hold
    worth = held.max(axis=-1) if market.valuation == "unit-demand" else held.sum(axis=-1)
    return worth - payment.sum(axis=0)


def _best_other(group_bids: np.ndarray, src: np.ndarray, targets: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(R, C)`` the highest bid among DAOs other than ``src`` and ``targets`` and its DAO
    (the lowest index among equal bids); bid -inf and DAO k where there is none."""
    k = group_bids.shape[1]
    order = np.lexsort((np.broadcast_to(np.arange(k), group_bids.shape), -group_bids))
    top = order[:, :3]  # at most two of the top three are excluded
    ok = (top[:, None, :] != src[:, None]) & (top[:, None, :] != targets[:, None])
    pick = np.take_along_axis(np.broadcast_to(top[:, None, :], ok.shape),
                              ok.argmax(axis=-1)[..., None], axis=-1)[..., 0]
    found = ok.any(axis=-1)
    bid = np.take_along_axis(group_bids, np.where(found, pick, 0), axis=-1)
    return np.where(found, bid, -np.inf), np.where(found, pick, k)


def _without_mover(aggregate, lot_bids: np.ndarray, groups: Groups, movers: np.ndarray,
                   src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, C)`` the bid of each mover's old DAO without it (-inf, DAO k, if it empties)."""
    rows, k = lot_bids.shape[0], groups.n_groups
    bid = np.full((rows, movers.size), -np.inf)
    sizes = groups.sizes[src]
    for size in np.unique(sizes[sizes > 1]).tolist():  # distinct sizes only
        sel = np.flatnonzero(sizes == size)
        mates = groups.order[groups.starts[src[sel], None] + np.arange(size)]  # (c, size)
        sub = np.where(mates == movers[sel, None], 0.0, lot_bids[:, mates])  # 0 = absent
        lot = LotBids(sub.reshape(-1, size), _sizes((size,)))
        bid[:, sel] = aggregate(lot).reshape(rows, sel.size)
    return bid, np.where(sizes > 1, src, k)


def _join(market: Market, lot_bids: np.ndarray, movers: np.ndarray, targets: np.ndarray,
          q: np.ndarray, tie_win: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, C)`` access and payment of each mover inside its target DAO (plus itself),
    against one singleton competitor bidding ``q`` (``-inf``: none, bids 0)."""
    groups, rows = market.groups, lot_bids.shape[0]
    access, payment = np.zeros((rows, movers.size), dtype=bool), np.zeros((rows, movers.size))
    sizes = groups.sizes[targets]
    for size in np.unique(sizes).tolist():  # distinct sizes only
        sel = np.flatnonzero(sizes == size)
        step = max(1, CHUNK // (rows * (size + 2)))
        for lo in range(0, sel.size, step):  # memory chunks
            part = sel[lo:lo + step]
            mates = groups.order[groups.starts[targets[part], None] + np.arange(size)]
            sub = np.concatenate([lot_bids[:, mates], lot_bids[:, movers[part], None],
                                  np.maximum(q[:, part], 0.0)[..., None]], axis=-1)
            out = market.single_lot.run(sub.reshape(-1, size + 2), _sizes((size + 1, 1)),
                                        "single", validate=False)
            seat = out.access[:, 0].reshape(rows, part.size, size + 2)[..., size]
            paid = out.lot_payments[:, 0].reshape(rows, part.size, size + 2)[..., size]
            bids = out.group_bids[:, 0].reshape(rows, part.size, 2)
            lost = (bids[..., 0] == bids[..., 1]) & ~tie_win[:, part]  # index 0 won the tie
            access[:, part], payment[:, part] = seat & ~lost, np.where(lost, 0.0, paid)
    return access, payment


@lru_cache(maxsize=256)
def _sizes(sizes: tuple[int, ...]) -> Groups:
    return Groups.from_sizes(list(sizes))


def ghost_utilities(last: LastRound, movers: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(C,)`` counterfactual utilities by full engine runs over a batch axis of profiles.

    The membership is fixed across the batch: every DAO gets one extra ghost seat. In
    profile c the ghost seat of ``targets[c]`` holds the mover's bids and values and the
    mover's own seat bids 0; all other ghost seats bid 0. Bidding 0 is the same as being
    absent for every rule here (WTP, sum and max aggregation ignore zeros; zeros win
    nothing under max-equal-split at a positive price and pay nothing otherwise);
    ``equal-split-all`` divides by the group size, which for the target DAO is exactly its
    size with the mover. One difference: a DAO the mover empties stays as a group bidding
    0. That matters only for ties: when the top group bids tie at 0, and under VCG with
    unit-demand values over several items, whose assignment may choose differently among
    equally good allocations when a DAO is added.
    """
    n, k = last.labels.size, int(last.labels.max()) + 1
    groups = Groups.from_labels(np.concatenate([last.labels, np.arange(k)]))
    step = max(1, CHUNK // ((n + k) * last.bids[0].size))
    out = np.empty(movers.size)
    for lo in range(0, movers.size, step):  # memory chunks, not members
        who, where = movers[lo:lo + step], targets[lo:lo + step]
        bids = _ghost_profiles(last.bids, who, where, k)
        values = _ghost_profiles(last.values, who, where, k)
        outcome = last.mechanism.run(bids, groups, last.valuation, validate=False)
        out[lo:lo + step] = utilities(values, outcome)[np.arange(who.size), n + where]
    return out


def _ghost_profiles(x: np.ndarray, movers: np.ndarray, targets: np.ndarray, k: int
                    ) -> np.ndarray:
    """``(C, n + k[, m])``: ``x`` with each mover's entry moved to its target's ghost seat."""
    n, rows = x.shape[0], np.arange(movers.size)
    out = np.zeros((movers.size, n + k, *x.shape[1:]))
    out[:, :n] = x
    out[rows, n + targets] = x[movers]
    out[rows, movers] = 0.0
    return out
