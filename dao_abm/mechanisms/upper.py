"""Upper mechanisms: the auctioneer's rule on group bids, blind to what is inside a group.

An upper mechanism sells *lots*: either one lot per item (``bundled = False``) or all items
as one lot (``bundled = True``). ``allocate`` maps ``(R, L, k)`` group bids for the lots to
the winner of each lot, ``(R, L)`` ints (-1 = unsold), and its price, ``(R, L)`` floats.

Tie rule (everywhere): among equal highest group bids the lowest group index wins
(``ties.py``, the one home of that rule). The
rules here have no reserve price, so a single group gets the lot at price 0; a reserve is
imposed on their outcome by ``TwoLevelMechanism.reserve`` (``two_level.apply_reserve``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms import ties
from dao_abm.mechanisms.registry import Registry

Allocate = Callable[[np.ndarray, str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class UpperMechanism:
    """An auctioneer's mechanism over group bids.

    Attributes:
        bundled: True when all items are sold as one lot, False for one lot per item.
        allocate: ``(group_bids (R, L, k), valuation) -> (winner (R, L), price (R, L))``.
    """

    bundled: bool
    allocate: Allocate

    def lots(self, n_items: int) -> np.ndarray:
        """``(L, m)`` bool: which items each lot contains."""
        if self.bundled:
            return np.ones((1, n_items), dtype=bool)
        return np.eye(n_items, dtype=bool)


UPPER_MECHANISMS: Registry[UpperMechanism] = Registry("upper mechanism")


def _highest(group_bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Winner (``ties.winner``) and the highest bid among the others."""
    winner = ties.winner(group_bids)
    others = group_bids.copy()
    np.put_along_axis(others, winner[..., None], -np.inf, axis=-1)
    second = others.max(axis=-1)
    return winner, np.where(np.isfinite(second), second, 0.0)


def second_price(group_bids: np.ndarray, valuation: str) -> tuple[np.ndarray, np.ndarray]:
    """Vickrey auction per lot: highest group bid wins and pays the second highest
    (Mechanism 1, lines 3-4; item by item for several items, Mechanism 2)."""
    return _highest(group_bids)


def first_price(group_bids: np.ndarray, valuation: str) -> tuple[np.ndarray, np.ndarray]:
    """First-price auction per lot: highest group bid wins and pays its bid."""
    winner = ties.winner(group_bids)
    return winner, np.take_along_axis(group_bids, winner[..., None], axis=-1)[..., 0]


def vcg(group_bids: np.ndarray, valuation: str) -> tuple[np.ndarray, np.ndarray]:
    """VCG over group bids read as valuations of ``valuation`` (Appendix A's upper rule).

    Single item and additive: VCG decomposes into a Vickrey auction per item. Unit-demand:
    the welfare-maximizing assignment of items to groups (at most one item each, scipy's
    ``linear_sum_assignment``) and the Clarke pivot payment
    ``p_j = OPT(-j) - (OPT - b_j(item_j))``. Ties among optimal assignments follow the
    solver's deterministic choice. This path loops over rows: it is for audits and
    experiments, not the learning hot path.
    """
    if valuation != "unit-demand" or group_bids.shape[-2] == 1:
        return _highest(group_bids)
    rows, n_items, _ = group_bids.shape
    winner = np.full((rows, n_items), -1, dtype=np.int64)
    price = np.zeros((rows, n_items))
    for r in range(rows):
        winner[r], price[r] = _vcg_unit_demand(group_bids[r].T)
    return winner, price


def _assignment_value(values: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize is slow to import

    if values.shape[0] == 0:
        return 0.0
    g, i = linear_sum_assignment(values, maximize=True)
    return float(values[g, i].sum())


def _vcg_unit_demand(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (k, m) -> winner per item (m,) and price per item (m,)."""
    from scipy.optimize import linear_sum_assignment

    m = values.shape[1]
    groups, items = linear_sum_assignment(values, maximize=True)
    total = float(values[groups, items].sum())
    winner = np.full(m, -1, dtype=np.int64)
    price = np.zeros(m)
    for j, item in zip(groups.tolist(), items.tolist(), strict=True):
        others_without_j = _assignment_value(np.delete(values, j, axis=0))
        bid = values[j, item]
        pay = others_without_j - (total - bid)
        # In exact arithmetic 0 <= pay <= bid (VCG is individually rational); clamp the
        # rounding noise of the three sums so the group can always cover its price.
        if abs(pay) <= 1e-12 * max(total, 1.0):
            pay = 0.0
        winner[item], price[item] = j, min(max(pay, 0.0), bid)
    return winner, price


UPPER_MECHANISMS.register("second-price")(UpperMechanism(False, second_price))
UPPER_MECHANISMS.register("first-price")(UpperMechanism(False, first_price))
UPPER_MECHANISMS.register("vcg")(UpperMechanism(False, vcg))
UPPER_MECHANISMS.register("grand-bundle")(UpperMechanism(True, second_price))
