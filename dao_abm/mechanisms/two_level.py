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
        reserve: the auctioneer's reserve price, one number for every lot or one per lot
            (per item; one for the bundle under ``grand-bundle``). A lot whose highest group
            bid is below its reserve goes unsold; a sold lot's price is at least the reserve
            (second price: max(second-highest bid, reserve); first price: the winning bid).
            Not offered with ``vcg`` (its unit-demand assignment has no per-lot reserve).
    """

    aggregation: str
    upper: str
    cost_sharing: str
    reserve: float | tuple[float, ...] = 0.0

    def __post_init__(self) -> None:
        AGGREGATIONS[self.aggregation]
        UPPER_MECHANISMS[self.upper]
        COST_SHARING[self.cost_sharing]
        check_reserve(self.reserve, self.upper)

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
        flat_group_bids = group_bids.reshape(-1, n_lots, groups.n_groups)
        winner, price = upper.allocate(flat_group_bids, valuation)
        if np.any(self.reserve):
            winner, price = apply_reserve(flat_group_bids, winner, price,
                                          reserve_per_lot(self.reserve, n_lots))
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


def check_reserve(reserve: float | tuple[float, ...], upper: str) -> None:
    """ValueError unless ``reserve`` is a finite number >= 0 or a non-empty tuple of them,
    and the upper mechanism offers one."""
    values = np.atleast_1d(np.asarray(reserve, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError("reserve must be a number or a non-empty list of numbers, one per lot")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"reserve must be finite and >= 0 (got {reserve!r})")
    if upper == "vcg" and values.any():
        raise ValueError("upper mechanism 'vcg' has no reserve price")


def reserve_per_lot(reserve: float | tuple[float, ...], n_lots: int) -> np.ndarray:
    """``(L,)`` the reserve of each lot (ValueError when a per-lot list has the wrong length)."""
    values = np.atleast_1d(np.asarray(reserve, dtype=np.float64))
    if values.size == 1:
        return np.full(n_lots, values[0])
    if values.size != n_lots:
        raise ValueError(f"reserve has {values.size} entries, the auction has {n_lots} lots")
    return values


def apply_reserve(group_bids: np.ndarray, winner: np.ndarray, price: np.ndarray,
                  reserve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Impose a reserve on an upper mechanism's outcome: ``group_bids`` ``(R, L, k)``,
    ``winner``/``price`` ``(R, L)``, ``reserve`` ``(L,)``. The winning group keeps the lot iff
    its bid is at least the reserve (Myerson's reserve, applied lot by lot); it pays
    max(price, reserve). Standard for first and second price per lot (Krishna, Auction
    Theory, §2.5)."""
    top = np.take_along_axis(group_bids, np.maximum(winner, 0)[..., None], axis=-1)[..., 0]
    sold = (winner >= 0) & (top >= reserve)
    return np.where(sold, winner, -1), np.where(sold, np.maximum(price, reserve), 0.0)


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
