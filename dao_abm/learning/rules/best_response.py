"""Myopic best response to the current profile: exact under Mechanism 1/2, else over the grid.

Feedback: ``expected`` (default; fixed values, or the mean over sampled value profiles) or
``full`` (this round's values). Bid functions (``learning.strategy = "function"``): each
knot's best bid on the bid grid (``functions.best_response_functions``). Ties among best
responses follow ``learning.tie_policy``; the exact answer stays below the rule's ``cap``
times the value (``exact.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.market import Market
from dao_abm.deviations.payoffs import DEFAULT_GRID, is_shading
from dao_abm.learning.best_response import best_response, best_response_shading
from dao_abm.learning.contract import Rule, register_rule
from dao_abm.learning.functions import best_response_functions
from dao_abm.learning.revision import Revision


@register_rule
class BestResponse(Rule):
    """Revising members switch to a best response to everyone else's current strategies."""

    name = "best-response"
    feedback = ("expected", "full")
    exact = True
    functions = True

    @dataclass(frozen=True)
    class Params:
        """Best response has no parameters of its own (see ``learning.tie_policy``)."""

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        if is_shading(values_or_samples, strategies):
            grid = DEFAULT_GRID if self.grid is None else self.grid
            return best_response_shading(
                market, values_or_samples, strategies, revising=revising, alpha_grid=grid,
                tie_policy=self.tie_policy, rng=rng, members=members,
            )
        return best_response(market, values_or_samples, strategies, revising=revising,
                             grid=self.grid, tie_policy=self.tie_policy, rng=rng,
                             members=members, grid_max=self.cap)

    def step_function(self, market: Market, space, samples, strategies, *, revising,
                      rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """Pointwise: each knot's best bid against the others' current functions."""
        return best_response_functions(market, space, samples, strategies, revising=revising,
                                       tie_policy=self.tie_policy, rng=rng, members=members)
