"""Fictitious play: a best response to the empirical distribution of the others' past bids.

Against the others' bid profiles of rounds 1..t, each option's expected utility is its mean
utility over those rounds (full feedback: what the option would have paid against each
round's actual bids), so a member plays the option with the best mean so far (Brown 1951;
Fudenberg & Levine 1998, ch. 2). Ties follow ``learning.tie_policy``. With several items
that do not separate, a member changes one item per round, like the best response.
Feedback: ``full`` (default) or ``expected``.

Bid functions (``learning.strategy = "function"``): each knot's best bid against the mean
access probability and payment of every grid bid over the rounds so far
(u(v_k, b) = v_k·Ā(b) − P̄(b), ``functions.knot_table``); the member's own current bids are
judged on this round's table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.market import Market
from dao_abm.deviations.payoffs import Payoffs
from dao_abm.learning.contract import GridRule, register_rule
from dao_abm.learning.feedback import Feedback
from dao_abm.learning.functions import KnotTable, knot_table, pick, revision
from dao_abm.learning.revision import Revision, option_rows
from dao_abm.learning.ties import choose, tolerance


@register_rule
class FictitiousPlay(GridRule):
    """Best response to the time average of the payoffs the options would have earned."""

    name = "fictitious-play"
    feedback = ("full", "expected")
    functions = True

    @dataclass(frozen=True)
    class Params:
        """Fictitious play has no parameters of its own (see ``learning.tie_policy``)."""

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.total: np.ndarray | None = None  # (n, m, K) cumulative option utilities
        self.rounds = 0
        self.seen: tuple[np.ndarray, np.ndarray] | None = None  # grid bids' total A, P

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

    def step_function(self, market: Market, space, samples, strategies, *, revising,
                      rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """Best response to the running means of A and P (module docstring)."""
        table = knot_table(market, space, samples, strategies)
        g = table.grid_size
        acc, pay = table.access[..., :g], table.payment[..., :g]
        self.seen = (acc.copy(), pay.copy()) if self.seen is None else (
            self.seen[0] + acc, self.seen[1] + pay)
        self.rounds += 1
        mean = KnotTable(space, table.options,
                         np.concatenate([self.seen[0] / self.rounds, table.access[..., g:]], -1),
                         np.concatenate([self.seen[1] / self.rounds, table.payment[..., g:]],
                                        -1), table.weights, None, table.n_members)
        proposed = pick(mean, mean.utilities(), tie_policy=self.tie_policy, rng=rng)
        return revision(table, table.utilities(), strategies, proposed, revising)
