"""What the live page remembers per round beyond ``metrics.csv`` (Mesa-free, numpy only).

Two things grow with the rounds:

* ``hist``: the distribution of bid/value over members, per DAO-size bucket (the buckets
  of ``dao_abm.model.metrics.SIZE_BUCKETS``, plus "all"): the share of a bucket's members
  whose bid/value falls in each of ``RATIO_BINS`` (width 0.1 on [0, 2]; the last bin holds
  everything >= 1.9, ratios being capped at 10 by ``bid_ratios``). One ``(buckets + 1,
  bins)`` array per round: 9 x 20 numbers, whatever the population.
* the bids, values and access of the **watched members**: the first ``PER_DAO`` members of
  every DAO (by member index, DAOs by index), at most ``MAX_WATCHED`` in all, fixed when the
  model is built. Keeping every member's history would cost n x rounds (17,437 x 1,000
  doubles is 140 MB per array); the watched set keeps each DAO's view at a bounded cost.
  After DAOs re-form, a DAO's view shows those of its current members who are watched.
"""

from __future__ import annotations

import numpy as np

from dao_abm.model.metrics import SIZE_BUCKET_NAMES, SIZE_BUCKETS, bid_ratios

#: Bid/value bins of the distribution heat map: [0, 0.1), ..., [1.9, inf).
RATIO_BINS = np.round(np.arange(0.0, 2.0, 0.1), 10)
#: Watched members per DAO, and in all.
PER_DAO = 40
MAX_WATCHED = 2000
#: Rows of ``hist``: all members, then each DAO-size bucket.
BUCKET_ROWS = ("all", *SIZE_BUCKET_NAMES)


def watch_set(labels: np.ndarray, per_dao: int = PER_DAO, limit: int = MAX_WATCHED) -> np.ndarray:
    """``(k,)`` sorted member indices: the first ``per_dao`` members of each DAO (by member
    index), DAOs taken by index, the whole cut after ``limit`` members."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = np.arange(labels.size) - starts
    chosen = order[rank < per_dao]
    return np.sort(chosen[:limit])


def ratio_histogram(ratios: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``(1 + buckets, bins)`` shares of members per bid/value bin: all, then per bucket.

    Args:
        ratios: ``(n,)`` bid/value per member (``bid_ratios``).
        labels: ``(n,)`` DAO of each member.
        sizes: ``(n_daos,)`` DAO sizes.
    """
    n_bins, n_buckets = RATIO_BINS.size, len(SIZE_BUCKETS)
    bins = np.clip(np.searchsorted(RATIO_BINS, ratios, side="right") - 1, 0, n_bins - 1)
    bucket = np.searchsorted(np.asarray(SIZE_BUCKETS), sizes, side="left")[labels]
    counts = np.bincount(bucket * n_bins + bins, minlength=n_buckets * n_bins)
    counts = counts.reshape(n_buckets, n_bins).astype(np.float64)
    table = np.vstack([counts.sum(axis=0), counts])
    total = table.sum(axis=1, keepdims=True)
    return np.divide(table, total, out=np.full(table.shape, np.nan), where=total > 0)


class History:
    """Per-round records of one model for the page (see the module docstring).

    Args:
        labels: ``(n,)`` the DAO of each member when the model is built.
    """

    def __init__(self, labels: np.ndarray) -> None:
        self.watched = watch_set(labels)
        self.rounds: list[int] = []
        self.hist: list[np.ndarray] = []
        self.bids: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.access: list[np.ndarray] = []

    def record(self, round_: int, bids: np.ndarray, values: np.ndarray, labels: np.ndarray,
               sizes: np.ndarray, access: np.ndarray) -> None:
        """Append round ``round_``: ``bids``/``values`` ``(n,)`` or ``(n, items)`` (items
        summed for the watched members), ``access`` ``(n,)`` bool."""
        self.rounds.append(int(round_))
        self.hist.append(ratio_histogram(bid_ratios(bids, values), labels, sizes))
        w = self.watched
        self.bids.append(_per_member(bids[w]).astype(np.float32))
        self.values.append(_per_member(values[w]).astype(np.float32))
        self.access.append(access[w].copy())

    def members_of(self, dao: int, labels: np.ndarray) -> np.ndarray:
        """Positions in ``watched`` of the watched members now in DAO ``dao``."""
        return np.flatnonzero(labels[self.watched] == dao)


def _per_member(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=-1) if x.ndim > 1 else x
