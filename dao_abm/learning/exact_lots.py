"""A(b) and P(b) in closed form for individual bidders: the exact knot table.

Where every bidder is a group of one, there is one item sold by first or second price (with
an optional reserve r), every value is i.i.d. U[low, high] and bid functions are
non-decreasing, a bid b wins with probability

    A_i(b) = 1{b >= r} · Π_{j before i} P(β_j(V) < b) · Π_{j after i} P(β_j(V) <= b)

(ties go to the lowest group index, the engine's rule, ``mechanisms/ties.py``; "before"
is group order), and P(β_j(V) < b) = F(sup{v : β_j(v) < b}) inverts the piecewise linear
β_j knot segment by knot segment (above the top knot the function keeps its ratio, as
``FunctionSpace.evaluate``). The expected payment is P_i(b) = b·A_i(b) under first price
and, under second price (the price is max(r, the highest other bid)),

    P_i(b) = b·A_i(b) − ∫_r^b H_i(x) dx,   H_i(x) = Π_{j ≠ i} P(β_j(V) < x),

by parts (a tie at b pays b). The integral is a trapezoid rule on ``POINTS`` evenly spaced
points plus every candidate bid and the reserve, so second-price payments are exact up to
that quadrature (a jump of H, from a flat piece of a rival's function, costs at most half a
point spacing times the jump); first-price tables are exact. Knots are weighted by their
cells' prior mass (cells split halfway between knots), not by sampled values.

The learners' tables then carry no sampling noise: ``functions.knot_table`` uses this when
the ``FunctionSpace`` holds an ``ExactLots`` (``learning.function_table = "auto"``, the
default, on runs that qualify, ``model/learner.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scipy comes with it: imported where an ExactLots is built
    from dao_abm.equilibrium.bid_functions import Prior

#: Evenly spaced quadrature points of the second price's payment integral.
POINTS = 4097


@dataclass(frozen=True, eq=False)
class ExactLots:
    """The closed-form lot of individual bidders (module docstring).

    Attributes:
        price: "first" or "second".
        prior: the values' distribution (uniform where ``model/learner.py`` builds one).
        reserve: r (0: none).
        order: ``(n,)`` each member's group index (ties go to the lowest).
        weights: ``(K,)`` each value knot's cell's prior mass
            (``equilibrium.bid_functions.cell_weights``).
    """

    price: str
    prior: Prior
    reserve: float
    order: np.ndarray
    weights: np.ndarray

    def share_below(self, knots: np.ndarray, bids: np.ndarray, x: np.ndarray, *,
                    strict: bool) -> np.ndarray:
        """``(n, X)`` P(β_j(V) < x) (``strict``) or P(β_j(V) <= x) for non-decreasing
        functions ``bids`` ``(n, K)`` on ``knots`` ``(K,)``, at points ``x`` ``(X,)``."""
        k = bids.shape[1]
        # knots bidding below x (or at most x): (n, K, X), small for the <= 16 bidders here
        below = bids[:, :, None] < x if strict else bids[:, :, None] <= x
        count = below.sum(axis=1)  # (n, X)
        seg = np.clip(count, 1, k - 1)
        y0 = np.take_along_axis(bids, seg - 1, axis=1)
        y1 = np.take_along_axis(bids, seg, axis=1)
        v0, v1 = knots[seg - 1], knots[seg]
        rise = np.where(y1 > y0, y1 - y0, 1.0)
        inside = v0 + np.clip((x - y0) / rise, 0.0, 1.0) * (v1 - v0)
        top_bid = bids[:, -1:]
        tail = np.where(top_bid > 0, x * knots[-1] / np.where(top_bid > 0, top_bid, 1.0),
                        np.inf)  # b(v) = b(v_K)·v/v_K above the top knot
        sup = np.where(count == 0, -np.inf, np.where(count >= k, tail, inside))
        return self.prior.cdf(sup)

    def tables(self, knots: np.ndarray, strategies: np.ndarray, options: np.ndarray,
               rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(r, C)`` A(b) and P(b) of every candidate ``options`` ``(r, C)`` of the members
        ``rows`` against everyone's functions ``strategies`` ``(n, K)``."""
        r = self.reserve
        top = max(float(options.max()), float(strategies.max()), r)
        x = np.unique(np.concatenate([np.linspace(0.0, top, POINTS), options.ravel(), [r]]))
        lower = self.share_below(knots, strategies, x, strict=True)  # (n, X)
        upper = self.share_below(knots, strategies, x, strict=False)
        order = self.order
        before = order[None, :] < order[rows][:, None]  # (r, n)
        after = order[None, :] > order[rows][:, None]
        factors = np.where(before[..., None], lower[None], np.where(after[..., None],
                                                                      upper[None], 1.0))
        access = np.where(x >= r, factors.prod(axis=1), 0.0)  # (r, X)
        if self.price == "first":
            payment = x * access
        else:
            rivals = np.where((before | after)[..., None], lower[None], 1.0).prod(axis=1)
            area = np.concatenate([np.zeros((rows.size, 1)), np.cumsum(
                (rivals[:, 1:] + rivals[:, :-1]) / 2 * np.diff(x), axis=1)], axis=1)
            at_reserve = area[:, [np.searchsorted(x, r)]]
            payment = np.where(x >= r, x * access - (area - at_reserve), 0.0)
        where = np.searchsorted(x, options)  # every option is a point of x
        return (np.take_along_axis(access, where, axis=1),
                np.take_along_axis(payment, where, axis=1))
