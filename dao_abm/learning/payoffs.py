"""Payoff tables: every member's utility for every candidate strategy, for learning rules.

A strategy is a bid (values fixed across rounds) or a shading factor alpha, bid = alpha·v
(values drawn afresh each round, utilities averaged over common sampled values). Either
way a ``Payoffs`` table lists, per member and item, K options and the utility of switching
that item's strategy to each option with everything else unchanged.

The candidate grid. ``grid=None`` means ``DEFAULT_GRID``, multiples 0, 0.05, ..., 2 of the
member's value (bids) or those shading factors. A 1-D grid is read the same way (multiples
of the value), and 0 and 1 are always added so truthful bidding and bidding nothing are
candidates. An absolute grid ``(n, K)`` / ``(n, m, K)`` of bids gets the columns 0 and the
value prepended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.learning.deviation import deviation_utilities
from dao_abm.learning.market import Market, with_items
from dao_abm.mechanisms import utilities

#: Default candidates: 0, 0.05, ..., 2 times the value (or these shading factors).
DEFAULT_GRID = np.arange(41) / 20


@dataclass(frozen=True, eq=False)
class Payoffs:
    """Utilities of single-item strategy changes on a candidate grid.

    Attributes:
        utilities: ``(n, m, K)`` member's (mean) utility when item l's strategy becomes
            option k and everything else stays.
        current: ``(n,)`` member's (mean) utility now.
        options: ``(n, m, K)`` the strategy each option stands for (bid or alpha).
        strategies: ``(n, m)`` current strategies; ``truthful``: ``(n, m)`` truthful ones.
        scale: ``(n,)`` each member's value scale (tolerances, logit temperature).
        separable: True when items can be revised all at once (``Market.separable``).
        prices: ``(n, m)`` (mean) price of the lot holding each item this round.
    """

    utilities: np.ndarray
    current: np.ndarray
    options: np.ndarray
    strategies: np.ndarray
    truthful: np.ndarray
    scale: np.ndarray
    separable: bool
    prices: np.ndarray

    @property
    def gain(self) -> np.ndarray:
        """``(n,)`` best achievable utility minus current (>= 0): each member's epsilon."""
        excess = np.maximum(self.utilities.max(axis=-1) - self.current[:, None], 0.0)
        return excess.sum(axis=1) if self.separable else excess.max(axis=1)


def is_shading(values_or_samples: np.ndarray, strategies: np.ndarray) -> bool:
    """True when values carry one more (leading, sample) axis than the strategies."""
    return np.ndim(values_or_samples) == np.ndim(strategies) + 1


def relative_grid(grid: np.ndarray | None) -> np.ndarray:
    """``(K,)`` sorted multiples of the value, always holding 0 and 1."""
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or not np.isfinite(grid).all() or (grid < 0).any():
        raise ValueError("a relative grid must be a 1-D array of finite numbers >= 0")
    return np.union1d(grid, [0.0, 1.0])


def payoffs(
    market: Market, values_or_samples: np.ndarray, strategies: np.ndarray, grid=None
) -> Payoffs:
    """Bid payoffs (fixed values) or shading payoffs (samples), told apart by shape."""
    if is_shading(values_or_samples, strategies):
        return shading_payoffs(market, values_or_samples, strategies, grid)
    return bid_payoffs(market, values_or_samples, strategies, grid)


def bid_payoffs(market: Market, values, bids, grid=None) -> Payoffs:
    """Payoffs of bids against fixed values ``(n,)`` / ``(n, m)`` (see module docstring)."""
    v, b = with_items(market, values, bids)
    if v.ndim != 2:
        raise ValueError(f"fixed values must be (n,) or (n, m), got {np.shape(values)}")
    if grid is None or np.ndim(grid) == 1:
        options = v[..., None] * relative_grid(grid)
    else:
        absolute = np.asarray(grid, dtype=np.float64)
        absolute = absolute[:, None] if market.valuation == "single" else absolute
        absolute = np.broadcast_to(absolute, (*v.shape, absolute.shape[-1]))
        options = np.concatenate([np.zeros((*v.shape, 1)), v[..., None], absolute], axis=-1)
    utils, current, price = _evaluate(market, v, b, options)
    return Payoffs(utils, current, options, b, v, v.max(axis=1), market.separable(v.shape[1]),
                   price)


def shading_payoffs(market: Market, samples, alphas, alpha_grid=None) -> Payoffs:
    """Payoffs of shading factors: ``samples`` ``(S, n[, m])`` values shared by all members
    (common random numbers), ``alphas`` ``(n[, m])``; ``alpha_grid`` ``(K,)`` must hold 1."""
    grid = DEFAULT_GRID if alpha_grid is None else np.asarray(alpha_grid, dtype=np.float64)
    if grid.ndim != 1 or not (grid == 1.0).any() or (grid < 0).any():
        raise ValueError("alpha_grid must be a 1-D array of factors >= 0 that contains 1.0")
    alphas = np.asarray(alphas, dtype=np.float64)
    v, b = with_items(market, samples, alphas * np.asarray(samples, dtype=np.float64))
    if v.ndim != 3 or alphas.shape != np.shape(samples)[1:]:
        raise ValueError(
            f"value samples must be (S, n[, m]) and alphas (n[, m]), got "
            f"{np.shape(samples)} and {alphas.shape}"
        )
    utils, current, price = _evaluate(market, v, b, v[..., None] * grid)
    a = alphas.reshape(v.shape[1:])
    options = np.broadcast_to(grid, (*a.shape, grid.size))
    return Payoffs(utils.mean(axis=0), current.mean(axis=0), options, a, np.ones_like(a),
                   v.max(axis=2).mean(axis=0), market.separable(v.shape[2]), price.mean(axis=0))


def _evaluate(
    market: Market, v: np.ndarray, b: np.ndarray, options: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deviation utilities ``(*S, n, m, K)``, current utilities ``(*S, n)`` and item prices
    ``(*S, n, m)`` for arrays carrying an item axis (``with_items``)."""
    if market.valuation == "single":
        utils = deviation_utilities(market, v[..., 0], b[..., 0], options[..., 0, :])
        utils, outcome = utils[..., None, :], market.run(b[..., 0])
        current = utilities(v[..., 0], outcome)
    else:
        utils = deviation_utilities(market, v, b, options)
        outcome = market.run(b)
        current = utilities(v, outcome)
    return utils, current, _item_prices(market, outcome.price, v.shape[-1])


def _item_prices(market: Market, price: np.ndarray, n_items: int) -> np.ndarray:
    """``(*S, n, m)`` price of the lot holding each item, seen by every member."""
    per_item = np.broadcast_to(price, (*price.shape[:-1], n_items)) if (
        market.upper.bundled) else price
    return np.broadcast_to(per_item[..., None, :], (*price.shape[:-1], market.n_members, n_items))
