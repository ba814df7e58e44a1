"""What a member observes after a round: the three feedback modes (``FEEDBACK``).

- ``bandit``: only its own realized payoff this round (and the prices announced). The
  payoffs of options it did not play are never computed for it (``Feedback.utilities`` is
  None). Q-learning and EXP3 learn from this.
- ``full``: also what every option would have paid against the others' actual bids this
  round (Hedge's full information; Freund & Schapire 1997).
- ``expected``: what every option pays in expectation over value draws: against the
  fixed values, or, when values are redrawn, the mean over ``learning.samples`` value
  profiles shared by all members (common random numbers), as the best response does.

With fixed values ``full`` and ``expected`` coincide. The caller decides what
``values_or_samples`` is: this round's values (bandit, full; as one sample ``(1, n[, m])``
when strategies are shading factors) or value samples (expected).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.market import Market, member_rows, with_items
from dao_abm.deviations.payoffs import (
    Payoffs,
    _item_prices,
    bid_options,
    is_shading,
    payoffs,
    shading_grid,
)
from dao_abm.mechanisms import utilities

FEEDBACK = ("bandit", "full", "expected")


@dataclass(frozen=True, eq=False)
class Feedback:
    """One round as the members of ``members`` saw it (r rows; all n when None).

    Attributes:
        kind: one of ``FEEDBACK``.
        options: ``(r, m, K)`` the candidate strategies (bids or shading factors).
        played: ``(r, m)`` index of the option nearest to the strategy played this round.
        reward: ``(r,)`` the member's realized utility this round (bandit), or its utility
            at the current profile (full: this round; expected: mean over samples).
        utilities: ``(r, m, K)`` what each option would have paid (full, expected); None
            under bandit feedback.
        scale: ``(r,)`` each member's value scale (for unit-free learning rates).
        headroom: ``(r, m)`` the largest utility any option could earn, max_k (v - b_k)+,
            in currency (optimistic initial values).
        prices: ``(r, m)`` the price of the lot holding each item this round.
        strategies: ``(r, m)`` the strategies played; ``truthful``: ``(r, m)`` truthful ones.
        shading: True when strategies are shading factors (bid = alpha · value).
        separable: True when items can be revised all at once (``Market.separable``).
        members: ``(r,)`` the member of each row, or None.
    """

    kind: str
    options: np.ndarray
    played: np.ndarray
    reward: np.ndarray
    utilities: np.ndarray | None
    scale: np.ndarray
    headroom: np.ndarray
    prices: np.ndarray
    strategies: np.ndarray
    truthful: np.ndarray
    shading: bool
    separable: bool
    members: np.ndarray | None

    def rows(self, table: np.ndarray) -> np.ndarray:
        """``table`` ``(r, m, K)`` as rows of options: ``(r·m, K)`` when items separate
        (each item revised on its own), else ``(r, m·K)`` ("set item l to option k")."""
        r, m, k = self.options.shape
        return table.reshape(r * m, k) if self.separable else table.reshape(r, m * k)

    def per_item(self, choice: np.ndarray) -> np.ndarray:
        """Row choices (``rows`` layout; -1 keeps) as ``(r, m)`` option indices, -1 where an
        item keeps its strategy."""
        r, m, k = self.options.shape
        if self.separable:
            return choice.reshape(r, m)
        out = np.full((r, m), -1, dtype=np.int64)
        take = np.flatnonzero(choice >= 0)
        item, option = np.divmod(choice[take], k)
        out[take, item] = option
        return out


def observe(kind: str, market: Market, values_or_samples, strategies, grid,
            members: np.ndarray | None = None) -> tuple[Feedback, Payoffs | None]:
    """The feedback of mode ``kind``, and the payoff table it came from (None: bandit)."""
    if kind == "bandit":
        return _bandit(market, values_or_samples, strategies, grid, members), None
    if kind not in FEEDBACK:
        raise ValueError(f"unknown feedback {kind!r}; choose one of: {', '.join(FEEDBACK)}")
    table = payoffs(market, values_or_samples, strategies, grid, members)
    played = nearest(table.options, table.strategies)
    shading = is_shading(values_or_samples, strategies)
    unit = table.scale[:, None] if shading else 1.0
    fb = Feedback(kind, table.options, played, table.current, table.utilities, table.scale,
                  _headroom(table.truthful, table.options, unit), table.prices,
                  table.strategies, table.truthful, shading, table.separable, table.members)
    return fb, table


def nearest(options: np.ndarray, strategies: np.ndarray) -> np.ndarray:
    """``(r, m)`` index of the option nearest to each strategy (lowest on ties)."""
    return np.abs(options - strategies[..., None]).argmin(axis=-1)


def _headroom(truthful: np.ndarray, options: np.ndarray, unit) -> np.ndarray:
    return np.maximum(truthful[..., None] - options, 0.0).max(axis=-1) * unit


def _bandit(market: Market, values_or_samples, strategies, grid,
            members: np.ndarray | None) -> Feedback:
    """Realized payoffs only: one engine run of the profile actually played."""
    rows = member_rows(market, members)
    mine = slice(None) if rows is None else rows
    strategies = np.asarray(strategies, dtype=np.float64)
    shading = is_shading(values_or_samples, strategies)
    if shading:
        if np.shape(values_or_samples)[0] != 1:
            raise ValueError("bandit feedback is this round's payoff: pass one value profile "
                             "(1, n[, m]) with shading factors")
        values = np.asarray(values_or_samples, dtype=np.float64)[0]
        v, s = with_items(market, values, strategies)
        factors = shading_grid(grid)
        options = np.broadcast_to(factors, (*s[mine].shape, factors.size))
        scale = v[mine].max(axis=1)
        truthful = np.ones(s[mine].shape)
        headroom = _headroom(truthful, options, scale[:, None])
        bids = strategies * values
    else:
        values = np.asarray(values_or_samples, dtype=np.float64)
        v, s = with_items(market, values, strategies)
        options = bid_options(market, v, grid, rows)
        scale = v[mine].max(axis=1)
        truthful = v[mine]
        headroom = _headroom(truthful, options, 1.0)
        bids = strategies
    outcome = market.run(bids)
    reward = utilities(values, outcome)[mine]
    prices = _item_prices(market, outcome.price, v.shape[-1], market.n_members)[mine]
    return Feedback("bandit", options, nearest(options, s[mine]), reward, None, scale,
                    headroom, prices, s[mine], truthful, shading,
                    market.separable(v.shape[-1]), rows)
