"""DAO membership as flat arrays, and the segmented sort every group-level rule needs.

Members are indexed ``0..n-1`` and each belongs to exactly one group (Section 2 of the
paper: "we only allow bidders to be part of a single group"). ``Groups`` is built once per
membership and reused for every auction: re-forming DAOs is building a new ``Groups``.

Why a hand-written segmented sort: Mechanism 1 needs every group's bids sorted high to
low. numpy has no segmented sort, and ``argsort``/``lexsort`` over all members cost 3-15x
a plain ``np.sort`` (which is SIMD-accelerated). So groups are bucketed by size into
*blocks* of equal width; a block is a ``(k_c, width)`` matrix gathered from the member
array and sorted row-wise with ``np.sort``. The number of blocks is O(log n) (one per
distinct size when there are at most ``EXACT_WIDTHS`` sizes, geometric buckets otherwise),
so the only Python loop runs over blocks, never over members or groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Use one block per distinct group size when there are at most this many sizes.
EXACT_WIDTHS = 64
#: Otherwise a block holds sizes within this ratio of its smallest size (padding <= 25%).
BUCKET_RATIO = 1.25
#: Padding value: below every admissible bid (bids are >= 0).
PAD = -1.0


@dataclass(frozen=True, eq=False)
class Block:
    """Groups of (nearly) equal size laid out as one padded matrix.

    Attributes:
        width: Row length; every group in the block has at most ``width`` members.
        offset: Where the block starts in the flat layout (see ``Groups.layout``).
        group_ids: ``(k_c,)`` the groups in this block, one per row.
    """

    width: int
    offset: int
    group_ids: np.ndarray

    @property
    def stop(self) -> int:
        return self.offset + self.width * self.group_ids.size


@dataclass(frozen=True, eq=False)
class Groups:
    """Membership of ``n`` members in ``k`` non-empty groups.

    Attributes:
        labels: ``(n,)`` int64 group index of each member, every value in ``0..k-1`` used.
        sizes: ``(k,)`` number of members per group (``n_j`` in the paper).
        order: ``(n,)`` member indices sorted by group (stable), for ``reduceat``.
        starts: ``(k,)`` offset of each group in ``order``.
        blocks: size buckets used by the segmented sort.
        block_of: ``(k,)`` block index of each group.
        row_of: ``(k,)`` row of each group inside its block.
        layout: ``(N,)`` member index of each slot of the flat block layout (blocks one
            after the other, each row-major), padding slots hold 0; ``N >= n``.
        layout_pad: ``(N,)`` True on padding slots, or None when there are none.
        layout_rank: ``(N,)`` float rank from the top, ``width - slot``, of each slot once
            its row is sorted ascending (so 1 marks the highest bid of the group).
        row_starts: ``(k,)`` offset of each row in the layout, in layout order.
        row_group: ``(k,)`` the group of each row, in layout order.
    """

    labels: np.ndarray
    sizes: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    blocks: tuple[Block, ...]
    block_of: np.ndarray
    row_of: np.ndarray
    layout: np.ndarray
    layout_pad: np.ndarray | None
    layout_rank: np.ndarray
    row_starts: np.ndarray
    row_group: np.ndarray

    @property
    def n_members(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_groups(self) -> int:
        return int(self.sizes.shape[0])

    @property
    def max_size(self) -> int:
        """ℓ, the size of the largest group."""
        return int(self.sizes.max())

    @classmethod
    def from_labels(cls, labels: np.ndarray) -> Groups:
        """Build from ``(n,)`` integer labels in ``0..k-1``, each label used at least once."""
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"group labels must be a 1-D non-empty array, not {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"group labels must be integers, got dtype {labels.dtype}")
        labels = labels.astype(np.int64, copy=False)
        if labels.min() < 0:
            raise ValueError("group labels must be >= 0")
        sizes = np.bincount(labels)
        if (sizes == 0).any():
            missing = int(np.flatnonzero(sizes == 0)[0])
            raise ValueError(f"group labels must be compact: group {missing} has no member")
        order = np.argsort(labels, kind="stable")
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        return cls(labels, sizes, order, starts, *_make_layout(sizes, starts, order))

    @classmethod
    def from_sizes(cls, sizes: np.ndarray | list[int]) -> Groups:
        """Members numbered consecutively, group ``j`` holding the next ``sizes[j]`` members."""
        sizes = np.asarray(sizes, dtype=np.int64)
        if sizes.ndim != 1 or sizes.size == 0 or (sizes <= 0).any():
            raise ValueError("group sizes must be a non-empty list of positive integers")
        return cls.from_labels(np.repeat(np.arange(sizes.size), sizes))


def _bucket_widths(sizes: np.ndarray) -> np.ndarray:
    """Width of the block each distinct size goes to (see module docstring)."""
    distinct = np.unique(sizes)
    if distinct.size <= EXACT_WIDTHS:
        return distinct
    widths = np.empty_like(distinct)
    lo = 0
    while lo < distinct.size:  # O(log n) buckets
        hi = np.searchsorted(distinct, distinct[lo] * BUCKET_RATIO, side="right")
        widths[lo:hi] = distinct[hi - 1]
        lo = hi
    return widths


def _make_layout(sizes: np.ndarray, starts: np.ndarray, order: np.ndarray) -> tuple:
    distinct = np.unique(sizes)
    width_of_size = dict(zip(distinct.tolist(), _bucket_widths(sizes).tolist(), strict=True))
    group_width = np.vectorize(width_of_size.__getitem__, otypes=[np.int64])(sizes)
    block_of = np.empty(sizes.size, dtype=np.int64)
    row_of = np.empty(sizes.size, dtype=np.int64)
    blocks, members, pads, ranks = [], [], [], []
    offset = 0
    for b, width in enumerate(np.unique(group_width).tolist()):  # O(log n) blocks
        gids = np.flatnonzero(group_width == width)
        slot = np.arange(width)
        pad = slot[None, :] >= sizes[gids, None]
        idx = order[np.minimum(starts[gids, None] + slot, order.size - 1)]
        members.append(np.where(pad, 0, idx).ravel())
        pads.append(pad.ravel())
        ranks.append(np.tile(np.arange(width, 0, -1, dtype=np.float64), gids.size))
        blocks.append(Block(width, offset, gids))
        block_of[gids] = b
        row_of[gids] = np.arange(gids.size)
        offset += width * gids.size
    layout_pad = np.concatenate(pads)
    row_group = np.concatenate([blk.group_ids for blk in blocks])
    row_starts = np.concatenate(
        [blk.offset + blk.width * np.arange(blk.group_ids.size) for blk in blocks]
    )
    return (
        tuple(blocks), block_of, row_of, np.concatenate(members),
        layout_pad if layout_pad.any() else None, np.concatenate(ranks), row_starts, row_group,
    )
