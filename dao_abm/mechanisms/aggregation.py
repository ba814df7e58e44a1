"""Aggregation rules: member bids for a lot -> one group bid (the lower mechanism's ``a``).

Every rule maps ``LotBids`` with ``(R, n)`` bids to ``(R, k)`` group bids and is the
identity on groups of one, as Section 2 requires.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.registry import Registry

Aggregation = Callable[[LotBids], np.ndarray]
AGGREGATIONS: Registry[Aggregation] = Registry("aggregation")


@AGGREGATIONS.register("wtp")
def willingness_to_pay(lot: LotBids) -> np.ndarray:
    """WTP_j = max_i i·b_(i) over bids sorted high to low (Section 3.1, Mechanism 1 line 2):
    the most the group can pay if everyone with access pays the same and nobody pays above
    their bid."""
    return lot.willingness_to_pay()


@AGGREGATIONS.register("sum")
def total(lot: LotBids) -> np.ndarray:
    """Sum of member bids: what a crowdfund pledges (not truthful with any equal split)."""
    return lot.group_reduce(np.add)


@AGGREGATIONS.register("max")
def highest(lot: LotBids) -> np.ndarray:
    """Highest member bid: the group bids as its keenest member would alone."""
    return lot.group_reduce(np.maximum)
