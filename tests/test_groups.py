"""``Groups``: validation, the block layout of the segmented sort, and WTP through it.

Both layouts are exercised: one block per distinct size (at most ``EXACT_WIDTHS`` sizes)
and geometric buckets with padding (more distinct sizes than that).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import bid_arrays, memberships

from dao_abm.mechanisms import Groups, preset
from dao_abm.mechanisms.groups import BUCKET_RATIO, EXACT_WIDTHS
from dao_abm.mechanisms.lot_bids import LotBids


def wtp_reference(bids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(R, n) -> (R, k)`` WTP_j = max_i i·b_(i), group by group in plain Python."""
    k = int(labels.max()) + 1
    out = np.empty((bids.shape[0], k))
    for r, row in enumerate(bids.tolist()):
        for j in range(k):
            ranked = sorted((b for b, g in zip(row, labels, strict=True) if g == j),
                            reverse=True)
            out[r, j] = max((i + 1) * b for i, b in enumerate(ranked))
    return out


def mechanism_1_payments(bids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(n,)`` Mechanism 1's payments for one row, group by group with numpy."""
    k = int(labels.max()) + 1
    ranked = [np.sort(bids[labels == j])[::-1] for j in range(k)]
    wtp = np.array([(r * np.arange(1, r.size + 1)).max() for r in ranked])
    winner = int(np.argmax(wtp))
    price = np.delete(wtp, winner).max(initial=0.0)
    top = ranked[winner]
    t = int(np.flatnonzero(top * np.arange(1, top.size + 1) >= price).max()) + 1
    access = (labels == winner) & (bids >= top[t - 1])
    return np.where(access, price / t, 0.0)


@st.composite
def many_sizes(draw) -> Groups:
    """More than ``EXACT_WIDTHS`` distinct sizes (bucketed layout), members shuffled."""
    distinct = draw(st.sets(st.integers(1, 120), min_size=EXACT_WIDTHS + 1,
                            max_size=EXACT_WIDTHS + 8))
    extra = draw(st.lists(st.sampled_from(sorted(distinct)), max_size=10))
    sizes = np.array(sorted(distinct) + extra)
    seed = draw(st.integers(0, 2**32 - 1))
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(sizes.size), sizes))
    return Groups.from_labels(labels)


# ---------------------------------------------------------------------------------------
# Validation.
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 2, 2], "compact"),  # group 1 has no member
        ([1, 1], "compact"),  # group 0 has no member
        ([-1, 0], ">= 0"),
        ([], "non-empty"),
        ([[0, 1]], "1-D"),
        ([0.0, 1.0], "integers"),
        ([True, False], "integers"),
    ],
)
def test_bad_labels_raise(labels, message):
    with pytest.raises(ValueError, match=message):
        Groups.from_labels(np.asarray(labels))


@pytest.mark.parametrize("sizes", [[], [2, 0], [3, -1], [[1, 2]]])
def test_bad_sizes_raise(sizes):
    with pytest.raises(ValueError, match="positive"):
        Groups.from_sizes(sizes)


def test_from_sizes_numbers_members_consecutively():
    groups = Groups.from_sizes([2, 3, 1])
    assert_array_equal(groups.labels, [0, 0, 1, 1, 1, 2])
    assert_array_equal(groups.sizes, [2, 3, 1])
    assert (groups.n_members, groups.n_groups, groups.max_size) == (6, 3, 3)
    assert groups.labels.dtype == np.int64


def test_from_labels_accepts_any_integer_dtype():
    groups = Groups.from_labels(np.array([1, 0, 1], dtype=np.uint8))
    assert groups.labels.dtype == np.int64
    assert_array_equal(groups.sizes, [1, 2])
    assert_array_equal(groups.order, [1, 0, 2])
    assert_array_equal(groups.starts, [0, 1])


