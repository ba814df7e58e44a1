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

What makes it converge, as in SODA's configurations (``configs/game/single_item/fpsb.yaml``,
``configs/learner/soda_entr.yaml``): ties lose in the discretized game
(``auctions.discrete_utilities``); symmetric games learn one strategy for all bidders; the
step is either scaled per value knot by its best utility (first price: n = 10 reaches
1e-5 in under 100 steps at 128 x 128 points) or raw (all-pay, whose best utility is 0 at
low values, so scaling blows up).

The learned pure strategy is read off the distributional one as the monotone function that
induces the same bid distribution, β = G⁻¹∘F, on 1,025 knots (``bid_functions``); the
continuous-game metrics evaluate that.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dao_abm.equilibrium.auctions import check_ties, discrete_utilities
from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.bid_functions import BidFunctions, check_grid
from dao_abm.errors import DaoAbmError


@dataclass(frozen=True)
class Discretized:
    """The discretized game: value knots with their prior mass, and the bid grid.

    Attributes:
        game: the continuous game it approximates.
        values: ``(K,)`` value knots from the prior's low to high end.
        weights: ``(K,)`` prior mass of each knot's cell (cells split at midpoints).
        bids: ``(M,)`` bid grid from 0 to the prior's high end (plus the reserve).
        ties: how the discretized game treats a tie (``auctions.TIES``); "lose" as SODA.
    """

    game: Game
    values: np.ndarray
    weights: np.ndarray
    bids: np.ndarray
    ties: str = "lose"

    @classmethod
    def of(cls, game: Game, value_points: int = 64, bid_points: int = 64, *,
           bid_power: float = 1.0, ties: str = "lose") -> Discretized:
        """SODA's grids: ``value_points`` evenly spaced values and ``bid_points`` bids from
        0 to the prior's high end. ``bid_power`` > 1 crowds the bids towards 0 (bid m at
        high·(m/(M−1))^power): all-pay bids (n − 1)/n·vⁿ sit near 0 for most values."""
        low, high = game.prior.low, game.prior.high
        return cls.on(game, np.linspace(low, high, value_points),
                      high * np.linspace(0.0, 1.0, bid_points) ** bid_power, ties=ties)

    @classmethod
    def on(cls, game: Game, values: object, bids: object, *, ties: str = "lose"
           ) -> Discretized:
        """Given grids (checked: at least 2 finite, non-negative, strictly increasing
        numbers), the reserve added to both; each value knot carries the prior mass of its
        cell (cells split at midpoints)."""
        values, bids = check_grid(values, "values"), check_grid(bids, "bids")
        low, high = game.prior.low, game.prior.high
        if 0 < game.reserve < high:
            values = np.union1d(values, [game.reserve])
            bids = np.union1d(bids, [game.reserve])
        edges = np.concatenate([[low], (values[1:] + values[:-1]) / 2, [high]])
        weights = np.diff(game.prior.cdf(edges))
        return cls(game, values, weights / weights.sum(), bids, check_ties(ties))

    def utilities(self, sigma: np.ndarray) -> np.ndarray:
        """``(n, K, M)`` interim utilities against the others' strategies ``sigma``."""
        bid_mass = np.einsum("k,ikm->im", self.weights, sigma)
        return discrete_utilities(self.game.auction, self.values, self.bids, bid_mass,
                                  self.game.reserve, self.game.n, self.ties)

    def bid_functions(self, sigma: np.ndarray, how: str = "quantile",
                      knots: np.ndarray | None = None) -> BidFunctions:
        """The pure strategies read off distributional ones, as piecewise linear functions.

        ``"mean"``: the mean bid at each value knot. ``"quantile"``: the monotone strategy
        that induces the learned bid distribution, β(v) = G⁻¹(F(v)), each grid bid's mass
        spread evenly over its cell (between midpoints to its neighbours) so that G is
        continuous; it removes the near-atoms that value knots mixing two bids leave in
        the mean, which a best response in the continuous game exploits.
        """
        if sigma.shape[0] == 1:  # symmetric play: the one row is every bidder's
            sigma = np.repeat(sigma, self.game.n, axis=0)
        if how == "mean":
            return BidFunctions(self.values, sigma @ self.bids)
        if knots is None:
            low, high = self.game.prior.low, self.game.prior.high
            knots = np.union1d(self.values, np.linspace(low, high, FINE_KNOTS))
        mass = np.einsum("k,ikm->im", self.weights, sigma)
        return BidFunctions(knots, read_off(mass, self.bids, self.game.prior.cdf(knots),
                                            self.game.reserve))

    def relative_loss(self, sigma: np.ndarray, util: np.ndarray) -> np.ndarray:
        """``(n,)`` relative utility loss in the discretized game."""
        best = self.weights @ util.max(axis=2).T
        own = np.einsum("k,ikm,ikm->i", self.weights, sigma, util)
        return (best - own) / np.maximum(best, TINY)


