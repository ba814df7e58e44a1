"""Pointwise best responses to a profile of bid functions in the continuous game.

``Game`` fixes the auction, the number of bidders, the prior, the reserve and the estimator
(the fixed sample of values and the bid search). A bidder's best bid at value v maximises
its interim utility (``auctions.interim_utility``) against the others' bid functions: the
win probability is exact for monotone bid functions (``BidFunctions.bid_cdf``), else read
off common random samples. The search is a grid over [0, highest bid anyone makes] (plus
the reserve), refined around its argmax by a second, finer grid: a bid search rather than
a derivative, since the objective has kinks (reserve, flat pieces) where a FOC fails.

The best response serves the metrics. Damped pointwise best-response dynamics on the knots
were tried as a learner and removed: from β = v/2 in first price with n = 3 they stall at
L2 ≈ 0.056 and relative utility loss ≈ 0.27 whatever the damping (1/t, t^(−1/2)/2), and in
all-pay they oscillate; ``soda`` is the learner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dao_abm.equilibrium.auctions import check_auction, interim_utility, leave_one_out_product
from dao_abm.equilibrium.bid_functions import BidFunctions, Prior
from dao_abm.equilibrium.closed_forms import ClosedForm, closed_form
from dao_abm.errors import DaoAbmError


@dataclass(frozen=True)
class Game:
    """A symmetric single-item auction with i.i.d. private values, and its estimator.

    Attributes:
        auction: "first-price", "second-price" or "all-pay".
        n: number of bidders (>= 2).
        prior: the value distribution.
        reserve: the reserve price (bids below it take no part).
        sample_size: size of the fixed sample of values (prior quantiles) on which ex-ante
            quantities are estimated.
        coarse, fine: points of the best-response bid search and of its refinement.
    """

    auction: str
    n: int
    prior: Prior = field(default_factory=Prior.uniform)
    reserve: float = 0.0
    sample_size: int = 8192
    coarse: int = 513
    fine: int = 65

    def __post_init__(self) -> None:
        check_auction(self.auction)
        if self.n < 2:
            raise DaoAbmError(f"an auction needs n >= 2 bidders (got {self.n})")
        if not (np.isfinite(self.reserve) and 0.0 <= self.reserve < self.prior.high):
            raise DaoAbmError(f"reserve must be in [0, {self.prior.high:g}), below the highest "
                              f"value (got {self.reserve!r})")

    @cached_property
    def sample(self) -> np.ndarray:
        """``(sample_size,)`` the fixed value sample (midpoint quantiles of the prior)."""
        return self.prior.quantiles(self.sample_size)

    @property
    def equilibrium(self) -> ClosedForm | None:
        return closed_form(self.auction, self.prior.standard, self.reserve)

    def describe(self) -> dict:
        """The estimator, for run.json and CSV metadata."""
        return {"estimator": "prior quantiles at (k+1/2)/N; best response by a bid grid "
                             "refined once", "sample_size": self.sample_size,
                "bid_grid": self.coarse, "bid_refine": self.fine}


def faced_cdf(profile: BidFunctions, game: Game, i: int, b: np.ndarray) -> np.ndarray:
    """``H_i(b)``: bidder i's probability of winning with bid ``b`` (shaped like ``b``),
    ties split evenly: ``∫_0^1 Π_{j≠i} (L_j + t·e_j) dt`` with ``L_j = P(b_j < b)`` and
    ``e_j = P(b_j = b)`` (non-zero only at a flat piece of β_j). Symmetric profiles use
    ``∫_0^1 (L + t·e)^m dt = ((L + e)^{m+1} − L^{m+1}) / ((m + 1)·e)``."""
    symmetric = bool((profile.bids == profile.bids[:1]).all())
    rows = BidFunctions(profile.knots, profile.bids[:1]) if symmetric else profile
    low = rows.bid_cdf(b, game.prior, game.sample, strict=True)
    atom = rows.bid_cdf(b, game.prior, game.sample) - low
    if symmetric:
        m, low, atom = game.n - 1, low[0], atom[0]
        split = ((low + atom) ** (m + 1) - low ** (m + 1)) / ((m + 1) * np.where(atom > 0, atom, 1))
        return np.where(atom > 0, split, low**m)
    nodes, weights = np.polynomial.legendre.leggauss(game.n)
    t = (nodes + 1) / 2
    factors = low[:, None] + t.reshape(1, -1, *[1] * b.ndim) * atom[:, None]
    return np.tensordot(weights / 2, leave_one_out_product(factors)[i], axes=(0, 0))


def payoff(profile: BidFunctions, game: Game, i: int, v: np.ndarray, b: np.ndarray
           ) -> np.ndarray:
    """Bidder i's interim utility of bidding ``b`` with value ``v`` (broadcast shapes)."""
    b = np.asarray(b, dtype=np.float64)  # H is evaluated on b's own shape, then broadcast
    h = faced_cdf(profile, game, i, b)
    ih = _integrated_cdf(profile, game, i, b) if game.auction == "second-price" else None
    return interim_utility(game.auction, np.asarray(v, dtype=np.float64), b, h, ih,
                           game.reserve)


