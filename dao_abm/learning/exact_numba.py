"""A compiled (numba) kernel for the "keep" / "truthful" exact best response, one item.

It computes, member by member, exactly what its reference ``exact.nearest_to_truthful``
computes with numpy on a single lot (Mechanism 1: WTP / Vickrey / max-equal-split), bit for bit: the
same float64 products ``s·b``, the same comparisons against ``p`` or the float above it
(``deviations/critical.py``), the same tie rule between group bids (``mechanisms.ties``), the same
float threshold theta (smallest float bid that wins access, one ulp below it where the
member must lose). Each group's bids are sorted in the kernel (a bid's slot is the count of
smaller bids for small groups, ``np.argsort`` of the segment for large ones) instead of
the row argsort of ``deviations/slots.py``. The passes:

0. gather the bids in ``Groups.order`` (one tight loop of independent random reads);
1. sort each group in place, each member's slot (equal bids share the lowest one), WTP;
2. ``competition``, then each group's slots from its top bid down: s_max, its strict
   analogue, whether access needs WTP > p, packed into one int64 per slot;
3. those facts to member order (one tight scatter), then every member in member order,
   branch-free (the signs of surpluses are unpredictable), and a last pass over the few
   members that move to theta or just below it.

Speed notes: ``error_model="numpy"`` (no zero-division branch: float division stays
vectorizable); every n-sized array is allocated by numpy (huge pages) and the random
memory accesses sit in tight loops of their own, so that many are in flight at once.

``available()`` is False when numba is missing; the numpy path is then used.
"""

from __future__ import annotations

import numpy as np

from dao_abm.mechanisms.groups import Groups
from dao_abm.mechanisms.ties import wins_tie

try:
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None

__all__ = ["available", "nearest_to_truthful_sessions", "nearest_to_truthful_single"]

#: Groups at most this large are sorted by counting; larger ones use np.argsort.
_COUNT_MAX = 64


def available() -> bool:
    """True when numba is importable (the compiled kernel can be used)."""
    return njit is not None


