"""Strategies as bid functions when values are redrawn every round (``learning.strategy =
"function"``).

A member's strategy for an item is a bid function on a grid of value knots v_1 < ... < v_K
(``learning.knots``), piecewise linear between knots and flat beyond the end knots:
strategies are ``(n, m, K)``, the bid of every member at every knot of every item. With
additive values (or one item) a member's utility is a sum over its items, so each item has
its own function and is revised on its own. ``FunctionSpace.evaluate`` turns strategies and
values ``(*S, n, m)`` into bids in O(S·n·m), by one ``searchsorted`` on the shared knots.

What one batch of sampled value profiles tells every knot. A member who bids b on an item
while everyone else follows their current functions gets access with probability A(b)
and pays P(b) in expectation (over the others' values), and neither depends on its own
value: its interim utility at value v is u(v, b) = v·A(b) − P(b) (``equilibrium.daos``
uses the same decomposition). So ``knot_table`` estimates A and P once per candidate bid,
over ``learning.samples`` common value profiles (the lot's exact deviation kernel,
``deviations.deviation.lot_outcome``, on every profile), and u at every knot follows by a
product. The candidates are the bid grid (``learning.bid_points`` bids from 0 to
``learning.bid_high`` times the top knot, plus the reserve) and the member's own current
bids at its knots, so the utility of the current function is exact too.

Learners (rules whose class sets ``functions = True``): the pointwise best response (each
knot's best bid, ``best_response_functions``), Hedge as dual averaging per knot over the
bid grid (SODA's learner on the sampled game; ``rules/hedge.py``) and fictitious play (a
best response to the running mean of A and P; ``rules/fictitious_play.py``).

A member's gain (its epsilon) is ex ante: the gain of the best bid at each knot, weighted by
the share of the member's sampled values in each knot's cell (cells split at midpoints),
summed over items. A lower bound: the best bid is searched on the candidates only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.deviation import lot_outcome
from dao_abm.deviations.market import Market, member_rows
from dao_abm.learning.exact_lots import ExactLots
from dao_abm.learning.revision import Revision, finish
from dao_abm.learning.ties import TIE_RTOL, choose

#: Strategy kinds under redrawn values (``learning.strategy``).
STRATEGIES = ("shading", "function")
#: Most (profile x item x member x candidate) entries one engine batch holds (memory bound).
CHUNK = 4_000_000


@dataclass(frozen=True, eq=False)
class FunctionSpace:
    """The value knots every bid function lives on, and the candidate bids of learners.

    Attributes:
        knots: ``(K,)`` strictly increasing values >= 0.
        bids: ``(G,)`` sorted candidate bids >= 0.
        monotone: revised functions are made non-decreasing (running maximum over knots).
        exact: the closed-form lot of individual bidders (``exact_lots``), or None: the
            knot tables are then sampled.
    """

    knots: np.ndarray
    bids: np.ndarray
    monotone: bool = True
    exact: ExactLots | None = None

    def __post_init__(self) -> None:
        knots = np.asarray(self.knots, dtype=np.float64)
        bids = np.unique(np.asarray(self.bids, dtype=np.float64))
        if knots.ndim != 1 or knots.size < 2 or (np.diff(knots) <= 0).any() or (
                knots < 0).any() or not np.isfinite(knots).all():
            raise ValueError("knots must be at least 2 finite, strictly increasing values >= 0")
        if bids.ndim != 1 or not bids.size or (bids < 0).any() or not np.isfinite(bids).all():
            raise ValueError("candidate bids must be finite and >= 0")
        object.__setattr__(self, "knots", knots)
        object.__setattr__(self, "bids", bids)

    @property
    def size(self) -> int:
        """K, the number of knots."""
        return self.knots.size

    @property
    def top(self) -> float:
        """The highest candidate bid (the cap on every knot's bid)."""
        return float(self.bids[-1])

    def linear(self, alpha: np.ndarray) -> np.ndarray:
        """``(n, m, K)`` the functions b(v) = alpha·v (capped at ``top``) for ``alpha``
        ``(n, m)``: a shading factor as a bid function."""
        return np.minimum(np.asarray(alpha, dtype=np.float64)[..., None] * self.knots, self.top)

    def evaluate(self, strategies: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``(*S, n, m)`` each member's bid: its function for the item at its value.

        Linear between knots; below the first knot its bid; above the top knot v_K the top
        knot's bid-to-value ratio, b(v) = b(v_K)·v/v_K, so that an unbounded value
        distribution's tail (the default knots stop at its 99.9% quantile) is bid as the
        top knot is: truthful stays truthful, a shading function keeps its top factor.

        Args:
            strategies: ``(n, m, K)``.
            values: ``(*S, n, m)``.
        """
        n, m, k = strategies.shape
        raw = np.asarray(values, dtype=np.float64)
        top = self.knots[-1]
        v = np.clip(raw, self.knots[0], top)
        i = np.clip(np.searchsorted(self.knots, v, side="right") - 1, 0, k - 2)
        w = (v - self.knots[i]) / (self.knots[i + 1] - self.knots[i])
        base = (np.arange(n)[:, None] * m + np.arange(m)) * k + i  # into the flat strategies
        flat = np.ascontiguousarray(strategies).reshape(-1)
        lo, hi = flat[base], flat[base + 1]
        bids = lo + w * (hi - lo)
        # beyond the top knot (top > 0: knots are increasing from >= 0): keep the ratio
        return np.where(raw > top, bids * (raw / top), bids)

    def cells(self, values: np.ndarray) -> np.ndarray:
        """Index of the knot whose cell (split at midpoints between knots) holds each value."""
        return np.searchsorted((self.knots[1:] + self.knots[:-1]) / 2, values)

    def finish(self, strategies: np.ndarray) -> np.ndarray:
        """Revised functions as played: within [0, top], non-decreasing when ``monotone``."""
        out = np.clip(strategies, 0.0, self.top)
        return np.maximum.accumulate(out, axis=-1) if self.monotone else out


@dataclass(frozen=True, eq=False)
class KnotTable:
    """What every candidate bid is worth at every knot, for the members in ``members``.

    Attributes:
        space: the knots and candidate bids.
        options: ``(r, m, C)`` candidates: the G grid bids, then the member's K knot bids.
        access, payment: ``(r, m, C)`` A(b) and P(b) of each candidate on the item's lot,
            means over the sampled profiles.
        weights: ``(r, m, K)`` share of the member's sampled values in each knot's cell.
        scale: ``(r,)`` each member's value scale (its largest knot value met, for ties).
        members: ``(r,)`` the member of each row, or None when row i is member i.
        n_members: n.
    """

    space: FunctionSpace
    options: np.ndarray
    access: np.ndarray
    payment: np.ndarray
    weights: np.ndarray
    members: np.ndarray | None
    n_members: int

    @property
    def grid_size(self) -> int:
        return self.space.bids.size

    def utilities(self) -> np.ndarray:
        """``(r, m, K, C)`` u(v_k, b_c) = v_k·A(b_c) − P(b_c)."""
        v = self.space.knots[:, None]
        return v * self.access[:, :, None, :] - self.payment[:, :, None, :]

    def current(self, utils: np.ndarray) -> np.ndarray:
        """``(r, m, K)`` the utility of the member's own bid at each knot."""
        g, k = self.grid_size, self.space.size
        return utils[..., np.arange(k), g + np.arange(k)]

    def knot_gain(self, utils: np.ndarray) -> np.ndarray:
        """``(r, m, K)`` the interim gain of the best candidate at each knot (>= 0)."""
        return np.maximum(utils.max(axis=-1) - self.current(utils), 0.0)

    def row_gain(self, utils: np.ndarray) -> np.ndarray:
        """``(r,)`` ex-ante gain: knot gains weighted by the value cells, summed over items."""
        return (self.weights * self.knot_gain(utils)).sum(axis=(1, 2))

    def gain(self, utils: np.ndarray) -> np.ndarray:
        """``(n,)`` each member's ex-ante gain (NaN for members without a row)."""
        if self.members is None:
            return self.row_gain(utils)
        out = np.full(self.n_members, np.nan)
        out[self.members] = self.row_gain(utils)
        return out


def knot_table(market: Market, space: FunctionSpace, samples: np.ndarray,
               strategies: np.ndarray, members: np.ndarray | None = None) -> KnotTable:
    """A(b) and P(b) of every candidate for the members in ``members`` (all when None).

    Args:
        market: a market whose utilities separate over items (``Market.separable``).
        space: the knots and candidate bids.
        samples: ``(S, n, m)`` value profiles shared by every member (common random
            numbers); only the others' values matter for A and P, the member's own ones
            weight its knots.
        strategies: ``(n, m, K)`` everyone's current functions.
        members: ``(r,)`` rows to evaluate.
    """
    rows = member_rows(market, members)
    samples = np.asarray(samples, dtype=np.float64)
    s, n, m = samples.shape
    own = strategies if rows is None else strategies[rows]
    r = own.shape[0]
    options = np.concatenate([np.broadcast_to(space.bids, (r, m, space.bids.size)), own],
                             axis=-1)  # (r, m, C)
    if space.exact is not None:  # individuals, one item: A and P in closed form
        everyone = np.arange(n) if rows is None else np.asarray(rows)
        access, payment = space.exact.tables(space.knots, strategies[:, 0], options[:, 0],
                                             everyone)
        weights = np.broadcast_to(space.exact.weights, (r, m, space.size))
        return KnotTable(space, options, access[:, None], payment[:, None], weights, rows,
                         market.n_members)
    c = options.shape[-1]
    x_item = np.moveaxis(options, 1, 0)  # (m, r, C)
    access, payment = np.zeros((m, r, c)), np.zeros((m, r, c))
    step = max(1, CHUNK // max(1, m * r * c))
    for lo in range(0, s, step):  # chunks of profiles (memory), not members
        part = samples[lo:lo + step]
        bids = space.evaluate(strategies, part)  # (s', n, m)
        lot_bids = np.ascontiguousarray(np.moveaxis(bids, -1, -2)).reshape(-1, n)
        x = np.broadcast_to(x_item, (part.shape[0], m, r, c)).reshape(-1, r, c)
        acc, pay = lot_outcome(market, lot_bids, np.ascontiguousarray(x), rows)
        access += acc.reshape(part.shape[0], m, r, c).sum(axis=0)
        payment += pay.reshape(part.shape[0], m, r, c).sum(axis=0)
    mine = samples if rows is None else samples[:, rows]
    cell = space.cells(mine)  # (S, r, m)
    flat = (np.arange(r)[:, None] * m + np.arange(m)) * space.size + cell
    weights = np.bincount(flat.ravel(), minlength=r * m * space.size).reshape(r, m, -1) / s
    return KnotTable(space, options, np.moveaxis(access, 0, 1) / s,
                     np.moveaxis(payment, 0, 1) / s, weights, rows, market.n_members)


def pick(table: KnotTable, utils: np.ndarray, *, tie_policy: str,
         rng: np.random.Generator) -> np.ndarray:
    """``(r, m, K)`` each knot's best candidate bid under ``tie_policy`` (``ties.choose``:
    "truthful" is the bid nearest the knot's value, "keep" keeps the current bid while it is
    a best one)."""
    r, m, k, c = utils.shape
    knots = table.space.knots[:, None]
    options = np.broadcast_to(table.options[:, :, None, :], utils.shape)
    current = table.current(utils)
    own = table.options[..., table.grid_size:]  # (r, m, K)
    scale = np.broadcast_to(np.maximum(table.space.knots[-1], 1e-12), (r * m * k,))
    choice, _ = choose(utils.reshape(-1, c), current.reshape(-1),
                       np.abs(options - knots).reshape(-1, c), options.reshape(-1, c),
                       (np.abs(own - table.space.knots).reshape(-1), own.reshape(-1)),
                       policy=tie_policy, tol=TIE_RTOL * scale, rng=rng)
    chosen = np.take_along_axis(options.reshape(-1, c), np.maximum(choice, 0)[:, None],
                                axis=1)[:, 0]
    return np.where(choice >= 0, chosen, own.reshape(-1)).reshape(r, m, k)


def revision(table: KnotTable, utils: np.ndarray, strategies: np.ndarray,
             proposed: np.ndarray, revising: np.ndarray,
             regret: np.ndarray | None = None) -> Revision:
    """The ``Revision`` of proposed functions ``(r, m, K)`` (revising members take them)."""
    r = proposed.shape[0]
    return finish(np.asarray(strategies, dtype=np.float64),
                  table.space.finish(proposed).reshape(r, -1), np.asarray(revising, bool),
                  table.gain(utils), regret, members=table.members)


def best_response_functions(market: Market, space: FunctionSpace, samples: np.ndarray,
                            strategies: np.ndarray, *, revising: np.ndarray,
                            tie_policy: str = "keep", rng: np.random.Generator,
                            members: np.ndarray | None = None) -> Revision:
    """Pointwise best response: each revising member's bid at each knot becomes the best
    candidate against everyone else's current functions on ``samples`` (made monotone if
    the space says so). Gains are ex ante (module docstring); NaN outside ``members``."""
    table = knot_table(market, space, samples, strategies, members)
    utils = table.utilities()
    return revision(table, utils, strategies, pick(table, utils, tie_policy=tie_policy,
                                                   rng=rng), revising)


def function_epsilon(market: Market, space: FunctionSpace, samples: np.ndarray,
                     strategies: np.ndarray) -> np.ndarray:
    """``(n,)`` every member's ex-ante gain on the candidates over ``samples``."""
    table = knot_table(market, space, samples, strategies)
    return table.gain(table.utilities())


def epsilon_kind(space: FunctionSpace, samples: int) -> str:
    """What the gain of a function run is (``Learner.epsilon_kind``)."""
    if space.exact is not None:
        return (f"lower-bound: ex-ante gain of the best of {space.bids.size} bids and the own "
                f"bid at each of {space.size} knots, knots weighted by their prior mass, "
                f"A(b) and P(b) in closed form ({space.exact.price} price, individuals)")
    profiles = "this round's values" if samples == 1 else (
        f"{samples} sampled value profiles")
    return (f"lower-bound: ex-ante gain of the best of {space.bids.size} bids and the own bid "
            f"at each of {space.size} knots, knots weighted by the sampled values, "
            f"{profiles}")


#: Columns of the equilibrium metrics in ``metrics.csv`` (``equilibrium.metrics`` names).
EQUILIBRIUM_COLUMNS = ("l2_to_bne", "linf_to_bne", "utility_loss", "relative_utility_loss",
                       "epsilon_interim")


def engine_metrics(market: Market, space: FunctionSpace, samples: np.ndarray,
                   strategies: np.ndarray, members: np.ndarray | None = None
                   ) -> dict[str, float]:
    """The literature's utility losses of the profile ``strategies`` ``(n, m, K)`` on the
    engine, for DAOs and anything else without a continuous-game model, over a fixed sample
    ``(S, n, m)``, for the members in ``members`` (all when None):

    - ``utility_loss``: mean over members of the ex-ante gain of the best candidate bid at
      each knot (knots weighted by the member's values in the sample, summed over items);
    - ``relative_utility_loss``: mean over members of that gain divided by the ex-ante
      best-response utility (members whose best utility is 0 left out);
    - ``epsilon_interim``: the largest interim gain at any knot of any member and item.

    Lower bounds (the best bid is searched on the candidates). No closed form: the
    distances ``l2_to_bne`` and ``linf_to_bne`` are NaN.
    """
    table = knot_table(market, space, samples, strategies, members)
    utils = table.utilities()
    gain = table.knot_gain(utils)
    loss = (table.weights * gain).sum(axis=(1, 2))
    best = (table.weights * utils.max(axis=-1)).sum(axis=(1, 2))
    relative = loss[best > 0] / best[best > 0]
    return {"l2_to_bne": float("nan"), "linf_to_bne": float("nan"),
            "utility_loss": float(loss.mean()),
            "relative_utility_loss": float(relative.mean()) if relative.size else float("nan"),
            "epsilon_interim": float(gain.max())}
