"""Fictitious play: a best response to the empirical distribution of the others' past bids.

Against the others' bid profiles of rounds 1..t, each option's expected utility is its mean
utility over those rounds (full feedback: what the option would have paid against each
round's actual bids), so a member plays the option with the best mean so far (Brown 1951;
Fudenberg & Levine 1998, ch. 2). Ties follow ``learning.tie_policy``. With several items
that do not separate, a member changes one item per round, like the best response.
Feedback: ``full`` (default) or ``expected``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.payoffs import Payoffs
from dao_abm.learning.contract import GridRule, register_rule
from dao_abm.learning.feedback import Feedback
from dao_abm.learning.revision import option_rows
from dao_abm.learning.ties import choose, tolerance


@register_rule
class FictitiousPlay(GridRule):
    """Best response to the time average of the payoffs the options would have earned."""

    name = "fictitious-play"
    feedback = ("full", "expected")

    @dataclass(frozen=True)
    class Params:
        """Fictitious play has no parameters of its own (see ``learning.tie_policy``)."""

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.total: np.ndarray | None = None  # (n, m, K) cumulative option utilities
        self.rounds = 0

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        self.total = fb.utilities.copy() if self.total is None else self.total + fb.utilities
        self.rounds += 1
        mean = self.total / self.rounds
        r = np.arange(mean.shape[0])
        current = mean[r, 0, fb.played[:, 0]]  # the current profile's mean utility
        empirical = Payoffs(mean, current, fb.options, fb.strategies, fb.truthful, fb.scale,
                            fb.separable, fb.prices, None, mean.shape[0])
        utils, now, distance, level, here, scale = option_rows(empirical)
        choice, _ = choose(utils, now, distance, level, here, policy=self.tie_policy,
                           tol=tolerance(scale), rng=rng)
        return fb.per_item(choice)
