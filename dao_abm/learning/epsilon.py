"""Epsilon: the largest gain a member gets by deviating alone, and which kind of number it is.

A profile is an epsilon-Nash equilibrium when no member can gain more than epsilon by
changing its own bids. ``fixed_value_epsilon`` reports every member's gain, with its kind:

- **exact** where the best deviation is known in closed form: WTP aggregation with
  max-equal-split under Vickrey pricing (Mechanism 1 / 2, ``deviations/critical.py``: access iff the
  bid reaches the critical bid theta, at a price that does not depend on the bid) and the
  ``sum`` aggregation with equal-split-all or proportional shares (``closed_forms.py``: the
  DAO wins iff the bid reaches the smallest winning share, and the payment does not fall as
  the bid rises). Then a lot's whole outcome range is reached by the candidates
  {0, the threshold, the float below it}, which ``breakpoints.member_candidates`` holds.
  Ties between group bids are resolved as the kernels resolve them (``closed_forms.py``).
- **a lower bound** elsewhere: the best of ``breakpoints.member_candidates`` (the relative
  grid, an absolute range, the current bid and the breakpoints), each evaluated exactly.

Several items. Additive values with item-by-item lots separate, so the best joint
deviation is the sum of the best per-item ones. A bundled upper mechanism (grand bundle)
sees only the member's bundle bid, which any level X reaches (X on one item, 0 on the
others, or X on every item under unit-demand): the joint search is over X. Unit-demand
values with item-by-item lots couple the items through the valuation only: with the
cheapest payment for winning and for not winning each item over its candidates, the best
of the 2^m access sets is the best deviation over the whole product grid of candidates,
searched while ``n · 2^m · m <= JOINT_LIMIT`` and m <= ``JOINT_MAX_ITEMS``. VCG with
unit-demand values (one group's bid moves every item's price) is searched one item at a
time, by full engine runs.

Values redrawn every round are measured on the shading grid of the learning rule, as the
mean utility over the learning rule's sampled value profiles (``payoffs.shading_payoffs``);
``epsilon_kind`` says so, with the sample size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.breakpoints import (
    ABSOLUTE_POINTS,
    bundle_bids,
    lot_breakpoints,
    member_candidates,
    n_breakpoints,
)
from dao_abm.deviations.deviation import deviation_utilities, lot_outcome
from dao_abm.deviations.market import Market, with_items
from dao_abm.deviations.payoffs import relative_grid
from dao_abm.learning.exact import exact_best_response

#: Most items whose access sets are searched jointly (2^m sets per member).
JOINT_MAX_ITEMS = 8
#: Most (member, access set, item) entries of one joint search.
JOINT_LIMIT = 50_000_000


@dataclass(frozen=True, eq=False)
class Epsilon:
    """Every member's gain from its best deviation found.

    Attributes:
        gain: ``(n,)`` best utility found minus current utility (>= 0).
        kind: ``epsilon_kind`` of the measurement.
    """

    gain: np.ndarray
    kind: str

    @property
    def max(self) -> float:
        return float(self.gain.max())


def search(market: Market, n_items: int) -> str:
    """How several items are searched: "joint" or "one item at a time" (module docstring)."""
    if n_items == 1 or market.separable(n_items) or market.upper.bundled:
        return "joint"
    if market.full_market(n_items):
        return "one item at a time"
    cost = market.n_members * 2**n_items * n_items
    return "joint" if n_items <= JOINT_MAX_ITEMS and cost <= JOINT_LIMIT else (
        "one item at a time")


def is_exact(market: Market, n_items: int) -> bool:
    """True when ``fixed_value_epsilon`` is exact (module docstring)."""
    return market.kernel in ("critical", "sum") and search(market, n_items) == "joint"


def n_candidates(market: Market, grid) -> int:
    """K, the candidates per member and item of ``breakpoints.member_candidates``."""
    return relative_grid(grid).size + ABSOLUTE_POINTS + 1 + n_breakpoints(market)


def epsilon_kind(market: Market, n_items: int, *, grid=None, samples: int | None = None,
                 shading_grid: int | None = None) -> str:
    """What kind of epsilon a run reports: "exact", or "lower-bound: ..." saying how.

    Args:
        n_items: m.
        grid: the relative grid of fixed-value candidates (None: ``DEFAULT_GRID``).
        samples: S, when values are redrawn each round (then ``shading_grid``, the number
            of shading factors, is required too).
    """
    how = search(market, n_items)
    items = "" if n_items == 1 else (
        f", joint over {n_items} items" if how == "joint" else ", one item at a time")
    if samples is not None:
        return (f"lower-bound: grid of {shading_grid} shading factors{items}, mean utility "
                f"over {samples} sampled value profiles")
    if is_exact(market, n_items):
        return "exact"
    return f"lower-bound: grid of {n_candidates(market, grid)} candidates per item{items}"


def fixed_value_epsilon(market: Market, values, bids, *, grid=None,
                        grid_max: float = 1.5) -> Epsilon:
    """Every member's gain from its best unilateral deviation, values fixed.

    Args:
        market: mechanism, DAOs, valuation class.
        values, bids: ``(n,)`` ("single") or ``(n, m)``.
        grid: relative grid (multiples of the value; None: ``DEFAULT_GRID``).
        grid_max: the absolute range is [0, grid_max · largest value].
    """
    v, b = with_items(market, values, bids)
    m = v.shape[1]
    kind = epsilon_kind(market, m, grid=grid)
    if market.exact(m):  # Mechanism 1 / 2: critical bids, no candidates needed
        nobody = np.zeros(market.n_members, dtype=bool)
        revision = exact_best_response(market, values, bids, revising=nobody,
                                       tie_policy="keep", rng=np.random.default_rng(0))
        return Epsilon(revision.gain, kind)
    current = market.utilities(values, bids)
    if market.upper.bundled and m > 1:
        best = _bundled_best(market, v, b, grid, grid_max)
        return Epsilon(np.maximum(best - current, 0.0), kind)
    cand = member_candidates(market, v, b, grid, grid_max)
    if market.separable(m):
        if market.valuation == "single":
            utils = deviation_utilities(market, v[:, 0], b[:, 0], cand[:, 0])[:, None, :]
        else:
            utils = deviation_utilities(market, v, b, cand)
        excess = np.maximum(utils.max(axis=-1) - current[:, None], 0.0)
        return Epsilon(excess.sum(axis=1), kind)
    if search(market, m) == "joint":
        return Epsilon(np.maximum(_joint_best(market, v, b, cand) - current, 0.0), kind)
    utils = deviation_utilities(market, v, b, cand)  # one item at a time
    return Epsilon(np.maximum(utils.max(axis=(-2, -1)) - current, 0.0), kind)


def _bundled_best(market: Market, v: np.ndarray, b: np.ndarray, grid, grid_max: float
                  ) -> np.ndarray:
    """``(n,)`` best utility over bundle-bid levels X: the worth's multiples, the absolute
    range, the current bundle bid and the bundle lot's breakpoints."""
    mine = bundle_bids(market, b)
    worth = bundle_bids(market, v)
    top = grid_max * float(worth.max(initial=0.0))
    levels = np.concatenate([
        worth[:, None] * relative_grid(grid),
        np.broadcast_to(np.linspace(0.0, top, ABSOLUTE_POINTS), (worth.size, ABSOLUTE_POINTS)),
        mine[:, None],
        lot_breakpoints(market, mine[None])[0],
    ], axis=1)
    acc, pay = lot_outcome(market, mine[None], levels[None])
    return (np.where(acc[0], worth[:, None], 0.0) - pay[0]).max(axis=1)


