"""Learning rules behind one contract, in a registry keyed by name.

Every rule has ``reset(n_members, n_items, *, grid, rng)`` and
``step(market, values_or_samples, strategies, *, revising, rng, members=None) -> Revision``.
``members`` (int indices, a superset of the revising members) lets a rule evaluate only
those members' options; members outside it keep their strategy and report a NaN gain.
Rules with memory ignore it (they learn from every member's options every round). Strategies
are bids when ``values_or_samples`` has their shape (fixed values) and shading factors when
it has one more leading axis (sampled values, ``payoffs.is_shading``). ``grid`` is the
candidate grid of ``payoffs.py`` (None: exact best response where available, else
``DEFAULT_GRID``). Rules with memory (Hedge, Q-learning) update it for every member each
round; ``revising`` only says who may switch strategy.
"""

from __future__ import annotations

import numpy as np

from dao_abm.learning.best_response import best_response, best_response_shading
from dao_abm.learning.market import Market, member_rows
from dao_abm.learning.payoffs import DEFAULT_GRID, is_shading, payoffs
from dao_abm.learning.revision import Revision, apply_choice, finish, option_rows
from dao_abm.learning.ties import check_tie_policy
from dao_abm.mechanisms.registry import Registry

LEARNING_RULES: Registry[type] = Registry("learning rule")


@LEARNING_RULES.register("best-response")
class BestResponse:
    """Myopic best response to the current profile (exact, or over the grid).

    Args:
        tie_policy: one of ``TIE_POLICIES``.
        grid_max: the exact best response's cap: bids stay in [0, grid_max · value]
            (``exact.py``); None for unrestricted. A grid is bounded by its own top.
    """

    def __init__(self, tie_policy: str = "keep", grid_max: float | None = None) -> None:
        self.tie_policy = check_tie_policy(tie_policy)
        self.grid_max = grid_max
        self.grid: np.ndarray | None = None

    def reset(self, n_members: int, n_items: int, *, grid=None, rng: np.random.Generator) -> None:
        self.grid = grid

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
                             members=members, grid_max=self.grid_max)


@LEARNING_RULES.register("logit")
class Logit:
    """Logit (smoothed) best response over the grid: option k is drawn with probability
    proportional to exp(u_k / (temperature · scale)), scale being the member's value scale
    (its largest value, or mean largest sampled value), so the temperature is unit-free.
    As temperature -> 0 this is the best response (McKelvey & Palfrey 1995, quantal
    response; Blume 1993, log-linear learning).

    Args:
        temperature: λ > 0; 0.01 is nearly best response, 1 is nearly uniform.
    """

    def __init__(self, temperature: float = 0.05) -> None:
        if not temperature > 0:
            raise ValueError("the logit temperature must be > 0")
        self.temperature = float(temperature)
        self.grid: np.ndarray | None = None

    def reset(self, n_members: int, n_items: int, *, grid=None, rng: np.random.Generator) -> None:
        self.grid = grid

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        rows = member_rows(market, members, covering=revising)
        pay = payoffs(market, values_or_samples, strategies, self.grid, rows)
        utils, _, _, _, _, scale = option_rows(pay)
        choice = sample_softmax(utils / (self.temperature * np.maximum(scale, 1e-12))[:, None],
                                rng)
        return finish(np.asarray(strategies, dtype=np.float64), apply_choice(pay, choice),
                      revising, pay.gain, members=pay.members)


def sample_softmax(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(r,)`` one index per row drawn with probability softmax(``logits`` ``(r, O)``)."""
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cdf = np.cumsum(weights, axis=-1)
    u = rng.random(cdf.shape[:-1])[..., None] * cdf[..., -1:]
    return np.minimum((cdf <= u).sum(axis=-1), logits.shape[-1] - 1)
