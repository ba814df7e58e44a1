"""A two-level mechanism (Definition 2.1): aggregation, upper mechanism, cost sharing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms.aggregation import AGGREGATIONS
from dao_abm.mechanisms.cost_sharing import COST_SHARING
from dao_abm.mechanisms.groups import Groups
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.outcome import Outcome
from dao_abm.mechanisms.upper import UPPER_MECHANISMS

#: Valuation classes (Section 2). "single": bids ``(*B, n)``; the others ``(*B, n, m)``.
VALUATIONS = ("single", "additive", "unit-demand")


def check_valuation(valuation: str) -> str:
    if valuation not in VALUATIONS:
        raise ValueError(
            f"unknown valuation class {valuation!r}; choose one of: {', '.join(VALUATIONS)}"
        )
    return valuation


def bundle_bids(bids: np.ndarray, valuation: str) -> np.ndarray:
    """A member's bid for the set of all items: the sum (additive) or max (unit-demand)
    of its item bids; ``(*B, n, m) -> (*B, n)``."""
    return bids.sum(axis=-1) if valuation == "additive" else bids.max(axis=-1)


@dataclass(frozen=True)
class TwoLevelMechanism:
    """A composition of three rules chosen by name from the registries.

    Attributes:
        aggregation: name in ``AGGREGATIONS`` (member bids -> group bid).
        upper: name in ``UPPER_MECHANISMS`` (group bids -> lots, winners, prices).
        cost_sharing: name in ``COST_SHARING`` (price -> member access and payments).
    """

    aggregation: str
    upper: str
    cost_sharing: str

    def __post_init__(self) -> None:
        AGGREGATIONS[self.aggregation]
        UPPER_MECHANISMS[self.upper]
        COST_SHARING[self.cost_sharing]

    @property
    def name(self) -> str:
        return f"{self.aggregation}/{self.upper}/{self.cost_sharing}"

    def run(
        self, bids: np.ndarray, groups: Groups, valuation: str = "single", *, validate: bool = True
    ) -> Outcome:
        """Run the mechanism on member bids.

        For a lot S won at price p the cost-sharing rule works on each member's bid for S
        (additive: the sum over S; unit-demand: the max over S); with one lot per item it
        runs item by item (Mechanism 2).

        Args:
            bids: ``(*B, n)`` for "single", ``(*B, n, m)`` otherwise; finite and >= 0.
            groups: the membership (``groups.n_members == n``).
            valuation: the valuation class of the bids.
            validate: check shapes and values (skip only for bids the caller generated).
        """
        bids = np.asarray(bids, dtype=np.float64)
        if validate:
            _validate(bids, groups, valuation)
        upper = UPPER_MECHANISMS[self.upper]
        item_bids = bids[..., None] if valuation == "single" else bids
        n_items = item_bids.shape[-1]
        lots = upper.lots(n_items)
        if upper.bundled:
            lot_bids = bundle_bids(item_bids, valuation)[..., None, :]
        else:
            lot_bids = np.moveaxis(item_bids, -1, -2)
        batch, n_lots, n = lot_bids.shape[:-2], lot_bids.shape[-2], lot_bids.shape[-1]
        lot = LotBids(np.ascontiguousarray(lot_bids).reshape(-1, n), groups)
        group_bids = AGGREGATIONS[self.aggregation](lot)
        winner, price = upper.allocate(group_bids.reshape(-1, n_lots, groups.n_groups), valuation)
        winner, price = winner.reshape(-1), price.reshape(-1)
        access, payments = COST_SHARING[self.cost_sharing](lot, winner, price)
        shape = (*batch, n_lots)
        return Outcome(
            valuation=valuation,
            lots=lots,
            group_bids=group_bids.reshape(*shape, groups.n_groups),
            winner=winner.reshape(shape),
            price=price.reshape(shape),
            access=access.reshape(*shape, n),
            lot_payments=payments.reshape(*shape, n),
        )


def _validate(bids: np.ndarray, groups: Groups, valuation: str) -> None:
    check_valuation(valuation)
    member_axis = -1 if valuation == "single" else -2
    if bids.ndim < -member_axis:
        raise ValueError(f"bids for valuation {valuation!r} need at least {-member_axis} axes")
    if bids.shape[member_axis] != groups.n_members:
        raise ValueError(
            f"bids have {bids.shape[member_axis]} members, groups have {groups.n_members}"
        )
    if valuation != "single" and bids.shape[-1] == 0:
        raise ValueError("bids need at least one item")
    if not np.isfinite(bids).all():
        raise ValueError("bids must be finite (found NaN or infinity)")
    if (bids < 0).any():
        raise ValueError("bids must be >= 0")
