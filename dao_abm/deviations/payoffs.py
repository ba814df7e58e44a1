"""Payoff tables: every member's utility for every candidate strategy, for learning rules.

A strategy is a bid (values fixed across rounds) or a shading factor alpha, bid = alpha·v
(values drawn afresh each round, utilities averaged over common sampled values). Either
way a ``Payoffs`` table lists, per member and item, K options and the utility of switching
that item's strategy to each option with everything else unchanged.

The candidate grid: a ``grids.Grid`` (what scenarios build), or an array. ``grid=None`` means
``DEFAULT_GRID``, multiples 0, 0.05, ..., 2 of the
member's value (bids) or those shading factors. A 1-D grid is read the same way (multiples
of the value), and 0 and 1 are always added so truthful bidding and bidding nothing are
candidates. An absolute grid ``(n, K)`` / ``(n, m, K)`` of bids gets the columns 0 and the
value prepended.

``members`` (the revising members, say) restricts a table to those members' rows: the
rows are the same numbers as the full table's, and everyone else's gain is unknown (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.deviation import deviation_utilities
from dao_abm.deviations.grids import Grid
from dao_abm.deviations.market import Market, member_rows, with_items
from dao_abm.mechanisms import utilities

#: Default candidates: 0, 0.05, ..., 2 times the value (or these shading factors).
DEFAULT_GRID = np.arange(41) / 20
#: Most (sample x row x item x factor) entries of one engine batch of ``shading_payoffs``.
SAMPLE_CHUNK = 4_000_000


@dataclass(frozen=True, eq=False)
class Payoffs:
    """Utilities of single-item strategy changes on a candidate grid.

    One row per member, or per member of ``members`` (r rows) when the table was asked for
    some members only.

    Attributes:
        utilities: ``(r, m, K)`` member's (mean) utility when item l's strategy becomes
            option k and everything else stays.
        current: ``(r,)`` member's (mean) utility now.
        options: ``(r, m, K)`` the strategy each option stands for (bid or alpha).
        strategies: ``(r, m)`` current strategies; ``truthful``: ``(r, m)`` truthful ones.
        scale: ``(r,)`` each member's value scale (tolerances, logit temperature).
        separable: True when items can be revised all at once (``Market.separable``).
        prices: ``(r, m)`` (mean) price of the lot holding each item this round.
        members: ``(r,)`` the member of each row, or None when row i is member i.
        n_members: n, the number of members in the market.
    """

    utilities: np.ndarray
    current: np.ndarray
    options: np.ndarray
    strategies: np.ndarray
    truthful: np.ndarray
    scale: np.ndarray
    separable: bool
    prices: np.ndarray
    members: np.ndarray | None
    n_members: int

    @property
    def row_gain(self) -> np.ndarray:
        """``(r,)`` best achievable utility minus current (>= 0) of each row's member."""
        excess = np.maximum(self.utilities.max(axis=-1) - self.current[:, None], 0.0)
        return excess.sum(axis=1) if self.separable else excess.max(axis=1)

    @property
    def gain(self) -> np.ndarray:
        """``(n,)`` each member's epsilon (``row_gain``); NaN for members without a row."""
        if self.members is None:
            return self.row_gain
        gain = np.full(self.n_members, np.nan)
        gain[self.members] = self.row_gain
        return gain


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
    market: Market, values_or_samples: np.ndarray, strategies: np.ndarray, grid=None,
    members: np.ndarray | None = None,
) -> Payoffs:
    """Bid payoffs (fixed values) or shading payoffs (samples), told apart by shape."""
    if is_shading(values_or_samples, strategies):
        return shading_payoffs(market, values_or_samples, strategies, grid, members)
    return bid_payoffs(market, values_or_samples, strategies, grid, members)


def bid_payoffs(market: Market, values, bids, grid=None,
                members: np.ndarray | None = None) -> Payoffs:
    """Payoffs of bids against fixed values ``(n,)`` / ``(n, m)`` (see module docstring);
    ``members`` ``(r,)``: rows for these members only (an absolute grid still has n rows)."""
    v, b = with_items(market, values, bids)
    if v.ndim != 2:
        raise ValueError(f"fixed values must be (n,) or (n, m), got {np.shape(values)}")
    rows = member_rows(market, members)
    mine = slice(None) if rows is None else rows
    v_r, b_r = v[mine], b[mine]
    options = bid_options(market, v, grid, rows)
    utils, current, price = _evaluate(market, v, b, options, rows)
    return Payoffs(utils, current, options, b_r, v_r, v_r.max(axis=1),
                   market.separable(v.shape[1]), price, rows, market.n_members)