# ---------------------------------------------------------------------------------------
# The block layout.
def check_layout(groups: Groups) -> None:
    n, k = groups.n_members, groups.n_groups
    pad = np.zeros(groups.layout.size, bool) if groups.layout_pad is None else groups.layout_pad
    # Every member exactly once, padding excluded.
    assert_array_equal(np.sort(groups.layout[~pad]), np.arange(n))
    # Every group in exactly one block row, and block_of / row_of point back to it.
    assert_array_equal(np.sort(np.concatenate([b.group_ids for b in groups.blocks])),
                       np.arange(k))
    for j in range(k):
        assert groups.blocks[groups.block_of[j]].group_ids[groups.row_of[j]] == j
    # Blocks tile the layout; each row holds its group's members and nobody else's.
    assert groups.blocks[0].offset == 0 and groups.blocks[-1].stop == groups.layout.size
    for before, after in zip(groups.blocks, groups.blocks[1:], strict=False):
        assert before.stop == after.offset
    for block in groups.blocks:
        assert (groups.sizes[block.group_ids] <= block.width).all()
        for row, j in enumerate(block.group_ids.tolist()):
            start = block.offset + row * block.width
            slots = slice(start, start + block.width)
            real = groups.layout[slots][~pad[slots]]
            assert real.size == groups.sizes[j]
            assert (groups.labels[real] == j).all()
            assert_array_equal(groups.layout_rank[slots], np.arange(block.width, 0, -1))
    assert_array_equal(groups.row_group[np.argsort(groups.row_starts)], groups.row_group)


@given(memberships(max_groups=12, max_size=9))
def test_exact_width_layout(groups):
    check_layout(groups)
    assert len(groups.blocks) == np.unique(groups.sizes).size
    assert groups.layout_pad is None
    assert all((groups.sizes[b.group_ids] == b.width).all() for b in groups.blocks)


@given(many_sizes())
@settings(max_examples=15)
def test_bucketed_layout(groups):
    check_layout(groups)
    assert len(groups.blocks) < np.unique(groups.sizes).size
    for block in groups.blocks:  # padding bounded by the bucket ratio
        assert block.width <= BUCKET_RATIO * groups.sizes[block.group_ids].min()


# ---------------------------------------------------------------------------------------
# WTP and the equal-split threshold through both layouts.
@given(memberships(max_groups=8, max_size=8), st.data())
def test_wtp_exact_layout(groups, data):
    bids = data.draw(bid_arrays((3, groups.n_members)))
    assert_allclose(LotBids(bids, groups).willingness_to_pay(),
                    wtp_reference(bids, groups.labels), rtol=1e-12)


@given(many_sizes(), st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_wtp_bucketed_layout(groups, seed):
    rng = np.random.default_rng(seed)
    bids = np.round(rng.exponential(size=(2, groups.n_members)), 2)  # rounding makes ties
    assert_allclose(LotBids(bids, groups).willingness_to_pay(),
                    wtp_reference(bids, groups.labels), rtol=1e-12)


@given(many_sizes(), st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_mechanism_1_bucketed_layout(groups, seed):
    """The equal-split threshold reads padded rows: compare payments with a reference."""
    rng = np.random.default_rng(seed)
    # Scale by 1/size and a random factor per group so that groups of every size win.
    scale = rng.uniform(0.5, 2.0, size=(8, groups.n_groups)) / groups.sizes
    bids = np.round(rng.exponential(size=(8, groups.n_members)) * scale[:, groups.labels], 3)
    outcome = preset("dao-vickrey").run(bids, groups)
    for r in range(bids.shape[0]):
        assert_allclose(outcome.lot_payments[r, 0], mechanism_1_payments(bids[r], groups.labels),
                        rtol=1e-12, atol=1e-12)


def test_one_group_of_everyone_and_everyone_alone():
    bids = np.array([[3.0, 1.0, 2.0, 2.0]])
    assert_allclose(LotBids(bids, Groups.from_sizes([4])).willingness_to_pay(), [[6.0]])
    assert_allclose(LotBids(bids, Groups.from_sizes([1, 1, 1, 1])).willingness_to_pay(), bids)
