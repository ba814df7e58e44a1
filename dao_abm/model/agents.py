"""DAO members as Mesa agents: each holds its index into the model's arrays.

The rounds are computed on the model's flat arrays; agents expose their slice as
attributes so Mesa reporters, ``AgentSet`` selection and SolaraViz see real agents.
"""

from __future__ import annotations

import mesa
import numpy as np


class DaoMember(mesa.Agent):
    """A bidder: a member of a DAO (or an individual bidder, a DAO of one)."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = int(index)

    @property
    def dao(self) -> int:
        return int(self.model.labels[self.index])

    @property
    def dao_size(self) -> int:
        return int(self.model.groups.sizes[self.model.labels[self.index]])

    @property
    def value(self) -> float:
        """True value (mean over items) this round."""
        return float(np.mean(self.model.values[self.index]))

    @property
    def bid(self) -> float:
        """Bid (mean over items) this round."""
        return float(np.mean(self.model.bids[self.index]))

    @property
    def strategy(self) -> float:
        """Bid (fixed values) or shading factor alpha (values redrawn), mean over items."""
        return float(np.mean(self.model.strategies[self.index]))

    @property
    def utility(self) -> float:
        return float(self.model.utility[self.index])

    @property
    def cumulative_utility(self) -> float:
        return float(self.model.cumulative_utility[self.index])

    @property
    def has_access(self) -> bool:
        return bool(self.model.access[self.index])

    def revise(self) -> None:
        """Best-respond (by the model's learning rule) to the others' current strategies."""
        mask = np.zeros(self.model.n_bidders, dtype=bool)
        mask[self.index] = True
        self.model.revise(mask)
