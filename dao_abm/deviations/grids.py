"""Candidate strategies of grid-based rules: multiples of each member's value, or bids.

A scenario sets the grid with ``learning.grid_scale`` and either ``learning.grid`` (the
points) or ``learning.grid_low`` / ``grid_high`` / ``grid_points`` (evenly spaced):

- ``relative``: the points are multiples of the member's value (today's default, 0 to 1.5
  in 41 steps); with values redrawn each round they are the shading factors alpha;
- ``absolute``: the points are bids, the same for every member, e.g. Banchio & Skrzypacz's
  {0.05, 0.10, ..., 0.95} (needs fixed values).

``learning.grid_value`` adds the member's value (the truthful bid, factor 1) to the points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_SCALES = ("relative", "absolute")


@dataclass(frozen=True, eq=False)
class Grid:
    """A candidate grid.

    Attributes:
        points: ``(K,)`` sorted points, >= 0 (multiples of the value, or bids).
        scale: "relative" or "absolute".
        with_value: also offer the member's value (truthful bidding).
    """

    points: np.ndarray
    scale: str = "relative"
    with_value: bool = True

    def __post_init__(self) -> None:
        points = np.unique(np.asarray(self.points, dtype=np.float64))
        if points.ndim != 1 or not points.size or not np.isfinite(points).all() or (
                points < 0).any():
            raise ValueError("a grid needs at least one finite point >= 0")
        if self.scale not in GRID_SCALES:
            raise ValueError(f"grid scale {self.scale!r} is not one of {', '.join(GRID_SCALES)}")
        object.__setattr__(self, "points", points)

    @classmethod
    def even(cls, low: float, high: float, n: int, **kwargs) -> Grid:
        """``n`` evenly spaced points from ``low`` to ``high``."""
        return cls(np.linspace(low, high, n), **kwargs)

    @property
    def relative(self) -> bool:
        return self.scale == "relative"

    def factors(self) -> np.ndarray:
        """``(K,)`` shading factors (a relative grid), with 1 when ``with_value``."""
        if not self.relative:
            raise ValueError("an absolute grid has bids, not shading factors")
        return np.union1d(self.points, [1.0]) if self.with_value else self.points

    def bids(self, values: np.ndarray) -> np.ndarray:
        """``(*values.shape, K)`` candidate bids of members with ``values``."""
        values = np.asarray(values, dtype=np.float64)
        if self.relative:
            return values[..., None] * self.factors()
        bids = np.broadcast_to(self.points, (*values.shape, self.points.size))
        if not self.with_value:
            return bids.copy()
        return np.sort(np.concatenate([values[..., None], bids], axis=-1), axis=-1)

    @property
    def cap(self) -> float | None:
        """The largest bid as a multiple of the value (a relative grid's top), or None."""
        return float(self.factors().max()) if self.relative else None

    @property
    def size(self) -> int:
        """K, the number of candidates per member and item."""
        if self.relative:
            return self.factors().size
        return self.points.size + self.with_value
