"""Every member's critical bid under Mechanism 1 (WTP / Vickrey / max-equal-split), at once.

Fix everyone else's bids. Member i of group j faces p = p_j, the highest WTP among the other
groups. With the others of group j sorted high to low, a_1 >= a_2 >= ... (a_0 = +inf), i joins
an equal-split set of size s iff its bid b >= p/s and a_{s-1} >= p/s, so i gets access iff
b >= c_i = p / s_max(i), s_max(i) = max{s : s·a_{s-1} >= p}, and then pays exactly c_i
(Theorem 3.1: the allocation is monotone and the payment is the critical bid). With i at rank
r of the sorted group b_(1) >= ... >= b_(n_j) and T = t_j(p) = max{s : s·b_(s) >= p}:

    s_max(i) = T                             if r < T   (a_{s-1} = b_(s) for s > r)
             = max{s <= r : s·b_(s-1) >= p}   otherwise  (a_{s-1} = b_(s-1) for s <= r)

Both are "nearest slot satisfying a condition" queries on the flat sorted layout of
``Groups``: T is a per-row ``minimum.reduceat`` and the second is a reverse running minimum
of slot positions, which never leaves the row because the condition holds at rank 1
(a_0 = inf). Members with equal bids get the same c_i (their "others" are the same multiset).

Group ties. The engine gives a lot tied between group bids to the lowest group index. Then
i's access also needs WTP_j(b) > p when group j loses ties and the others of j do not already
bid WTP > p; that holds iff b > p / s'(i) with s'(i) the strict analogue of s_max(i). Both
conditions are evaluated in float64 exactly as the engine evaluates them (``s·b >= p`` on the
same products), so the access region is [theta_i, inf) for a float threshold theta_i:
the smallest float bid that wins access. theta_i equals c_i up to an ulp unless others' bids
sit exactly on p/s (a measure-zero, degenerate case in which truthfulness fails by ties).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms.groups import PAD, Groups

_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class SlotIndex:
    """Per-slot facts about the flat layout of ``Groups`` (built once per membership).

    Attributes:
        rank: ``(N,)`` float rank from the top of each slot once rows are sorted ascending.
        rank_base: ``(N,)`` float, ``rank + slot``: rank of slot y of the same row is
            ``rank_base - y``.
        row: ``(N,)`` layout row (one row per group) of each slot.
        group: ``(N,)`` group of each slot.
        real: ``(N,)`` True on member slots; padding sorts first, so it sits at rank > n_j;
            None when there is no padding.
        below: ``(N,)`` True on member slots with another member ranked below them.
        row_starts: ``(k,)`` first slot of each row; ``row_ends``: its last slot (rank 1).
        row_of_group: ``(k,)`` layout row of each group.
    """

    rank: np.ndarray
    rank_base: np.ndarray
    row: np.ndarray
    group: np.ndarray
    real: np.ndarray | None
    below: np.ndarray
    row_starts: np.ndarray
    row_ends: np.ndarray
    row_of_group: np.ndarray

    @classmethod
    def from_groups(cls, groups: Groups) -> SlotIndex:
        widths = np.concatenate([np.full(b.group_ids.size, b.width) for b in groups.blocks])
        row = np.repeat(np.arange(widths.size), widths)
        group = groups.row_group[row]
        size = groups.sizes[group].astype(np.float64)
        rank = groups.layout_rank
        real = None if groups.layout_pad is None else rank <= size
        row_of_group = np.empty_like(groups.row_group)
        row_of_group[groups.row_group] = np.arange(widths.size)
        return cls(
            rank, rank + np.arange(rank.size), row, group, real, rank < size,
            groups.row_starts, groups.row_starts + widths - 1, row_of_group,
        )


def sort_with_owners(bids: np.ndarray, groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """Each group's bids sorted ascending in the flat layout, and who bid them.

    Args:
        bids: ``(R, n)`` member bids for one lot.

    Returns:
        ``(R, N)`` sorted bids (padding ``PAD`` first in each row, as in
        ``LotBids.sorted_layout``) and ``(R, N)`` the member at each slot.
    """
    # argsort on the short rows of each block: on rows of <= ~64 it runs as fast as the
    # engine's np.sort (measured 8-11 ms for 10^6 members), and the permutation is what
    # maps critical bids back to members; a stable or global lexsort costs 2-10x more.
    laid = np.take(bids, groups.layout, axis=1)
    if groups.layout_pad is not None:
        laid[:, groups.layout_pad] = PAD
    slot = np.empty(laid.shape, dtype=np.int64)
    for block in groups.blocks:  # O(log n) blocks
        rows = laid[:, block.offset : block.stop].reshape(laid.shape[0], -1, block.width)
        perm = rows.argsort(axis=-1)
        perm += block.offset + block.width * np.arange(block.group_ids.size)[:, None]
        slot[:, block.offset : block.stop] = perm.reshape(laid.shape[0], -1)
    return np.take_along_axis(laid, slot, axis=1), groups.layout[slot]


def critical_bids(
    bids: np.ndarray, groups: Groups, index: SlotIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Access threshold and payment of every member against the others' bids (one lot).

    Args:
        bids: ``(R, n)`` member bids for the lot, R independent rows.
        groups: the membership.
        index: ``SlotIndex.from_groups(groups)``.

    Returns:
        ``theta`` ``(R, n)``: member i gets access iff its bid is >= theta (float-exact, ties
        between group bids included), and ``price`` ``(R, n)``: what it then pays, c_i.
    """
    srt, owner = sort_with_owners(bids, groups)
    prod = srt * index.rank  # s·b_(s), the engine's own products
    wtp = np.empty((bids.shape[0], groups.n_groups))
    wtp[:, groups.row_group] = np.maximum.reduceat(prod, index.row_starts, axis=1)
    p_group, tie_win = competition(wtp)
    p = p_group[:, index.group]
    prod_next = np.empty_like(srt)  # s·b_(s-1), and +inf at rank 1 (a_0 = +inf)
    np.multiply(srt[:, 1:], index.rank[:-1], out=prod_next[:, :-1])
    prod_next[:, index.row_ends] = np.inf
    s_max = _largest_split(prod, prod_next, p, index, strict=False)
    open_ = _open(srt, prod, p, tie_win, wtp.argmax(axis=1), index)
    s_star = s_max
    if open_.any() and ((prod == p) | (prod_next == p)).any():
        s_star = np.where(open_, _largest_split(prod, prod_next, p, index, strict=True), s_max)
    if index.real is not None:
        real = index.real
        p, s_max, s_star, open_, owner = (a[:, real] for a in (p, s_max, s_star, open_, owner))
    theta = np.empty_like(p)
    theta[np.arange(p.shape[0])[:, None], owner] = _smallest_winning_bid(p, s_star, open_)
    price = np.empty_like(p)
    price[np.arange(p.shape[0])[:, None], owner] = p / s_max
    return theta, price


