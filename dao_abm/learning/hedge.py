"""Hedge (multiplicative weights) over the candidate grid, and external-regret bookkeeping.

Each (member, item) runs Hedge over the K grid options (Freund & Schapire 1997; Arora,
Hazan & Kale 2012): it observes the utility every option would have earned this round
against the others' actual strategies (full information, ``Payoffs.utilities``) and plays
option k next with probability proportional to exp(η · U_k / scale), U_k being the option's
cumulative utility and scale the member's value scale.
"""

from __future__ import annotations

import numpy as np

from dao_abm.learning.market import Market
from dao_abm.learning.payoffs import Payoffs, payoffs
from dao_abm.learning.revision import Revision, finish
from dao_abm.learning.rules import LEARNING_RULES, sample_softmax


class ExternalRegret:
    """Cumulative external regret of each member against fixed grid options.

    regret = (cumulative utility of the best fixed option) - (realized cumulative utility).
    With several items the fixed options are per item: summed over items when the utility
    separates (the best fixed joint option), the best single item otherwise (matching
    ``Payoffs.gain``). Average regret is ``regret / rounds``.
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


@LEARNING_RULES.register("hedge")
class Hedge:
    """Hedge over the grid with full-information feedback.

    Args:
        eta: learning rate η > 0 applied to utilities in units of the member's value scale.
    """

    def __init__(self, eta: float = 0.5) -> None:
        if not eta > 0:
            raise ValueError("the Hedge learning rate eta must be > 0")
        self.eta = float(eta)
        self.grid: np.ndarray | None = None
        self.regret = ExternalRegret()

    def reset(self, n_members: int, n_items: int, *, grid=None, rng: np.random.Generator) -> None:
        self.grid = grid
        self.regret = ExternalRegret()

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """One round; ``members`` is ignored: every member's options feed its memory."""
        pay = payoffs(market, values_or_samples, strategies, self.grid)
        regret = self.regret.update(pay)
        scale = np.maximum(pay.scale, 1e-12)[:, None, None]
        choice = sample_softmax(self.eta * self.regret.option_total / scale, rng)  # (n, m)
        new = np.take_along_axis(pay.options, choice[..., None], axis=-1)[..., 0]
        return finish(np.asarray(strategies, dtype=np.float64), new, revising, pay.gain, regret)
