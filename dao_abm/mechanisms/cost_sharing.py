"""Cost-sharing rules: who in the winning group gets access to a lot and who pays what.

Each rule maps (``LotBids`` with ``(R, n)`` member bids for the lot, ``winner`` ``(R,)``,
``price`` ``(R,)``) to ``access`` ``(R, n)`` bool and ``payments`` ``(R, n)``. Members of
losing groups get nothing and pay 0. Equal bids inside a group are treated equally by every
rule here (Section 2, equal treatment).

When a rule cannot cover the price (max-equal-split when p > WTP_j, which happens when the
aggregation is not ``wtp``), nobody gets access and nobody pays: the shortfall is the
budget-balance residual that metrics report.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.registry import Registry

CostSharing = Callable[[LotBids, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
COST_SHARING: Registry[CostSharing] = Registry("cost-sharing rule")


@COST_SHARING.register("max-equal-split")
def max_equal_split(
    lot: LotBids, winner: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mechanism 1's lower rule (Section 3.1): the largest set of top bidders, t = t_j(p) =
    max{i : i·b_(i) >= p}, gets access and each pays p / t. Everyone else is excluded."""
    t, cutoff = lot.equal_split_threshold(winner, price)
    access = lot.in_group(winner) & (lot.bids >= cutoff[:, None])
    share = np.divide(price, t, out=np.zeros_like(price), where=t > 0)
    return access, np.where(access, share[:, None], 0.0)


@COST_SHARING.register("equal-split-all")
def equal_split_all(
    lot: LotBids, winner: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every member of the winning group gets access and pays p / n_j, whatever it bid
    (not individually rational: a low-value member can pay more than its value)."""
    access = lot.in_group(winner)
    size = np.where(winner >= 0, lot.groups.sizes[np.maximum(winner, 0)], 1)
    return access, np.where(access, (price / size)[:, None], 0.0)


@COST_SHARING.register("proportional")
def proportional(
    lot: LotBids, winner: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Members with a positive bid get access and pay p · b_i / Σ_{i' in j} b_i' (how
    ConstitutionDAO's contributors would have paid). If the winners' bids sum to 0,
    nobody gets access."""
    members = lot.in_group(winner)
    access = members & (lot.bids > 0)
    total = np.where(members, lot.bids, 0.0).sum(axis=1)
    scale = np.divide(price, total, out=np.zeros_like(price), where=total > 0)
    return access, np.where(access, lot.bids * scale[:, None], 0.0)