def _largest_split(
    prod: np.ndarray, prod_next: np.ndarray, p: np.ndarray, index: SlotIndex, *, strict: bool
) -> np.ndarray:
    """``(R, N)`` float s_max of the member at each slot, or its strict analogue."""
    hit = np.greater(prod, p) if strict else np.greater_equal(prod, p)
    top = np.maximum.reduceat(np.where(hit, index.rank, 0.0), index.row_starts, axis=1)
    top = top[:, index.row]  # T = t_j(p), 0 if none
    ok = np.greater(prod_next, p) if strict else np.greater_equal(prod_next, p)
    slot = np.where(ok, np.arange(prod.shape[1], dtype=np.float64), np.inf)[:, ::-1]
    nearest = np.minimum.accumulate(slot, axis=1)[:, ::-1]  # stays in the row: ok at rank 1
    return np.where(index.rank < top, top, index.rank_base - nearest)


def _open(
    srt: np.ndarray,
    prod: np.ndarray,
    p: np.ndarray,
    tie_win: np.ndarray,
    winner: np.ndarray,
    index: SlotIndex,
) -> np.ndarray:
    """``(R, N)`` True where access needs WTP_j(b) > p strictly: the group loses ties and
    would not bid above p if the member bid 0. The latter can only fail in the winning
    group (every other group already bids <= p), so only its row is inspected: some
    s < r has s·b_(s) > p, or some s >= r has s·b_(s+1) > p."""
    open_ = ~tie_win[:, index.group]
    row = index.row_of_group[winner]
    start, end = index.row_starts[row], index.row_ends[row]
    slots = start[:, None] + np.arange((end - start).max() + 1)
    valid = slots <= end[:, None]
    slots = np.minimum(slots, end[:, None])
    rows = np.broadcast_to(np.arange(srt.shape[0])[:, None], slots.shape)
    price = p[rows, slots]
    hit = valid & (prod[rows, slots] > price)
    above = np.zeros_like(hit)  # a hit strictly to the right (higher in the group)
    above[:, :-1] = np.logical_or.accumulate(hit[:, ::-1], axis=1)[:, ::-1][:, 1:]
    prev = srt[rows, np.maximum(slots - 1, 0)] * index.rank[slots]
    below = np.logical_or.accumulate(valid & index.below[slots] & (prev > price), axis=1)
    exceed = (above | below)[valid]
    open_[rows[valid], slots[valid]] &= ~exceed
    return open_