def bid_options(market: Market, v: np.ndarray, grid, rows: np.ndarray | None) -> np.ndarray:
    """``(r, m, K)`` candidate bids of the members in ``rows`` (all when None), ``v`` being
    every member's values ``(n, m)`` (see the module docstring for ``grid``)."""
    v_r = v if rows is None else v[rows]
    if isinstance(grid, Grid):
        return grid.bids(v_r)
    if grid is None or np.ndim(grid) == 1:
        return v_r[..., None] * relative_grid(grid)
    absolute = np.asarray(grid, dtype=np.float64)
    absolute = absolute[:, None] if market.valuation == "single" else absolute
    absolute = np.broadcast_to(absolute, (*v.shape, absolute.shape[-1]))
    absolute = absolute if rows is None else absolute[rows]
    return np.concatenate([np.zeros((*v_r.shape, 1)), v_r[..., None], absolute], axis=-1)


def shading_grid(alpha_grid) -> np.ndarray:
    """``(K,)`` candidate shading factors of a ``Grid`` or an array (which must hold 1)."""
    if isinstance(alpha_grid, Grid):
        return alpha_grid.factors()
    grid = DEFAULT_GRID if alpha_grid is None else np.asarray(alpha_grid, dtype=np.float64)
    if grid.ndim != 1 or not (grid == 1.0).any() or (grid < 0).any():
        raise ValueError("alpha_grid must be a 1-D array of factors >= 0 that contains 1.0")
    return grid


def shading_payoffs(market: Market, samples, alphas, alpha_grid=None,
                    members: np.ndarray | None = None) -> Payoffs:
    """Payoffs of shading factors: ``samples`` ``(S, n[, m])`` values shared by all members
    (common random numbers), ``alphas`` ``(n[, m])``; ``alpha_grid``: a relative ``Grid``,
    or ``(K,)`` factors holding 1;
    ``members`` ``(r,)``: rows for these members only."""
    grid = shading_grid(alpha_grid)
    alphas = np.asarray(alphas, dtype=np.float64)
    v, b = with_items(market, samples, alphas * np.asarray(samples, dtype=np.float64))
    if v.ndim != 3 or alphas.shape != np.shape(samples)[1:]:
        raise ValueError(
            f"value samples must be (S, n[, m]) and alphas (n[, m]), got "
            f"{np.shape(samples)} and {alphas.shape}"
        )
    rows = member_rows(market, members)
    v_r = v if rows is None else v[:, rows]
    # The samples go through the engine in chunks of at most SAMPLE_CHUNK table entries
    # (samples x rows x items x factors), so memory stays bounded at any population size
    # (17,437 members x 256 samples x 42 factors would be 1.5 GB per array otherwise); the
    # sums add the samples in order either way, so the table does not depend on the chunk.
    n_samples = v.shape[0]
    step = max(1, SAMPLE_CHUNK // max(1, v_r[0].size * grid.size))
    totals: list[np.ndarray] | None = None
    for start in range(0, n_samples, step):
        part = slice(start, start + step)
        utils, current, price = _evaluate(market, v[part], b[part],
                                          v_r[part, ..., None] * grid, rows)
        totals = _add_samples(totals, (utils, current, v_r[part].max(axis=2), price))
    utils, current, scale, price = (total / n_samples for total in totals)
    a = alphas.reshape(v.shape[1:])
    a = a if rows is None else a[rows]
    options = np.broadcast_to(grid, (*a.shape, grid.size))
    return Payoffs(utils, current, options, a, np.ones_like(a), scale,
                   market.separable(v.shape[2]), price, rows, market.n_members)


def _add_samples(totals: list[np.ndarray] | None, arrays: tuple[np.ndarray, ...]
                 ) -> list[np.ndarray]:
    """Running sums over the leading sample axis, adding the samples one by one in order
    (numpy sums a lone column pairwise, so a member's mean would otherwise depend on how
    many other rows the table holds, and on the chunking)."""
    out = [a[0].copy() for a in arrays] if totals is None else totals
    for total, a in zip(out, arrays, strict=True):
        for sample in (a[1:] if totals is None else a):
            total += sample
    return out


def _evaluate(
    market: Market, v: np.ndarray, b: np.ndarray, options: np.ndarray, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deviation utilities ``(*S, r, m, K)``, current utilities ``(*S, r)`` and item prices
    ``(*S, r, m)`` of the members in ``rows`` (all n when None) for arrays carrying an item
    axis (``with_items``)."""
    if market.valuation == "single":
        utils = deviation_utilities(market, v[..., 0], b[..., 0], options[..., 0, :], rows)
        utils, outcome = utils[..., None, :], market.run(b[..., 0])
        current = utilities(v[..., 0], outcome)
    else:
        utils = deviation_utilities(market, v, b, options, rows)
        outcome = market.run(b)
        current = utilities(v, outcome)
    if rows is not None:
        current = current[..., rows]
    return utils, current, _item_prices(market, outcome.price, v.shape[-1], options.shape[-3])


def _item_prices(market: Market, price: np.ndarray, n_items: int, n_rows: int) -> np.ndarray:
    """``(*S, r, m)`` price of the lot holding each item, seen by every member (row)."""
    per_item = np.broadcast_to(price, (*price.shape[:-1], n_items)) if (
        market.upper.bundled) else price
    return np.broadcast_to(per_item[..., None, :], (*price.shape[:-1], n_rows, n_items))
