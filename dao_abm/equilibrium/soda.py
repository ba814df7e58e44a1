"""SODA: simultaneous online dual averaging on the discretized auction game.

After Bichler, Fichtl & Oberlechner, "Computing Bayes–Nash equilibrium strategies in auction
games via simultaneous online dual averaging" (Operations Research; github
MOberlechner/soda), written here from the paper's description. Values and bids live on
grids (64 points each by default); a strategy is a distributional strategy, for every value
knot a probability vector over the bid grid. Every bidder at once plays dual averaging with
the entropic regularizer, i.e. per value knot Hedge on the accumulated interim utilities
``ū_i(v_k, b_m)`` against the others' current strategies (``auctions.discrete_utilities``),
with step ``η_t = η · t^(−β)``. Stop when the relative utility loss of the discretized game
falls below ``tol`` (SODA's criterion) or after ``iterations``. Everything is vectorized over
bidders, value knots and bids: one iteration is a few ``(n, K, M)`` array operations.

The learned bid function is the mean bid at each value knot, piecewise linear in between
(``BidFunctions``), which is what the continuous-game metrics evaluate.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dao_abm.equilibrium.auctions import discrete_utilities
from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.bid_functions import BidFunctions


@dataclass(frozen=True)
class Discretized:
    """The discretized game: value knots with their prior mass, and the bid grid.

    Attributes:
        game: the continuous game it approximates.
        values: ``(K,)`` value knots from the prior's low to high end.
        weights: ``(K,)`` prior mass of each knot's cell (cells split at midpoints).
        bids: ``(M,)`` bid grid from 0 to the prior's high end (plus the reserve).
    """

    game: Game
    values: np.ndarray
    weights: np.ndarray
    bids: np.ndarray

    @classmethod
    def of(cls, game: Game, value_points: int = 64, bid_points: int = 64) -> Discretized:
        """The grids of SODA's experiments: ``value_points`` values and ``bid_points`` bids,
        evenly spaced, with the reserve added to both."""
        low, high = game.prior.low, game.prior.high
        values = np.linspace(low, high, value_points)
        if 0 < game.reserve < high:
            values = np.union1d(values, [game.reserve])
        edges = np.concatenate([[low], (values[1:] + values[:-1]) / 2, [high]])
        weights = np.diff(game.prior.cdf(edges))
        bids = np.linspace(0.0, high, bid_points)
        if 0 < game.reserve < high:
            bids = np.union1d(bids, [game.reserve])
        return cls(game, values, weights / weights.sum(), bids)

    def utilities(self, sigma: np.ndarray) -> np.ndarray:
        """``(n, K, M)`` interim utilities against the others' strategies ``sigma``."""
        bid_mass = np.einsum("k,ikm->im", self.weights, sigma)
        return discrete_utilities(self.game.auction, self.values, self.bids, bid_mass,
                                  self.game.reserve)

    def bid_functions(self, sigma: np.ndarray, how: str = "quantile") -> BidFunctions:
        """The pure strategies read off distributional ones, as piecewise linear functions.

        ``"mean"``: the mean bid at each value knot. ``"quantile"``: the monotone strategy
        that induces the learned bid distribution, β(v) = G⁻¹(F(v)), each grid bid's mass
        spread evenly over its cell (between midpoints to its neighbours) so that G is
        continuous; it removes the near-atoms that value knots mixing two bids leave in
        the mean, which a best response in the continuous game exploits.
        """
        if how == "mean":
            return BidFunctions(self.values, sigma @ self.bids)
        mass = np.einsum("k,ikm->im", self.weights, sigma)
        edges = np.concatenate([[self.bids[0]], (self.bids[1:] + self.bids[:-1]) / 2,
                                [self.bids[-1]]])
        if self.game.reserve in self.bids:  # the reserve's cell starts at the reserve
            edges[np.searchsorted(self.bids, self.game.reserve)] = self.game.reserve
        cum = np.concatenate([np.zeros((mass.shape[0], 1)), np.cumsum(mass, axis=1)], axis=1)
        cum /= cum[:, -1:]
        q = self.game.prior.cdf(self.values)
        return BidFunctions(self.values, np.stack([_quantile(c, edges, q) for c in cum]))

    def relative_loss(self, sigma: np.ndarray, util: np.ndarray) -> np.ndarray:
        """``(n,)`` relative utility loss in the discretized game."""
        best = self.weights @ util.max(axis=2).T
        own = np.einsum("k,ikm,ikm->i", self.weights, sigma, util)
        return np.where(best > 0, 1 - own / np.where(best > 0, best, 1.0), 0.0)


#: Floor of a value knot's best utility when it scales that knot's step.
TINY = 1e-9


@dataclass(frozen=True)
class SodaState:
    """After ``iteration`` steps: strategies ``sigma`` ``(n, K, M)`` and the discretized
    game's relative utility loss per bidder ``(n,)`` (of the strategies before the step)."""

    iteration: int
    sigma: np.ndarray
    relative_loss: np.ndarray


def soda(disc: Discretized, *, rng: np.random.Generator, eta: float = 50.0,
         beta: float = 0.05, iterations: int = 2000, tol: float = 1e-4) -> Iterator[SodaState]:
    """Run SODA; yields the state after every iteration, stops at ``tol`` or ``iterations``.

    Args:
        disc: the discretized game.
        rng: draws the random initial strategies (log-weights U[0, 1) per knot and bid).
        eta, beta: step size ``η_t = eta · t^(−beta)`` on utilities.
        iterations: the most iterations.
        tol: stop once every bidder's discretized relative utility loss is below it.
    """
    n, k, m = disc.game.n, disc.values.size, disc.bids.size
    dual = rng.uniform(0.0, 1.0, size=(n, k, m))
    for t in range(1, iterations + 1):
        sigma = _softmax(dual)
        util = disc.utilities(sigma)
        loss = disc.relative_loss(sigma, util)
        yield SodaState(t - 1, sigma, loss)
        if (loss < tol).all():
            return
        scale = np.maximum(util.max(axis=2, keepdims=True), TINY)
        dual = dual + eta * t ** (-beta) * util / scale
    yield SodaState(iterations, _softmax(dual), loss)


def _quantile(cum: np.ndarray, edges: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The smallest b with G(b) = q for the piecewise linear G through (edges, cum)."""
    i = np.clip(np.searchsorted(cum, q, side="left"), 1, cum.size - 1)
    width = cum[i] - cum[i - 1]
    frac = np.divide(q - cum[i - 1], width, out=np.zeros_like(q), where=width > 0)
    return edges[i - 1] + np.clip(frac, 0.0, 1.0) * (edges[i] - edges[i - 1])


def _softmax(dual: np.ndarray) -> np.ndarray:
    z = np.exp(dual - dual.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def last(states: Iterator[SodaState]) -> SodaState:
    """The final state of a run."""
    return deque(states, maxlen=1)[0]
