"""The result of one two-level auction (or a batch of them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Outcome:
    """Allocation and payments of a two-level mechanism, with leading batch axes ``*B``.

    Attributes:
        valuation: "single", "additive" or "unit-demand".
        lots: ``(L, m)`` bool, the items in each lot the upper mechanism sold.
        group_bids: ``(*B, L, k)`` aggregated group bids per lot.
        winner: ``(*B, L)`` group that won each lot (-1 = unsold).
        price: ``(*B, L)`` what the winner pays the auctioneer for the lot.
        access: ``(*B, L, n)`` which members have access to each lot's items.
        lot_payments: ``(*B, L, n)`` what each member pays towards each lot.
    """

    valuation: str
    lots: np.ndarray
    group_bids: np.ndarray
    winner: np.ndarray
    price: np.ndarray
    access: np.ndarray
    lot_payments: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.group_bids.shape[-1])

    @property
    def member_payments(self) -> np.ndarray:
        """``(*B, n)`` total payment of each member."""
        return self.lot_payments.sum(axis=-2)

    @property
    def member_items(self) -> np.ndarray:
        """``(*B, n, m)`` bool: items each member has access to."""
        access, lots = self.access.astype(np.int8), self.lots.astype(np.int8)
        return np.einsum("...ln,lm->...nm", access, lots) > 0

    @property
    def group_won(self) -> np.ndarray:
        """``(*B, L, k)`` bool one-hot of each lot's winner."""
        return self.winner[..., None] == np.arange(self.n_groups)

    @property
    def group_payments(self) -> np.ndarray:
        """``(*B, k)`` what each group pays the auctioneer."""
        return (self.group_won * self.price[..., None]).sum(axis=-2)

    @property
    def group_items(self) -> np.ndarray:
        """``(*B, k, m)`` bool: items each group won."""
        won = self.group_won.astype(np.int8)
        return np.einsum("...lk,lm->...km", won, self.lots.astype(np.int8)) > 0

    @property
    def revenue(self) -> np.ndarray:
        """``(*B,)`` the auctioneer's revenue."""
        return np.where(self.winner >= 0, self.price, 0.0).sum(axis=-1)

    @property
    def budget_residual(self) -> np.ndarray:
        """``(*B,)`` group payments minus member payments (0 = budget balanced)."""
        return self.revenue - self.member_payments.sum(axis=-1)
