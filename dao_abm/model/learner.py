"""The bridge between a scenario's learning table and the Mesa-free learning package.

Strategies are bids when values are fixed. When values are redrawn every round they are
shading factors alpha (bid = alpha · value; ``learning.strategy = "shading"``) or bid
functions on value knots (``"function"``: ``(n, m, K)`` bids at the knots, piecewise
linear, ``learning/functions.py``). What a rule learns from is its feedback mode
(``learning/feedback.py``): with redrawn values, ``expected`` averages utilities over
``learning.samples`` value profiles drawn afresh and shared by all members (common random
numbers); ``full`` and ``bandit`` see this round's values only.

Epsilon is measured every ``metrics.epsilon_every`` rounds (round_index % epsilon_every ==
0, the "epsilon rounds"). In the other rounds a grid rule evaluates only the revising
members' options, so a round costs what its revisers cost; the gain of the others, and so
max_gain / mean_gain and the own-bid metrics (``metrics.OWN_BID_COLUMNS``), are NaN there.
The exact best response (dao-vickrey) answers for everyone in O(n) and reports its gains
every round.

With fixed values, an epsilon round measures every member's gain with
``learning.epsilon.fixed_value_epsilon`` (exact where it is, else the best of the grid,
an absolute range and the breakpoints of the member's outcome: a lower bound), not with
the learning rule's grid, whose rule then evaluates only the revising members in every
round (so ``epsilon_every`` never changes what members learn, even under random tie
breaking); with redrawn values it is the gain on the shading grid in mean utility over
``learning.samples`` value profiles (the rule's own when its feedback is ``expected``;
measured apart, on epsilon rounds, when it sees one round: ``full``, ``bandit``).
``Learner.epsilon_kind`` says which (written to summary.json and run.json). Bid functions
report the ex-ante gain of the best candidate bid at each knot over ``learning.samples``
value profiles (``functions.epsilon_kind``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dao_abm.deviations import Market
from dao_abm.deviations.payoffs import shading_payoffs
from dao_abm.learning import (
    LEARNING_RULES,
    Revision,
    epsilon_kind,
    fixed_value_epsilon,
    revising_members,
)
from dao_abm.learning import functions as fn
from dao_abm.learning.exact_lots import ExactLots
from dao_abm.mechanisms import Groups, TwoLevelMechanism
from dao_abm.model import metrics as m
from dao_abm.model.population import Population
from dao_abm.scenario import Scenario
from dao_abm.scenario.checks import scenario_grid


class Learner:
    """Owns the learning rule and the market members learn against."""

    def __init__(self, scenario: Scenario, mechanism: TwoLevelMechanism,
                 population: Population, groups: Groups, *, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.spec = scenario.learning
        self.redraw = scenario.values.redraw
        self.population = population
        self.market = Market(mechanism, groups, scenario.population.valuation)
        self.grid = scenario_grid(scenario)
        self.rule = LEARNING_RULES[self.spec.rule](
            self.spec.params, feedback=self.spec.feedback or None,
            tie_policy=self.spec.tie_policy, cap=self.grid.cap)
        self.n_items = population.n_items if population.item_axis else 1
        self.epsilon_every = scenario.metrics.epsilon_every
        self.epsilon_round = True  # whether the last revision measured every member
        self.function = self.redraw and self.spec.strategy == "function"
        # Shading runs measure their equilibrium metrics on the same knots (b = alpha·v).
        self.space = function_space(scenario, population) if self.redraw else None
        if self.function and self.spec.function_table == "auto":
            exact = exact_lots(scenario, self.market, self.space.knots)
            if exact is not None:
                self.space = dataclasses.replace(self.space, exact=exact)
        self._fixed: tuple[np.ndarray, np.ndarray | None] | None = None  # metrics sample
        if self.function:
            self.epsilon_kind = fn.epsilon_kind(self.space, self.spec.samples)
        else:
            self.epsilon_kind = epsilon_kind(
                self.market, self.n_items, grid=self._relative, bids_grid=self._bids_grid,
                samples=self.spec.samples if self.redraw else None,
                shading_grid=self.grid.size)

    @property
    def _relative(self) -> np.ndarray | None:
        """The grid's multiples of the value, for epsilon's candidates (None: the default
        multiples, when the rule's grid is absolute)."""
        return self.grid.factors() if self.grid.relative else None

    @property
    def _bids_grid(self) -> np.ndarray | None:
        """The rule's absolute grid (bids), also among epsilon's candidates."""
        return None if self.grid.relative else self.grid.points

    @property
    def _exact(self) -> bool:
        return not self.redraw and self.market.exact(self.n_items)

    def _rule_grid(self) -> np.ndarray | None:
        """None lets fixed-value best responses be exact where the market allows it."""
        if self.rule.exact and self._exact:
            return None
        return self.grid

    def set_groups(self, groups: Groups) -> None:
        """DAOs re-formed: learn against the new membership."""
        self.market = Market(self.market.mechanism, groups, self.market.valuation)

    def initial(self, values: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """Initial strategies (see ``learning.initial``), within [0, cap] times the value
        like every later strategy (the cap: a relative grid's top, ``Grid.cap``)."""
        if self.spec.initial == "truthful":
            alpha = np.ones(values.shape)
        elif self.spec.initial == "shaded":
            alpha = np.full(values.shape, self.spec.initial_alpha)
        else:
            alpha = rng.uniform(0.2, min(1.5, self.grid.cap or 1.5), size=values.shape)
        n = values.shape[0]
        self.rule.reset(n, self.n_items, grid=self._rule_grid(), rng=rng)
        if self.function:  # the shading factor as a function: b(v) = alpha·v at the knots
            return self.space.linear(alpha.reshape(n, self.n_items))
        return alpha if self.redraw else alpha * values

    def bids(self, strategies: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Bids ``values``-shaped (``(*S, n[, m])``): the strategies themselves (fixed
        values), alpha · value, or each member's function at its value."""
        if self.function:
            return self._items(values, self.space.evaluate(strategies, self._with_items(values)))
        return strategies * values if self.redraw else strategies

    def _with_items(self, values: np.ndarray) -> np.ndarray:
        return values if self.population.item_axis else values[..., None]

    def _items(self, like: np.ndarray, x: np.ndarray) -> np.ndarray:
        return x if self.population.item_axis else x[..., 0]

    def strategy_summary(self, strategies: np.ndarray) -> np.ndarray:
        """``(n,)`` one number per member for agents.csv: its bid or shading factor (mean
        over items), or its function's mean bid over the knots and items."""
        return strategies.reshape(strategies.shape[0], -1).mean(axis=1)

    def revising(self, round_index: int, rng: np.random.Generator) -> np.ndarray:
        """``(n,)`` who may revise this round (``learning.protocol``)."""
        return revising_members(self.spec.protocol, self.market.n_members,
                                groups=self.market.groups, round_index=round_index, rng=rng,
                                fraction=self.spec.fraction)

    def revise(self, values: np.ndarray, strategies: np.ndarray, mask: np.ndarray, *,
               rng: np.random.Generator, round_index: int = 0) -> Revision:
        """One revision step of the rule for the members in ``mask``; every member is
        evaluated on epsilon rounds only (see the module docstring)."""
        if self.function:
            return self._revise_function(values, strategies, mask, rng, round_index)
        data = values
        if self.redraw:
            data = (self.population.draw(rng, size=self.spec.samples)
                    if self.rule.mode == "expected" else values[None])
        self.epsilon_round = round_index % self.epsilon_every == 0
        rule_measures = (self.redraw and self.rule.mode == "expected") or (
            self.rule.exact and self._exact)
        # With fixed values epsilon is measured apart (``epsilon``), so the rule evaluates
        # only the revisers every round and measuring never changes what members learn.
        members = None if self.epsilon_round and rule_measures else np.flatnonzero(mask)
        revision = self.rule.step(self.market, data, strategies, revising=mask, rng=rng,
                                  members=members)
        if self.redraw and self.rule.mode != "expected":
            # The rule saw this round's values only; epsilon is over S value samples.
            gain = (self.shading_epsilon(strategies, rng) if self.epsilon_round
                    else np.full(self.market.n_members, np.nan))
            return Revision(revision.strategies, gain, revision.changed, revision.regret)
        if rule_measures:
            return revision  # the rule's gain is the epsilon (shading grid, or exact)
        gain = (self.epsilon(data, strategies) if self.epsilon_round
                else np.full(self.market.n_members, np.nan) if self._exact else revision.gain)
        return Revision(revision.strategies, gain, revision.changed, revision.regret)

    def _revise_function(self, values: np.ndarray, strategies: np.ndarray, mask: np.ndarray,
                         rng: np.random.Generator, round_index: int) -> Revision:
        """A rule's step over bid functions; epsilon as for shading factors (the rule's own
        with ``expected`` feedback, else measured apart on fresh samples)."""
        data = (self.population.draw(rng, size=self.spec.samples)
                if self.rule.mode == "expected" else values[None])
        self.epsilon_round = round_index % self.epsilon_every == 0
        expected = self.rule.mode == "expected"
        members = None if self.epsilon_round and expected else np.flatnonzero(mask)
        revision = self.rule.step_function(self.market, self.space, self._with_items(data),
                                           strategies, revising=mask, rng=rng,
                                           members=members)
        if expected:
            return revision
        gain = (self.function_epsilon(strategies, rng) if self.epsilon_round
                else np.full(self.market.n_members, np.nan))
        return Revision(revision.strategies, gain, revision.changed, revision.regret)

    def function_epsilon(self, strategies: np.ndarray, rng: np.random.Generator
                         ) -> np.ndarray:
        """``(n,)`` every member's ex-ante gain over ``learning.samples`` fresh profiles."""
        samples = self._with_items(self.population.draw(rng, size=self.spec.samples))
        return fn.function_epsilon(self.market, self.space, samples, strategies)

    def shading_epsilon(self, strategies: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(n,)`` every member's gain over the shading grid, in mean utility over
        ``learning.samples`` fresh value profiles (values redrawn; see ``epsilon_kind``)."""
        samples = self.population.draw(rng, size=self.spec.samples)
        return shading_payoffs(self.market, samples, strategies, self.grid).gain

    def epsilon(self, values: np.ndarray, strategies: np.ndarray) -> np.ndarray:
        """``(n,)`` every member's gain from its best deviation found (fixed values; see
        ``epsilon_kind``)."""
        return fixed_value_epsilon(self.market, values, strategies, grid=self._relative,
                                   grid_max=self.grid.cap or 1.5,
                                   bids_grid=self._bids_grid).gain

    def equilibrium_metrics(self, strategies: np.ndarray, round_number: int
                            ) -> dict[str, float]:
        """The literature's equilibrium metrics of ``strategies`` (values redrawn, on rounds
        that are multiples of ``metrics.equilibrium_every`` and the last; else NaN).

        Runs of individual bidders with a continuous-game model (``equilibrium.runs``) use
        ``equilibrium.metrics`` on ``metrics.equilibrium_samples`` prior quantiles, with the
        distances to the closed form; every other run measures the utility losses on the
        engine (``functions.engine_metrics``) over a fixed sample of that many value
        profiles drawn once (spawn key 3 of the seed, shared by every session), for every
        member or a fixed subset of ``METRIC_MEMBERS`` (NaN where items do not separate:
        unit-demand values or a bundle of several items). ``round_estimator`` says which."""
        every = self.scenario.metrics.equilibrium_every
        row = dict.fromkeys(fn.EQUILIBRIUM_COLUMNS, float("nan"))
        if not self.redraw or not every or (round_number % every
                                            and round_number != self.scenario.rounds):
            return row
        game = self._round_game()
        if game is not None:
            from dao_abm.equilibrium.metrics import equilibrium_metrics
            from dao_abm.equilibrium.runs import profile_of
            return equilibrium_metrics(profile_of(game, self, strategies), game)
        if not self.market.separable(self.n_items):
            return row  # u = v·A(b) − P(b) item by item needs separable items
        samples, members = self._metric_sample()
        profile = strategies if self.function else self.space.linear(
            strategies.reshape(strategies.shape[0], -1))
        return fn.engine_metrics(self.market, self.space, samples, profile, members)

    def _round_game(self):
        """The continuous game of a run of individual bidders (None if it has none), with
        the per-round estimator: ``metrics.equilibrium_samples`` quantiles, a bid search
        of ``ROUND_BID_GRID`` points refined by ``ROUND_BID_REFINE``."""
        from dao_abm.equilibrium.runs import game_of
        game = game_of(self.scenario, self.market.mechanism, int(self.market.groups.max_size))
        if game is None:
            return None
        return dataclasses.replace(game, sample_size=self.scenario.metrics.equilibrium_samples,
                                   coarse=ROUND_BID_GRID, fine=ROUND_BID_REFINE)

    def _metric_sample(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The fixed sample ``(S, n, m)`` and the members measured (None: all), drawn once."""
        if self._fixed is None:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(3,)))
            n = self.market.n_members
            members = None if n <= METRIC_MEMBERS else np.sort(
                rng.choice(n, METRIC_MEMBERS, replace=False))
            samples = self.population.draw(rng, size=self.scenario.metrics.equilibrium_samples)
            self._fixed = (self._with_items(samples), members)
        return self._fixed

    def round_estimator(self) -> dict:
        """What run.json says about the equilibrium metrics of recorded rounds ({} if none)."""
        if not self.redraw or not self.scenario.metrics.equilibrium_every:
            return {}
        if self._round_game() is None and not self.market.separable(self.n_items):
            return {}
        size = self.scenario.metrics.equilibrium_samples
        common = {"every": self.scenario.metrics.equilibrium_every, "sample_size": size}
        game = self._round_game()
        if game is not None:
            return common | {"estimator": "equilibrium.metrics on the continuous game: "
                                          "prior quantiles at (k+1/2)/N; best response by a "
                                          "bid grid refined once",
                             "bid_grid": game.coarse, "bid_refine": game.fine}
        n = self.market.n_members
        return common | {
            "estimator": "engine: value profiles drawn once (spawn key 3 of the seed); A(b), "
                         "P(b) of every candidate bid on them; gains at the knots weighted "
                         "by the member's sampled values; l2/linf: no closed form",
            "members": n if n <= METRIC_MEMBERS else f"{METRIC_MEMBERS} of {n}, drawn once",
            "knots": int(self.space.size), "bid_grid": int(self.space.bids.size)}

    def round_metrics(self, revision: Revision, values: np.ndarray, bids: np.ndarray,
                      utility: np.ndarray, round_number: int = 0,
                      dev: np.ndarray | None = None) -> dict[str, float]:
        """max/mean gain (epsilon; NaN unless every member's gain is known), regret,
        strategy changes, the rule's own convergence criterion (1/0; NaN for rules without
        one), the equilibrium metrics (``equilibrium_metrics``, of the revised strategies)
        and, on epsilon rounds (else NaN), what each member's own bid does for it
        (``metrics.own_bid_metrics``; ``dev``: its deviations, if already computed)."""
        regret, gain = revision.regret, revision.gain
        row = {
            "max_gain": float(gain.max()) if np.isfinite(gain).all() else float("nan"),
            "mean_gain": float(gain.mean()) if np.isfinite(gain).all() else float("nan"),
            "mean_regret": float(regret.mean()) if regret is not None else float("nan"),
            "changed": int(revision.changed.sum()),
            # the rule's own convergence criterion where it has one (q-learning: the greedy
            # profile unchanged for learning.params.converge_rounds rounds), else NaN
            "converged": float(getattr(self.rule, "converged", float("nan"))),
        } | self.equilibrium_metrics(revision.strategies, round_number)
        if not self.epsilon_round:
            return row | dict.fromkeys(m.OWN_BID_COLUMNS, float("nan"))
        return row | m.own_bid_metrics(self.market, values, bids, utility, dev)


