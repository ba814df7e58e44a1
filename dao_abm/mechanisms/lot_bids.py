"""Member bids for one lot, with the within-group order computed once and shared.

An aggregation rule and a cost-sharing rule often need the same thing: each group's bids
sorted high to low (``b_(1) >= b_(2) >= ...`` in Section 3.1). ``LotBids`` computes that
lazily, at most once per auction, and both rules read it.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from dao_abm.mechanisms.groups import PAD, Groups


class LotBids:
    """Bids of ``n`` members for one lot, over ``R`` independent rows (profiles x lots).

    Args:
        bids: ``(R, n)`` nonnegative member bids for the lot.
        groups: the membership.
    """

    def __init__(self, bids: np.ndarray, groups: Groups) -> None:
        self.bids = bids
        self.groups = groups

    @cached_property
    def sorted_layout(self) -> np.ndarray:
        """``(R, N)`` bids in the flat block layout of ``Groups``, each group's row sorted
        ascending, padding first at ``PAD``: the slot of rank i (1 = highest) holds b_(i)."""
        groups = self.groups
        laid = np.take(self.bids, groups.layout, axis=1)
        if groups.layout_pad is not None:
            laid[:, groups.layout_pad] = PAD
        for block in groups.blocks:  # O(log n) blocks, each sorted row-wise in place
            rows = laid[:, block.offset : block.stop].reshape(laid.shape[0], -1, block.width)
            rows.sort(axis=-1)
        return laid

    @cached_property
    def by_group(self) -> np.ndarray:
        """``(R, n)`` bids reordered so that groups are contiguous (see ``Groups.order``)."""
        return self.bids[:, self.groups.order]

    def group_reduce(self, ufunc: np.ufunc) -> np.ndarray:
        """``(R, k)`` ``ufunc`` reduced over each group's bids (e.g. ``np.add``)."""
        return ufunc.reduceat(self.by_group, self.groups.starts, axis=1)

    def willingness_to_pay(self) -> np.ndarray:
        """``(R, k)`` WTP_j = max_i i·b_(i) (Section 3.1); padding gives negative products."""
        groups = self.groups
        prod = np.multiply(self.sorted_layout, groups.layout_rank)
        out = np.empty((self.bids.shape[0], groups.n_groups))
        out[:, groups.row_group] = np.maximum.reduceat(prod, groups.row_starts, axis=1)
        return out

    def equal_split_threshold(
        self, winner: np.ndarray, price: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The largest equal-split set of the winning group, t_j(p) of Section 3.1.

        Args:
            winner: ``(R,)`` winning group per row, -1 when the lot is unsold.
            price: ``(R,)`` price the winner is charged.

        Returns:
            ``t`` ``(R,)`` = max{i : i·b_(i) >= p} (0 when no such i or unsold) and
            ``cutoff`` ``(R,)`` = b_(t), the lowest bid inside the set (``inf`` when t = 0).
            Members tied at a bid are never split: if b_(t) = b_(t+1) then t+1 qualifies too,
            so the set is exactly the winners' members bidding >= ``cutoff``.
        """
        rows = winner.shape[0]
        t = np.zeros(rows, dtype=np.int64)
        cutoff = np.full(rows, np.inf)
        sold = winner >= 0
        wblock = np.where(sold, self.groups.block_of[np.maximum(winner, 0)], -1)
        for b, block in enumerate(self.groups.blocks):
            sel = np.flatnonzero(wblock == b)
            if sel.size == 0:
                continue
            slots = block.offset + block.width * self.groups.row_of[winner[sel], None]
            s = self.sorted_layout[sel[:, None], slots + np.arange(block.width)]  # (n_sel, w)
            ok = s * np.arange(block.width, 0, -1, dtype=np.float64) >= price[sel, None]
            first = ok.argmax(axis=-1)  # lowest position = highest rank i
            has = ok[np.arange(sel.size), first]
            t[sel] = np.where(has, block.width - first, 0)
            cutoff[sel] = np.where(has, s[np.arange(sel.size), first], np.inf)
        return t, cutoff

    def in_group(self, winner: np.ndarray) -> np.ndarray:
        """``(R, n)`` True for members of each row's winning group (none when unsold)."""
        return self.groups.labels[None, :] == winner[:, None]