#: Floor of a value knot's best utility when it scales that knot's step.
TINY = 1e-9
#: Points of the bid functions read off the learned strategies (``bid_functions``).
FINE_KNOTS = 1025
#: Step rules: "scaled" divides each value knot's utilities by its best one (SODA's
#: heuristic step, so knots with tiny stakes learn as fast as the rest); "decreasing"
#: uses the raw utilities (SODA's default, after Mertikopoulos & Zhou).
STEP_RULES = ("scaled", "decreasing")


def check_step_rule(step_rule: str) -> str:
    """``step_rule`` itself, or DaoAbmError naming the rules."""
    if step_rule not in STEP_RULES:
        raise DaoAbmError(f"unknown step_rule {step_rule!r}; choose one of: "
                          f"{', '.join(STEP_RULES)}")
    return step_rule


@dataclass(frozen=True)
class SodaState:
    """After ``iteration`` steps: strategies ``sigma`` ``(n, K, M)`` (``(1, K, M)`` under
    symmetric play) and the discretized game's relative utility loss per row (of the
    strategies before the step)."""

    iteration: int
    sigma: np.ndarray
    relative_loss: np.ndarray


def soda(disc: Discretized, *, rng: np.random.Generator, eta: float = 50.0,
         beta: float = 0.05, iterations: int = 2000, tol: float = 1e-4,
         step_rule: str = "scaled", symmetric: bool = True) -> Iterator[SodaState]:
    """Run SODA; yields the state after every iteration, stops at ``tol`` or ``iterations``.

    Args:
        disc: the discretized game.
        rng: draws the random initial strategies (log-weights U[0, 1) per knot and bid).
        eta, beta: step size ``η_t = eta · t^(−beta)`` on utilities.
        iterations: the most iterations.
        tol: stop once every bidder's discretized relative utility loss is below it.
        step_rule: a name in ``STEP_RULES``.
        symmetric: learn one strategy that every bidder plays (``sigma`` has one row; the
            game is symmetric, and SODA's symmetric experiments do the same); else one per
            bidder.
    """
    check_step_rule(step_rule)
    n, k, m = 1 if symmetric else disc.game.n, disc.values.size, disc.bids.size
    dual = rng.uniform(0.0, 1.0, size=(n, k, m))
    for t in range(1, iterations + 1):
        sigma = softmax(dual)
        util = disc.utilities(sigma)
        loss = disc.relative_loss(sigma, util)
        yield SodaState(t - 1, sigma, loss)
        if (loss < tol).all():
            return
        scale = (np.maximum(util.max(axis=2, keepdims=True), TINY)
                 if step_rule == "scaled" else 1.0)
        dual = dual + eta * t ** (-beta) * util / scale
    yield SodaState(iterations, softmax(dual), loss)