def nearest_to_truthful_single(
    bids: np.ndarray,
    values: np.ndarray,
    revising: np.ndarray,
    groups: Groups,
    *,
    keep: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(strategies, gain, changed)`` of ``nearest_to_truthful`` for one item.

    Args:
        bids, values: ``(n,)`` float64 current bids (finite, >= 0) and values.
        revising: ``(n,)`` bool.
        groups: the membership (``labels``, ``order``, ``starts``, ``sizes`` are used).
        keep: True for "keep", False for "truthful".
    """
    n = bids.shape[0]
    # Every n-sized array is allocated here, by numpy (huge pages for large arrays: far
    # fewer page faults than the kernel's own allocator).
    strategies = np.empty(n)
    gain = np.empty(n)
    changed = np.empty(n, dtype=np.bool_)
    srt = np.empty(n)  # group order: the bids, then each group's bids ascending
    index = np.int32 if n < 2**31 else np.int64
    pos = np.empty(n, dtype=index)  # each member's slot in ``srt`` (lowest of ties)
    info = np.empty(n, dtype=np.int64)  # per slot: s_max, s_star, open (packed)
    _kernel(np.ascontiguousarray(bids, dtype=np.float64),
            np.ascontiguousarray(values, dtype=np.float64),
            np.ascontiguousarray(revising, dtype=np.bool_),
            groups.labels, groups.order, groups.starts, groups.sizes, keep,
            strategies, gain, changed, srt, pos, info)
    return strategies, gain, changed


def nearest_to_truthful_sessions(
    bids: np.ndarray,
    values: np.ndarray,
    revising: np.ndarray,
    groups: Groups,
    *,
    keep: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``nearest_to_truthful_single`` for S independent profiles on the same DAOs at once
    (sessions of one scenario): row s of each answer is, bit for bit, the single call on
    row s. Rows run in parallel (numba ``prange``).

    Args:
        bids: ``(S, n)`` float64 current bids (finite, >= 0).
        values: ``(n,)`` values every row shares, or ``(S, n)``.
        revising: ``(S, n)`` bool.
        groups: the membership every row shares.
        keep: True for "keep", False for "truthful".
    """
    bids = np.ascontiguousarray(bids, dtype=np.float64)
    s, n = bids.shape
    values = np.ascontiguousarray(np.broadcast_to(values, (s, n)), dtype=np.float64)
    strategies = np.empty((s, n))
    gain = np.empty((s, n))
    changed = np.empty((s, n), dtype=np.bool_)
    srt = np.empty((s, n))
    pos = np.empty((s, n), dtype=np.int32 if n < 2**31 else np.int64)
    info = np.empty((s, n), dtype=np.int64)
    _sessions(bids, values, np.ascontiguousarray(revising, dtype=np.bool_), groups.labels,
              groups.order, groups.starts, groups.sizes, keep, strategies, gain, changed,
              srt, pos, info)
    return strategies, gain, changed


def _define_kernel():
    tie = njit(cache=True, inline="always")(wins_tie)  # the engine's rule, compiled

    @njit(cache=True, inline="always", error_model="numpy")
    def bits(x):
        return np.float64(x).view(np.int64)

    @njit(cache=True, inline="always", error_model="numpy")
    def from_bits(i):
        return np.int64(i).view(np.float64)

    @njit(cache=True, inline="always", error_model="numpy")
    def is_best(access, surplus):
        if surplus > 0:
            return access
        if surplus < 0:
            return not access
        return True

    @njit(cache=True, error_model="numpy")
    def smallest_winning_bid(s, hurdle):
        """``critical.smallest_winning_bid`` for one entry (b = hurdle/s, then ulp steps)."""
        b = hurdle / s
        if s * b < hurdle:
            for _ in range(64):
                b = from_bits(bits(b) + 1)  # nextafter(b, +inf), b >= 0 finite
                if not (s * b < hurdle):
                    break
        elif b > 0.0 and s * from_bits(bits(b) - 1) >= hurdle:  # float_below(+0) is NaN
            for _ in range(64):
                b = from_bits(bits(b) - 1)
                if not (b > 0.0 and s * from_bits(bits(b) - 1) >= hurdle):
                    break
        return b

    @njit(cache=True, error_model="numpy")
    def sort_group(srt, start, size, pos, keys):
        """Sort ``srt[start:start+size]`` (one group's bids) ascending in place, each
        member's slot (the lowest of its ties, as an index of ``srt``) into
        ``pos[start:...]`` (group order).
        Members with equal bids share a slot: their critical bids are equal
        (``critical.py``), so the slot order among ties, arbitrary in the numpy path
        too, does not matter.

        Small groups: a bid's slot is the count of smaller bids (branch-free, vectorized
        over a padded row); large ones: np.argsort of the segment."""
        if size <= _COUNT_MAX:
            width = (size + 7) & ~7  # k0 + 3 < width: the padding (+inf) is read, not used
            for k in range(size):
                keys[k] = srt[start + k]
                srt[start + k] = -1.0  # no bid: filled from below after the scatter
            for k in range(size, width):
                keys[k] = np.inf
            for k0 in range(0, size, 4):  # four bids per pass over the row
                x0, x1, x2, x3 = keys[k0], keys[k0 + 1], keys[k0 + 2], keys[k0 + 3]
                c0 = c1 = c2 = c3 = 0
                for q in range(width):
                    y = keys[q]
                    c0 += y < x0
                    c1 += y < x1
                    c2 += y < x2
                    c3 += y < x3
                for t, c, x in ((0, c0, x0), (1, c1, x1), (2, c2, x2), (3, c3, x3)):
                    if k0 + t < size:
                        srt[start + c] = x
                        pos[start + k0 + t] = start + c
            for i in range(start + 1, start + size):
                if srt[i] < 0.0:
                    srt[i] = srt[i - 1]
        else:
            seg = srt[start:start + size].copy()
            perm = np.argsort(seg)
            slot = start
            for t in range(size):
                x = seg[perm[t]]
                srt[start + t] = x
                if t > 0 and x != srt[start + t - 1]:
                    slot = start + t
                pos[start + perm[t]] = slot

    @njit(cache=True, error_model="numpy")
    def kernel(bids, values, revising, labels, order, starts, sizes, keep,
               strategies, gain, changed, srt, pos, info):
        n = bids.shape[0]
        k_groups = sizes.shape[0]
        keys = np.empty(_COUNT_MAX + 8)
        # Pass 0: bids in group order (a tight gather: independent random reads).
        for k in range(n):
            srt[k] = bids[order[k]]
        # Pass 1: sort each group, its WTP = max_r r·b_(r) (the engine's products).
        wtp = np.empty(k_groups)
        for j in range(k_groups):
            start, size = starts[j], sizes[j]
            sort_group(srt, start, size, pos, keys)
            w = -np.inf
            for q in range(size):
                prod = srt[start + q] * np.float64(size - q)
                if prod > w:
                    w = prod
            wtp[j] = w
        # mechanisms.ties.competition: top group (first argmax), runner-up (first argmax of
        # the rest); a group bidding exactly p wins when it wins the tie (``wins_tie``).
        first = 0
        for j in range(1, k_groups):
            if wtp[j] > wtp[first]:
                first = j
        top = wtp[first]
        second = -1
        runner = -np.inf
        for j in range(k_groups):
            if j != first and (second < 0 or wtp[j] > runner):
                second = j
                runner = wtp[j]
        alone = k_groups == 1
        p_of = np.empty(k_groups)
        # Pass 2: each group's slots from its top bid (rank 1) down.
        for j in range(k_groups):
            start, size = starts[j], sizes[j]
            if alone:
                p, tie_win = 0.0, True
            elif j == first:
                p, tie_win = runner, tie(first, second)
            else:
                p, tie_win = top, tie(j, first)
            p += 0.0  # no -0.0
            p_of[j] = p
            t_max = 0  # T = max{r : r·b_(r) >= p}, and its strict analogue: 0 unless
            t_strict = 0  # the group's WTP reaches p (the top group and those tied with it)
            if wtp[j] >= p:
                for q in range(size):
                    r = size - q
                    prod = srt[start + q] * np.float64(r)
                    if prod >= p and r > t_max:
                        t_max = r
                    if prod > p and r > t_strict:
                        t_strict = r
            # _open(): in the top group's row, access needs WTP > p unless the group bids
            # above p without the member: a hit r·b_(r) > p strictly above its slot, or
            # b_(r'-1)·r' > p at some slot r' at or below it (from the lowest: q >= q_low).
            q_low = size
            if j == first and not tie_win:
                for q in range(1, size):
                    if srt[start + q - 1] * np.float64(size - q) > p:
                        q_low = q
                        break
            near = 1  # rank 1 is always ok (a_0 = +inf)
            near_strict = 1
            above_hit = False  # a hit (r·b_(r) > p) strictly above the slot
            top_open = (not tie_win) and j == first
            is_top = np.int64(j == first) << 63  # the sign bit: which p the member faces
            for q in range(size - 1, -1, -1):
                i = start + q
                r = size - q
                if q < size - 1:  # branch-free: the tests below are unpredictable
                    nxt = srt[i + 1] * np.float64(r)
                    near = r if nxt >= p else near
                    near_strict = r if nxt > p else near_strict
                s_max = max(near, t_max)
                s_str = max(near_strict, t_strict)
                open_ = not tie_win
                if top_open:
                    open_ = not (above_hit or q >= q_low)
                    above_hit = above_hit or srt[i] * np.float64(r) > p
                s_star = s_str if open_ else s_max
                info[i] = s_max | (s_star << 31) | (np.int64(open_) << 62) | is_top
        # Pass 3: each member's slot facts, to member order (one tight scatter into the
        # memory of ``srt``, no longer needed), then members in member order.
        facts = srt.view(np.int64)
        for k in range(n):
            facts[order[k]] = info[pos[k]]
        mask = np.int64((1 << 31) - 1)
        p_first = p_of[first]  # what the top group faces; every other group faces its WTP
        p_rest = p_of[second] if not alone else p_first
        need = pos  # no longer needed: flags members whose new bid is theta-based
        for m in range(n):  # no branch and no call: the signs are unpredictable
            x = facts[m]
            p = p_first if x < 0 else p_rest
            s_max = np.float64(x & mask)
            s_star = np.float64((x >> 31) & mask)
            hurdle = from_bits(bits(p) + ((x >> 62) & 1))
            b = bids[m]
            v = values[m]
            rev = revising[m]
            surplus = v - p / s_max
            win = surplus > 0
            lose = surplus < 0
            acc_b = s_star * b >= hurdle
            acc_v = s_star * v >= hurdle
            moves = (win & ~acc_b) | (lose & acc_b)  # the current bid is no best response
            v_bad = (win & ~acc_v) | (lose & acc_v)  # nor is truthful bidding
            gain[m] = abs(surplus) if moves else 0.0
            fix = moves if keep else v_bad
            new = v if not keep else b
            new = v if fix else new
            new = new if rev else b
            strategies[m] = new
            changed[m] = new != b
            need[m] = rev & fix & v_bad
        for m in range(n):  # rare under "keep": theta, or the float below it
            if need[m]:
                x = facts[m]
                p = p_first if x < 0 else p_rest
                s_star = np.float64((x >> 31) & mask)
                hurdle = from_bits(bits(p) + ((x >> 62) & 1))
                theta = smallest_winning_bid(s_star, hurdle)
                if values[m] - p / np.float64(x & mask) > 0:
                    new = theta
                elif theta > 0.0:
                    new = from_bits(bits(theta) - 1)
                else:
                    new = 0.0
                strategies[m] = new
                changed[m] = new != bids[m]

    return kernel


def _define_sessions(kernel):
    from numba import prange

    @njit(cache=True, parallel=True, error_model="numpy")
    def sessions(bids, values, revising, labels, order, starts, sizes, keep, strategies,
                 gain, changed, srt, pos, info):
        for s in prange(bids.shape[0]):
            kernel(bids[s], values[s], revising[s], labels, order, starts, sizes, keep,
                   strategies[s], gain[s], changed[s], srt[s], pos[s], info[s])

    return sessions


_kernel = _define_kernel() if njit is not None else None
_sessions = _define_sessions(_kernel) if njit is not None else None
