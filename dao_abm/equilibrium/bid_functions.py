"""Strategies as bid functions: piecewise linear on a value grid, one row per bidder.

A profile is ``knots`` ``(K,)`` (increasing values spanning the prior's support) and
``bids`` ``(n, K)``; bidder i with value v bids the linear interpolation of row i at v.
The distribution of bidder j's bid, ``G_j(b) = P(β_j(V) ≤ b)``, is what the others face:

- monotone rows (non-decreasing): exact, ``G_j(b) = F(sup{v : β_j(v) ≤ b})``, inverting the
  piecewise linear function segment by segment;
- otherwise: the empirical distribution of β_j on a fixed sample of values (common random
  numbers: the same sample for every bidder and every call).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from dao_abm.errors import DaoAbmError


@dataclass(frozen=True)
class Prior:
    """The value distribution every bidder draws from (i.i.d. private values).

    Attributes:
        low, high: the support [low, high] (the bid function's knots span it).
        dist: the scipy frozen distribution (``cdf``, ``ppf``).
        name: "uniform" for U[low, high] (the closed forms need low = 0, high = 1).
    """

    low: float
    high: float
    dist: object
    name: str

    @classmethod
    def uniform(cls, low: float = 0.0, high: float = 1.0) -> Prior:
        return cls(low, high, stats.uniform(low, high - low), "uniform")

    @property
    def standard(self) -> str:
        """The prior's name in ``closed_forms`` ("uniform" only for U[0, 1])."""
        return "uniform" if (self.name, self.low, self.high) == ("uniform", 0.0, 1.0) else ""

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x); computed directly for the uniform (scipy's generic path costs ~10x)."""
        if self.name == "uniform":
            return np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        return self.dist.cdf(x)

    def quantiles(self, size: int) -> np.ndarray:
        """``(size,)`` the fixed sample: the prior's quantiles at the midpoints
        (k + 1/2)/size (stratified, so every estimate on it is deterministic)."""
        return self.dist.ppf((np.arange(size) + 0.5) / size)


def cell_weights(prior: Prior, knots: np.ndarray) -> np.ndarray:
    """``(K,)`` the prior mass of each knot's cell (cells split halfway between sorted knots,
    the outer ones ending at the first and last knot), normalized to sum to 1: the weight of
    a value knot in an ex-ante average over the discretized prior."""
    edges = np.concatenate([[knots[0]], (knots[1:] + knots[:-1]) / 2, [knots[-1]]])
    w = np.diff(prior.cdf(edges))
    return w / w.sum()


def check_grid(grid: object, key: str) -> np.ndarray:
    """A value or bid grid as a float array, or DaoAbmError naming ``key`` when it is empty,
    not finite, negative, or not strictly increasing."""
    try:
        arr = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise DaoAbmError(f"{key} must be a list of numbers") from None
    if arr.ndim != 1 or arr.size < 2:
        raise DaoAbmError(f"{key} must be a list of at least 2 numbers (got {arr.size})")
    if not np.isfinite(arr).all():
        raise DaoAbmError(f"{key} must be finite (found NaN or infinity)")
    if (arr < 0).any():
        raise DaoAbmError(f"{key} must be >= 0 (found {arr.min():g})")
    if (np.diff(arr) <= 0).any():
        raise DaoAbmError(f"{key} must be strictly increasing (sorted, no repeats)")
    return arr


@dataclass(frozen=True)
class BidFunctions:
    """Piecewise linear bid functions of n bidders on shared knots.

    Attributes:
        knots: ``(K,)`` increasing values.
        bids: ``(n, K)`` each bidder's bid at each knot (>= 0).
    """

    knots: np.ndarray
    bids: np.ndarray

    @property
    def n(self) -> int:
        return self.bids.shape[0]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """``(n, *values.shape)`` each bidder's bid at each value (clamped to the knots)."""
        v = np.clip(np.asarray(values, dtype=np.float64), self.knots[0], self.knots[-1])
        i = np.clip(np.searchsorted(self.knots, v, side="right") - 1, 0, self.knots.size - 2)
        w = (v - self.knots[i]) / (self.knots[i + 1] - self.knots[i])
        return self.bids[:, i] * (1 - w) + self.bids[:, i + 1] * w

    def monotone(self) -> BidFunctions:
        """The non-decreasing functions closest from below-and-above: the running maximum."""
        return BidFunctions(self.knots, np.maximum.accumulate(self.bids, axis=1))

    def is_monotone(self) -> bool:
        return bool((np.diff(self.bids, axis=1) >= 0).all())

    def bid_cdf(self, b: np.ndarray, prior: Prior, sample: np.ndarray, *,
                strict: bool = False) -> np.ndarray:
        """``(n, *b.shape)`` ``G_j(b) = P(β_j(V) ≤ b)`` (``strict``: ``P(β_j(V) < b)``):
        exact when every row is non-decreasing, else the empirical distribution of β_j on
        ``sample``. The two differ only at the level of a flat piece (an atom of bids)."""
        b = np.asarray(b, dtype=np.float64)
        side = "left" if strict else "right"
        if not self.is_monotone():
            sorted_bids = np.sort(self(sample), axis=1)
            return np.stack([np.searchsorted(row, b, side=side) for row in sorted_bids]
                            ) / sample.size
        return np.stack([prior.cdf(_inverse(self.knots, row, b, side)) for row in self.bids])


def _inverse(knots: np.ndarray, row: np.ndarray, b: np.ndarray, side: str) -> np.ndarray:
    """sup{v : row(v) ≤ b} (side "right") or inf{v : row(v) ≥ b} (side "left") for a
    non-decreasing piecewise linear ``row``: the value where the bid CDF is read. −inf when
    no value qualifies (F = 0), +inf when every value does (F = 1: values beyond the knots
    bid the end knots' bids)."""
    k = np.searchsorted(row, b, side=side)  # row[k-1] <= b < row[k] (right) or < and <=
    inside = (k > 0) & (k < row.size)
    lo = np.clip(k - 1, 0, row.size - 2)
    slope = np.where(inside, row[lo + 1] - row[lo], 1.0)
    v = knots[lo] + (b - row[lo]) / slope * (knots[lo + 1] - knots[lo])
    return np.where(k == 0, -np.inf, np.where(k == row.size, np.inf, v))