def read_off(mass: np.ndarray, bids: np.ndarray, q: np.ndarray, reserve: float = 0.0
             ) -> np.ndarray:
    """``(J, Q)`` the monotone pure strategies β = G⁻¹(q) with the bid distributions
    ``mass`` ``(J, M)`` on the grid ``bids``, at prior quantiles ``q`` = F(v). Each grid
    bid's mass is spread evenly over its cell (between midpoints to its neighbours; the
    reserve's cell starts at the reserve) so that G is continuous."""
    edges = np.concatenate([[bids[0]], (bids[1:] + bids[:-1]) / 2, [bids[-1]]])
    if reserve in bids:
        edges[np.searchsorted(bids, reserve)] = reserve
    cum = np.concatenate([np.zeros((mass.shape[0], 1)), np.cumsum(mass, axis=1)], axis=1)
    cum /= cum[:, -1:]
    return np.stack([inverse_cdf(c, edges, q) for c in cum])


def inverse_cdf(cum: np.ndarray, edges: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The smallest b with G(b) = q for the piecewise linear G through (edges, cum)."""
    i = np.clip(np.searchsorted(cum, q, side="left"), 1, cum.size - 1)
    width = cum[i] - cum[i - 1]
    frac = np.divide(q - cum[i - 1], width, out=np.zeros_like(q), where=width > 0)
    return edges[i - 1] + np.clip(frac, 0.0, 1.0) * (edges[i] - edges[i - 1])


def softmax(dual: np.ndarray) -> np.ndarray:
    """Row-wise softmax over the last axis (the entropic mirror map of dual averaging)."""
    z = np.exp(dual - dual.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def last(states: Iterator[SodaState]) -> SodaState:
    """The final state of a run."""
    return deque(states, maxlen=1)[0]


@dataclass(frozen=True)
class Settings:
    """SODA's knobs for one run.

    Attributes:
        value_points, bid_points: grid sizes (``Discretized.of``).
        bid_power: crowding of the bid grid towards 0 (1: evenly spaced).
        step_rule: a name in ``STEP_RULES``.
        iterations, tol, eta, beta: as in ``soda``.
    """

    value_points: int = 128
    bid_points: int = 128
    bid_power: float = 1.0
    step_rule: str = "scaled"
    iterations: int = 3000
    tol: float = 1e-5
    eta: float = 50.0
    beta: float = 0.05

    def __post_init__(self) -> None:
        check_step_rule(self.step_rule)
        for key in ("value_points", "bid_points", "iterations"):
            if int(getattr(self, key)) != getattr(self, key) or getattr(self, key) < 2:
                raise DaoAbmError(f"{key} must be an integer >= 2 (got {getattr(self, key)!r})")
        for key in ("bid_power", "tol", "eta"):
            if not getattr(self, key) > 0:
                raise DaoAbmError(f"{key} must be > 0 (got {getattr(self, key)!r})")

    @classmethod
    def for_auction(cls, auction: str) -> Settings:
        """The settings the reproductions use (README table): 128 x 128 points and scaled
        steps; all-pay on 256 bids crowded towards 0 with raw steps, for 8,000 steps."""
        if auction == "all-pay":
            return cls(bid_points=256, bid_power=2.0, step_rule="decreasing", iterations=8000)
        return cls()


def learn(game: Game, settings: Settings, *, rng: np.random.Generator
          ) -> tuple[BidFunctions, SodaState, Discretized]:
    """Discretize ``game``, run symmetric SODA, read off the bid functions.

    Returns:
        the learned bid functions (one row per bidder), the last state and the grids.
    """
    disc = Discretized.of(game, settings.value_points, settings.bid_points,
                          bid_power=settings.bid_power)
    state = last(soda(disc, rng=rng, eta=settings.eta, beta=settings.beta,
                      iterations=settings.iterations, tol=settings.tol,
                      step_rule=settings.step_rule))
    return disc.bid_functions(state.sigma), state, disc