def _joint_best(market: Market, v: np.ndarray, b: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """``(n,)`` best utility over the product grid of per-item candidates ``(n, m, K)``,
    unit-demand values, item-by-item lots: per item, the cheapest payment with and without
    access; then the best of the 2^m access sets A, worth max_{l in A} v_l."""
    n, m, _ = cand.shape
    acc, pay = lot_outcome(market, np.ascontiguousarray(b.T), np.moveaxis(cand, 1, 0))
    acc, pay = np.moveaxis(acc, 0, 1), np.moveaxis(pay, 0, 1)  # (n, m, K)
    pay_in = np.where(acc, pay, np.inf).min(axis=-1)  # (n, m)
    pay_out = np.where(acc, np.inf, pay).min(axis=-1)
    sets = (np.arange(2**m)[:, None] >> np.arange(m)) & 1 == 1  # (2^m, m)
    best = np.full(n, -np.inf)
    step = max(1, JOINT_LIMIT // (2**m * m * 4))
    for lo in range(0, n, step):  # memory chunks, not a loop over members
        sl = slice(lo, lo + step)
        worth = np.where(sets, v[sl, None, :], 0.0).max(axis=-1)  # (r, 2^m)
        cost = np.where(sets, pay_in[sl, None, :], pay_out[sl, None, :]).sum(axis=-1)
        best[sl] = (worth - cost).max(axis=-1)
    return best