#: Most members whose utility losses the engine's equilibrium metrics measure (a fixed
#: random subset beyond it).
METRIC_MEMBERS = 256
#: The per-round continuous-game best response: bid grid points and refinement.
ROUND_BID_GRID, ROUND_BID_REFINE = 129, 33

#: Upper quantile of unbounded value distributions the default knots reach.
TOP_QUANTILE = 0.999


def function_space(scenario: Scenario, population: Population) -> fn.FunctionSpace:
    """The knots (``learning.knots``, else ``knot_points`` evenly spaced over the values'
    range: [low, high] for uniform values, else [0, the 99.9% quantile], times the largest
    member scale, and up to the largest individual value) and the candidate bids
    (``bid_points`` from 0 to ``bid_high`` times the top knot, plus the reserve)."""
    spec = scenario.learning
    if spec.knots:
        knots = np.asarray(spec.knots, dtype=np.float64)
    else:
        model = population.value_model
        scale = 1.0 if model.member_scale is None else float(model.member_scale.max())
        low = model.low if model.distribution == "uniform" and model.member_scale is None \
            else 0.0
        top = {"uniform": lambda: model.high,
               "lognormal": lambda: np.exp(model.mean + model.sigma * _normal_quantile()),
               "pareto": lambda: model.scale * (1 - TOP_QUANTILE) ** (-1 / model.alpha),
               "empirical": lambda: float(np.max(model.amounts)),
               }[model.distribution]() * scale
        if population.individual_values.size:
            top = max(top, float(population.individual_values.max()))
        knots = np.linspace(low, max(top, low + 1e-9), spec.knot_points)
    bids = np.linspace(0.0, spec.bid_high * knots[-1], spec.bid_points)
    reserve = float(np.max(scenario.mechanism.reserve))
    if 0 < reserve < bids[-1]:
        bids = np.union1d(bids, [reserve])
    return fn.FunctionSpace(knots, bids, spec.monotone)


def exact_lots(scenario: Scenario, market: Market, knots: np.ndarray) -> ExactLots | None:
    """The closed-form lot (``learning/exact_lots.py``) of a run whose every bidder is alone,
    with one item sold by first or second price, uniform values and monotone functions (the
    runs ``equilibrium.runs.game_of`` models as a continuous game), its value ``knots``
    weighted by their cells' prior mass; else None."""
    from dao_abm.equilibrium.bid_functions import cell_weights  # scipy: only when needed
    from dao_abm.equilibrium.runs import game_of
    game = game_of(scenario, market.mechanism, int(market.groups.max_size))
    if game is None or not scenario.learning.monotone:
        return None
    return ExactLots(game.auction.removesuffix("-price"), game.prior, game.reserve,
                     np.asarray(market.groups.labels), cell_weights(game.prior, knots))


def _normal_quantile() -> float:
    """z with Φ(z) = TOP_QUANTILE."""
    from scipy.stats import norm
    return float(norm.ppf(TOP_QUANTILE))
