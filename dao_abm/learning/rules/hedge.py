"""Hedge (multiplicative weights) over the grid, with full feedback.

Each (member, item) plays option k with probability proportional to exp(η · U_k / scale),
U_k the option's cumulative utility so far against the others' actual strategies (full
information) and scale the member's value scale (Freund & Schapire 1997; Arora, Hazan &
Kale 2012). With rewards in [0, 1] its expected regret after T rounds is at most
ln K / η + η T / 8 (Cesa-Bianchi & Lugosi 2006, Theorem 2.2).
Feedback: ``full`` (default) or ``expected``.

Bid functions (``learning.strategy = "function"``): dual averaging per (member, item, value
knot) over the bid grid, as SODA does on the discretized game (Bichler, Fichtl &
Oberlechner): the dual ``y_k`` accumulates ``knot_eta · u(v_k, ·) / range_k``, the knot's
utilities against the others' current functions (``functions.knot_table``) divided by their
range over the grid (SODA scales by the best utility; the range ignores the constant that
the member's other items add), and the knot plays the mean bid of ``softmax(y_k)``. The
dual starts peaked at the initial function (log-weights fall by 1 per grid step away from
it), so ``learning.initial`` matters as it does for the other strategies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.market import Market
from dao_abm.learning.choice import sample, softmax
from dao_abm.learning.contract import GridRule, param, register_rule
from dao_abm.learning.feedback import Feedback
from dao_abm.learning.functions import knot_table, revision
from dao_abm.learning.revision import Revision


@register_rule
class Hedge(GridRule):
    """Multiplicative weights on cumulative utilities (no external regret)."""

    name = "hedge"
    feedback = ("full", "expected")
    functions = True

    @dataclass(frozen=True)
    class Params:
        eta: float = param(0.5, "hedge: learning rate η, applied to utilities in units of the "
                                "member's value", gt=0.0)
        knot_eta: float = param(50.0, "hedge: with learning.strategy = 'function', the step "
                                      "on each knot's utilities divided by their range over "
                                      "the bid grid (SODA's 50)", gt=0.0)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.total: np.ndarray | None = None  # (n, m, K) cumulative utility / scale
        self.dual: np.ndarray | None = None  # (n, m, knots, G) bid functions' duals

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        scaled = fb.utilities / np.maximum(fb.scale, 1e-12)[:, None, None]
        self.total = scaled if self.total is None else self.total + scaled
        return sample(self.probabilities(), rng)

    def probabilities(self) -> np.ndarray:
        """``(n, m, K)`` the mixed strategy played next."""
        return softmax(self.params.eta * self.total)

    def step_function(self, market: Market, space, samples, strategies, *, revising,
                      rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """Dual averaging per knot (module docstring); every member learns every round."""
        table = knot_table(market, space, samples, strategies)
        utils = table.utilities()
        grid = utils[..., :table.grid_size]  # (n, m, K, G)
        if self.dual is None:
            step = space.bids[1] - space.bids[0] if space.bids.size > 1 else 1.0
            self.dual = -np.abs(space.bids - strategies[..., None]) / step
        span = grid.max(axis=-1, keepdims=True) - grid.min(axis=-1, keepdims=True)
        self.dual += self.params.knot_eta * grid / np.maximum(span, 1e-12)
        self.dual -= self.dual.max(axis=-1, keepdims=True)  # keeps exp() in range
        proposed = softmax(self.dual) @ space.bids
        return revision(table, utils, strategies, proposed, revising)
