"""Every member's critical bid under Mechanism 1 (WTP / Vickrey / max-equal-split), at once.

Fix everyone else's bids. Member i of group j faces p = p_j, the highest WTP among the other
groups. With the others of group j sorted high to low, a_1 >= a_2 >= ... (a_0 = +inf), i joins
an equal-split set of size s iff its bid b >= p/s and a_{s-1} >= p/s, so i gets access iff
b >= c_i = p / s_max(i), s_max(i) = max{s : s·a_{s-1} >= p}, and then pays exactly c_i
(Theorem 3.1: the allocation is monotone and the payment is the critical bid). With i at rank
r of the sorted group b_(1) >= ... >= b_(n_j) and T = t_j(p) = max{s : s·b_(s) >= p}:

    s_max(i) = T                             if r < T   (a_{s-1} = b_(s) for s > r)
             = max{s <= r : s·b_(s-1) >= p}   otherwise  (a_{s-1} = b_(s-1) for s <= r)

that is, s_max(i) = max(T, the largest s <= r with s·b_(s-1) >= p), on the flat sorted layout
of ``Groups`` (``slots.py``): the second term is a reverse running minimum of slot positions,
which never leaves the row because the condition holds at rank 1 (a_0 = inf), and T > 0 only
in rows whose WTP reaches p (the top group's, and those tied with it), where it is a row
maximum. Members with equal bids get the same c_i (their "others" are the same multiset).

Group ties. The engine gives a lot tied between group bids to the lowest group index. Then
i's access also needs WTP_j(b) > p when group j loses ties and the others of j do not already
bid WTP > p; that holds iff b > p / s'(i) with s'(i) the strict analogue of s_max(i). Both
conditions are evaluated in float64 exactly as the engine evaluates them (``s·b >= p`` on the
same products), so the access region is [theta_i, inf) for a float threshold theta_i:
the smallest float bid that wins access. theta_i equals c_i up to an ulp unless others' bids
sit exactly on p/s (a measure-zero, degenerate case in which truthfulness fails by ties).

Speed. A round of a million members is a few dozen passes over flat arrays, so the code
avoids what costs several passes each: ``np.where`` on unpredictable masks (a product with
the mask instead), ``np.nextafter`` (one integer step on the bits of a float >= 0), and two
random scatters back to member order (theta and price travel together as one complex128).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.slots import SlotIndex, sort_with_owners
from dao_abm.mechanisms.groups import Groups
from dao_abm.mechanisms.ties import competition

__all__ = ["SlotIndex", "Thresholds", "critical_bids", "smallest_winning_bid", "sort_with_owners"]

#: Added to the slot number of slots that fail a test: beyond every real slot number.
_FAR = 2.0**60


@dataclass(frozen=True, eq=False)
class Thresholds:
    """Every slot's split sizes against the others' bids (one lot, R rows, slot order).

    Attributes:
        srt: ``(R, N)`` bids sorted ascending within each group's row (``sort_with_owners``).
        owner: ``(R, N)`` the member at each slot (padding slots: member 0).
        p: ``(R, N)`` the highest group bid among the other groups.
        s_max: ``(R, N)`` float s_max of the module docstring; price c = p / s_max.
        s_star: ``(R, N)`` the split size that decides access (s_max, or its strict analogue
            where access needs WTP > p).
        hurdle: ``(R, N)`` the member gets access iff s_star · bid >= hurdle: p, or the next
            float above p where access needs WTP > p (s·b > p is s·b >= that float).
    """

    srt: np.ndarray
    owner: np.ndarray
    p: np.ndarray
    s_max: np.ndarray
    s_star: np.ndarray
    hurdle: np.ndarray

    @classmethod
    def of(cls, bids: np.ndarray, groups: Groups, index: SlotIndex) -> Thresholds:
        """Thresholds of member bids ``(R, n)``."""
        srt, owner = sort_with_owners(bids, groups, index)
        prod = srt * index.rank  # s·b_(s), the engine's own products
        wtp_rows = np.maximum.reduceat(prod, index.row_starts, axis=1)
        wtp = np.empty((bids.shape[0], groups.n_groups))
        wtp[:, groups.row_group] = wtp_rows
        p_group, tie_win = competition(wtp)
        p_group += 0.0  # no -0.0, so that the hurdle's bits below are p's plus one
        p = np.take(p_group, index.group, axis=1)
        prod_next = np.empty_like(srt)  # s·b_(s-1), and +inf at rank 1 (a_0 = +inf)
        np.multiply(srt[:, 1:], index.rank[:-1], out=prod_next[:, :-1])
        prod_next[:, index.row_ends] = np.inf
        p_rows = np.take(p_group, groups.row_group, axis=1)
        s_max = _largest_split(prod, prod_next, p, index, wtp_rows >= p_rows, strict=False)
        open_ = _open(srt, prod, p, tie_win, wtp.argmax(axis=1), index)
        s_star = s_max
        if open_.any() and ((prod_next == p).any() or (prod == p).any()):
            strict = _largest_split(prod, prod_next, p, index, wtp_rows > p_rows, strict=True)
            s_star = np.where(open_, strict, s_max)
        hurdle = (p.view(np.int64) + open_).view(np.float64)  # p >= +0.0 is finite
        return cls(srt, owner, p, s_max, s_star, hurdle)


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
    t = Thresholds.of(bids, groups, index)
    both = np.empty(t.p.shape, dtype=np.complex128)  # theta + i·price: one scatter for two
    both.real = smallest_winning_bid(t.s_star, t.hurdle)
    np.divide(t.p, t.s_max, out=both.imag)
    owner = t.owner
    if index.real is not None:
        both, owner = both[:, index.real], owner[:, index.real]
    out = np.empty(both.shape, dtype=np.complex128)
    if out.shape[0] == 1:
        out[0, owner[0]] = both[0]
    else:
        out[np.arange(out.shape[0])[:, None], owner] = both
    return out.real, out.imag


def _largest_split(
    prod: np.ndarray,
    prod_next: np.ndarray,
    p: np.ndarray,
    index: SlotIndex,
    contested: np.ndarray,
    *,
    strict: bool,
) -> np.ndarray:
    """``(R, N)`` float s_max of the member at each slot, or its strict analogue.

    s_max = T for ranks below T, else the rank of the nearest slot at or above the member
    with s·b_(s-1) >= p (ok). Both cases are max(T, that rank): at rank r < T the nearest
    ok rank is <= r, and at r >= T it is >= T (rank T is ok: T·b_(T-1) >= T·b_(T) >= p).
    T > 0 needs WTP_j >= p, so T is computed only on the ``contested`` ``(R, k)`` rows
    (layout order): the top group's, and those tied with it."""
    ok = np.greater(prod_next, p) if strict else np.greater_equal(prod_next, p)
    marked = np.multiply(~ok, _FAR)  # the slot number if ok, beyond every slot if not
    marked += index.position
    nearest = np.minimum.accumulate(marked[:, ::-1], axis=1)[:, ::-1]  # ok at rank 1: in row
    s = np.subtract(index.rank_base, nearest, out=marked)
    lot, row = np.nonzero(contested)
    if lot.size:
        width = index.row_ends[row] - index.row_starts[row] + 1
        first = np.cumsum(width) - width
        slots = np.arange(width.sum()) + np.repeat(index.row_starts[row] - first, width)
        lots = np.repeat(lot, width)
        at = prod[lots, slots]
        hit = np.greater(at, p[lots, slots]) if strict else np.greater_equal(at, p[lots, slots])
        top = np.maximum.reduceat(index.rank[slots] * hit, first)  # T of each row
        s[lots, slots] = np.maximum(s[lots, slots], np.repeat(top, width))
    return s


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


def smallest_winning_bid(
    s: np.ndarray, hurdle: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Smallest float b >= 0 with s·b >= hurdle in float64 arithmetic (theta).

    hurdle/s is within an ulp or two of it: one vectorized check each way, then only the
    few entries that miss move, one ulp at a time."""
    b = np.divide(hurdle, s, out=out)
    up = s * b < hurdle
    down = s * float_below(b) >= hurdle  # NaN below +0.0: never moves down
    for step, move in ((np.inf, up), (-np.inf, down)):
        i = np.nonzero(move) if move.any() else (np.empty(0, dtype=np.int64),)
        for _ in range(64):
            if i[0].size == 0:
                break
            b[i] = np.nextafter(b[i], step)
            x = b[i] if step > 0 else float_below(b[i])
            keep = s[i] * x < hurdle[i] if step > 0 else s[i] * x >= hurdle[i]
            i = tuple(a[keep] for a in i)
    return b


def float_below(x: np.ndarray) -> np.ndarray:
    """``nextafter(x, -inf)`` for floats x > 0 (NaN for +0.0), as one integer step."""
    return (x.view(np.int64) - 1).view(np.float64)
