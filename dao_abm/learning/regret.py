"""External regret: how much better the best fixed option would have done in hindsight."""

from __future__ import annotations

import numpy as np

from dao_abm.deviations.payoffs import Payoffs


class ExternalRegret:
    """Cumulative external regret of each member against fixed grid options.

    regret = (cumulative utility of the best fixed option) - (realized cumulative utility).
    With several items the fixed options are per item: summed over items when the utility
    separates (the best fixed joint option), the best single item otherwise (matching
    ``Payoffs.gain``). Average regret is ``regret / rounds``. It is a measurement: the
    payoff tables it reads are never shown to bandit learners.
    """

    def __init__(self) -> None:
        self.option_total: np.ndarray | None = None
        self.realized: np.ndarray | None = None
        self.rounds = 0

    def update(self, pay: Payoffs) -> np.ndarray:
        """Add one round; return ``(n,)`` the cumulative regret so far."""
        if self.option_total is None:
            self.option_total = np.zeros_like(pay.utilities)
            self.realized = np.zeros_like(pay.current)
        self.option_total += pay.utilities
        self.realized += pay.current
        self.rounds += 1
        excess = self.option_total.max(axis=-1) - self.realized[:, None]
        return excess.sum(axis=1) if pay.separable else excess.max(axis=1)