def _integrated_cdf(profile: BidFunctions, game: Game, i: int, b: np.ndarray) -> np.ndarray:
    """∫_r^b H_i(x) dx by the trapezoid rule on 4,097 points (second price only)."""
    top = max(float(b.max(initial=0.0)), game.reserve)
    x = np.linspace(game.reserve, top, 4097)
    h = faced_cdf(profile, game, i, x)
    cum = np.concatenate([[0.0], np.cumsum((h[1:] + h[:-1]) / 2 * np.diff(x))])
    return np.interp(b, x, cum)


#: Values per block of the bid search (bounds memory at ~CHUNK x coarse x n floats).
CHUNK = 1024


def best_response(profile: BidFunctions, game: Game, values: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each bidder's best bid and its utility at each value.

    Args:
        profile: the current bid functions ``(n, K)``.
        game: the auction and the bid search.
        values: ``(V,)`` values.

    Returns:
        ``bids`` and ``utilities``, both ``(n, V)``.
    """
    values = np.asarray(values, dtype=np.float64)
    symmetric = bool((profile.bids == profile.bids[:1]).all())
    chunks = np.array_split(values, max(1, values.size // CHUNK))
    rows = [[np.concatenate(part) for part in zip(
        *(_best_one(profile, game, 0 if symmetric else i, chunk) for chunk in chunks),
        strict=True)] for i in range(1 if symmetric else game.n)]
    bids, utils = (np.stack(part) for part in zip(*rows, strict=True))
    if symmetric:
        bids, utils = np.repeat(bids, game.n, axis=0), np.repeat(utils, game.n, axis=0)
    return bids, utils


def _best_one(profile: BidFunctions, game: Game, i: int, values: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    top = max(float(profile.bids.max()), game.prior.high, game.reserve)
    grid = np.union1d(np.linspace(0.0, top, game.coarse), [game.reserve])
    coarse = payoff(profile, game, i, values[:, None], grid[None, :])
    start = grid[coarse.argmax(axis=1)]
    step = top / (game.coarse - 1)
    near = np.clip(start[:, None] + step * np.linspace(-1, 1, game.fine), 0.0, top)
    candidates = np.concatenate([start[:, None], near], axis=1)
    utils = payoff(profile, game, i, values[:, None], candidates)
    best = utils.argmax(axis=1)
    rows = np.arange(values.size)
    return candidates[rows, best], utils[rows, best]


def own_utilities(profile: BidFunctions, game: Game, values: np.ndarray) -> np.ndarray:
    """``(n, V)`` each bidder's interim utility of its own bid function at each value."""
    own = profile(values)
    return np.stack([payoff(profile, game, i, values, own[i]) for i in range(game.n)])
