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
range over the grid (SODA scales by the best utility), and the member plays SODA's
read-off of the mixed strategies ``softmax(y_k)``: the monotone function with the same bid
distribution, β = G⁻¹∘F (``learning.params.knot_play = "quantile"``), or each knot's mean
bid (``"mean"``). The
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
        knot_play: str = param("quantile", "hedge: with learning.strategy = 'function', how "
                                           "a knot's mixed strategy becomes its bid: the "
                                           "monotone function with the same bid "
                                           "distribution, G^-1(F(v)) (SODA's read-off), or "
                                           "its mean", choices=("quantile", "mean"))
        knot_eta: float = param(50.0, "hedge: with learning.strategy = 'function', the step "
                                      "on each knot's utilities divided by their range over "
                                      "the bid grid (SODA's 50)", gt=0.0)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.total: np.ndarray | None = None  # (n, m, K) cumulative utility / scale
        self.dual: np.ndarray | None = None  # (n, m, knots, G) bid functions' duals
        self.cells: np.ndarray | None = None  # (n, m, knots) summed value-cell shares

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
        sigma = softmax(self.dual)
        self.cells = table.weights if self.cells is None else self.cells + table.weights
        if self.params.knot_play == "mean":
            proposed = sigma @ space.bids
        else:
            proposed = quantile_play(sigma, self.cells, space.bids, market.reserve)
        return revision(table, utils, strategies, proposed, revising)


def quantile_play(sigma: np.ndarray, cells: np.ndarray, bids: np.ndarray, reserve: float
                  ) -> np.ndarray:
    """``(n, m, K)`` the monotone pure strategies β(v_k) = G⁻¹(F(v_k)) inducing the bid
    distribution G = Σ_k w_k σ_k of the mixed strategies ``sigma`` ``(n, m, K, G)``, with
    ``cells`` ``(n, m, K)`` the (unnormalized) value mass of each knot's cell and F(v_k) its
    mass below the knot plus half its own; each grid bid's mass spread evenly over its cell
    (``equilibrium.soda.read_off``, vectorized over members and items)."""
    w = cells / np.maximum(cells.sum(axis=-1, keepdims=True), 1e-300)
    q = np.cumsum(w, axis=-1) - w / 2  # (n, m, K)
    mass = np.einsum("nmk,nmkg->nmg", w, sigma)
    cum = np.concatenate([np.zeros((*mass.shape[:2], 1)), np.cumsum(mass, axis=-1)], axis=-1)
    cum /= np.maximum(cum[..., -1:], 1e-300)
    edges = np.concatenate([[bids[0]], (bids[1:] + bids[:-1]) / 2, [bids[-1]]])
    if reserve in bids:
        edges[np.searchsorted(bids, reserve)] = reserve
    i = np.clip((cum[..., None, :] < q[..., None]).sum(axis=-1), 1, bids.size)  # (n, m, K)
    lo, hi = np.take_along_axis(cum, i - 1, axis=-1), np.take_along_axis(cum, i, axis=-1)
    width = hi - lo
    frac = np.divide(q - lo, width, out=np.zeros_like(q), where=width > 0)
    return edges[i - 1] + np.clip(frac, 0.0, 1.0) * (edges[i] - edges[i - 1])