def _smallest_winning_bid(p: np.ndarray, s: np.ndarray, strict: np.ndarray) -> np.ndarray:
    """Smallest float b >= 0 with s·b > p (``strict``) or s·b >= p, in float64 arithmetic.

    p/s is within an ulp or two of it: one vectorized check each way, then only the few
    entries that miss move, one ulp at a time."""
    b = p / s

    def wins(x: np.ndarray, i: tuple | slice = slice(None)) -> np.ndarray:
        prod = s[i] * x
        return (prod > p[i]) | (~strict[i] & (prod == p[i]))

    for step, move in ((np.inf, ~wins(b)), (-np.inf, wins(np.nextafter(b, -np.inf)) & (b > 0))):
        i = np.nonzero(move) if move.any() else (np.empty(0, dtype=np.int64),)
        for _ in range(64):
            if i[0].size == 0:
                break
            b[i] = np.nextafter(b[i], step)
            x = b[i] if step > 0 else np.nextafter(b[i], -np.inf)
            keep = ~wins(x, i) if step > 0 else wins(x, i) & (b[i] > 0)
            i = tuple(a[keep] for a in i)
    return b


def competition(group_bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each group must beat, with the upper mechanisms' tie rule.

    Args:
        group_bids: ``(R, k)`` group bids for one lot.

    Returns:
        ``p`` ``(R, k)``: the highest bid among the *other* groups (0 with no other group),
        and ``tie_win`` ``(R, k)``: True when the group wins if its bid equals ``p`` (lowest
        group index wins ties, ``upper.py``), i.e. its index is below every other group
        bidding ``p``.
    """
    rows = np.arange(group_bids.shape[0])
    first = group_bids.argmax(axis=-1)
    top = group_bids[rows, first]
    rest = group_bids.copy()
    rest[rows, first] = -np.inf
    second = rest.argmax(axis=-1)
    runner_up = rest[rows, second]
    ids = np.arange(group_bids.shape[1])
    is_top = ids == first[:, None]
    p = np.where(is_top, runner_up[:, None], top[:, None])
    tie_win = np.where(is_top, (first < second)[:, None], ids < first[:, None])
    alone = ~np.isfinite(runner_up)[:, None] & is_top
    return np.where(alone, 0.0, p), tie_win | alone
