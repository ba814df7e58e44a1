"""One session of the repeated auction, Mesa-free: the loop the Mesa model and ensembles share.

A round: draw values (if redrawn), bid, run the two-level auction, revise, record, re-form
DAOs. ``DaoAuctionModel`` is this loop plus Mesa agents and DataCollectors (for the viz and
the Python API); an ensemble (``dao_abm.ensemble``) steps many ``Session`` objects of one
scenario without creating any Mesa agent.

Seeds (``session_streams``): child 0 of ``SeedSequence(seed)`` draws the *instance* (graph,
DAOs, fixed values), which every session of a scenario shares; children 1 and 2 are the value
and learning streams of session 0, the single run; session ``s >= 1`` uses child ``s`` of
each of those two (spawn keys ``(1, s)`` and ``(2, s)``), so the single run keeps the streams
it always had. Session 0 of an ensemble reproduces the single run exactly, and a session's
numbers depend only on (seed, s): not on how many sessions run beside it, nor their order.

Recording (``metrics.every = k``): rounds k, 2k, ... and the last round are recorded. Only
recorded rounds run the auction's bookkeeping (outcome, utilities) and compute the metrics;
the learning itself never reads the outcome, so ``every`` changes what is measured, not what
is learned. Cumulative columns sum over recorded rounds.
"""

from __future__ import annotations

import numpy as np

from dao_abm.learning.functions import EQUILIBRIUM_COLUMNS
from dao_abm.mechanisms import Groups, Outcome, member_values, optimal_welfare
from dao_abm.model import metrics as m
from dao_abm.model.learner import Learner
from dao_abm.model.population import Population, build_population
from dao_abm.model.reform import LastRound, edge_array, reform_daos
from dao_abm.scenario import Scenario, mechanism_of

#: Columns of ``metrics.csv`` in order (an ensemble's file adds ``session`` in front).
COLUMNS = (
    "round", "welfare", "optimal_welfare", "approximation_ratio",
    "cumulative_welfare", "cumulative_optimal_welfare", "cumulative_ratio", "revenue",
    "truthful_share", "mean_bid_ratio", "max_bid_ratio", "outcome_truthful_share",
    "pivotal_members", "pivotal_truthful_share", "max_gain", "mean_gain", "mean_regret",
    "budget_residual", "negative_utility_members", "ir_failures", "winner_dao",
    "winner_size", "price", "n_access", "n_daos", "mean_dao_size", "max_dao_size",
    "changed", "converged", *EQUILIBRIUM_COLUMNS,
)


def instance_rng(seed: int) -> np.random.Generator:
    """The stream that draws the instance every session shares (child 0 of the seed)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))


def session_streams(seed: int, session: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Session ``session``'s value and learning generators (see the module docstring)."""
    tail = (int(session),) if session else ()
    return tuple(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, *tail)))
                 for k in (1, 2))


def recorded(round_number: int, every: int, rounds: int) -> bool:
    """Whether 1-based ``round_number`` is recorded: a multiple of ``every``, or the last."""
    return round_number % every == 0 or round_number == rounds


class Session:
    """The state of one session and its round.

    Args:
        scenario: a validated scenario.
        seed: overrides ``scenario.seed``.
        session: the session index (its streams: see the module docstring).
        population: the shared instance, built from ``instance_rng(seed)`` when None.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, *, session: int = 0,
                 population: Population | None = None) -> None:
        seed = scenario.seed if seed is None else seed
        self.scenario = scenario
        self.session = int(session)
        # Separate streams, so that every mechanism sees the same population, values and
        # revision draws for a seed (common random numbers across mechanisms).
        self.population_rng = instance_rng(seed)
        self.values_rng, self.learning_rng = session_streams(seed, session)
        self.mechanism = mechanism_of(scenario)
        self.valuation = scenario.population.valuation
        if population is None:
            population = build_population(scenario, self.population_rng)
        self.population = population
        self.graph = self.population.graph
        self._edges = None
        self.labels = self.population.labels
        self.groups = Groups.from_labels(self.labels)
        self.n_bidders = self.population.n_bidders
        self.values = self._draw_values()
        self.learner = Learner(scenario, self.mechanism, self.population, self.groups,
                               seed=seed)
        self.strategies = self.learner.initial(self.values, rng=self.learning_rng)
        self.bids = self.learner.bids(self.strategies, self.values)
        self.utility = np.zeros(self.n_bidders)
        self.cumulative_utility = np.zeros(self.n_bidders)
        self.access = np.zeros(self.n_bidders, dtype=bool)
        self._fixed_optimum = None if scenario.values.redraw else self._optimum(self.values)
        self.totals = {"welfare": 0.0, "optimal_welfare": 0.0}
        self.rounds_done = 0
        self.last: dict[str, float] = {}
        self.last_by_size: list[dict] = []

    @staticmethod
    def columns() -> list[str]:
        """Columns of ``metrics.csv`` in order."""
        return list(COLUMNS)

    def play_round(self, record: bool | None = None) -> bool:
        """One round: bid, run the auction, revise, record (if ``record``; default: per
        ``metrics.every``), then re-form DAOs. Returns whether the round was recorded."""
        self.rounds_done += 1
        if record is None:
            record = recorded(self.rounds_done, self.scenario.metrics.every,
                              self.scenario.rounds)
        self.values = self._draw_values()
        self.bids = self.learner.bids(self.strategies, self.values)
        outcome = None
        if record:
            outcome = self.mechanism.run(self.bids, self.groups, self.valuation, validate=False)
            self._settle(outcome)
        revision = self.revise(self.learner.revising(self.rounds_done - 1, self.learning_rng))
        if record:
            self._record(outcome, revision)  # the row describes the DAOs that bid
        self._reform()
        return record

    def revise(self, mask: np.ndarray):
        """Members in ``mask`` revise their strategies; returns the learner's revision."""
        revision = self.learner.revise(self.values, self.strategies, mask,
                                       rng=self.learning_rng, round_index=self.rounds_done - 1)
        self.strategies = revision.strategies
        return revision

    def _draw_values(self) -> np.ndarray:
        if self.population.values is not None:
            return self.population.values
        return self.population.draw(self.values_rng)

    def _optimum(self, values: np.ndarray) -> float:
        return float(optimal_welfare(values, self.groups, self.valuation))

    def _settle(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.member_value = member_values(self.values, outcome)
        self.utility = self.member_value - outcome.member_payments
        self.cumulative_utility += self.utility
        self.access = outcome.access.any(axis=-2)

    def _reform(self) -> None:
        spec = self.scenario.daos
        if not spec.reform or self.rounds_done % spec.reform_every:
            return
        if self._edges is None:
            self._edges = edge_array(self.graph)
        last = LastRound(self.labels, self.values, self.bids, self.utility, self.mechanism,
                         self.valuation)
        labels = reform_daos(last, self._edges, rule=spec.reform_rule, max_size=spec.max_size,
                             rate=self.scenario.learning.fraction, rng=self.learning_rng)
        if not np.array_equal(labels, self.labels):
            self.labels = labels
            self.groups = Groups.from_labels(labels)
            self.learner.set_groups(self.groups)
            if self._fixed_optimum is not None:  # OPT depends on who is grouped with whom
                self._fixed_optimum = self._optimum(self.values)

    def _record(self, outcome: Outcome, revision, dev: np.ndarray | None = None) -> None:
        """The round's row (``dev``: ``metrics.own_bid_deviations`` if computed)."""
        optimum = self._fixed_optimum
        if optimum is None:
            optimum = self._optimum(self.values)
        row = {"round": self.rounds_done}
        row |= m.auction_metrics(self.member_value, outcome, optimum, self.groups)
        ratios = m.bid_ratios(self.bids, self.values)
        row |= m.strategy_metrics(self.bids, self.values, ratios,
                                  self.scenario.metrics.truthful_tol)
        row |= self.learner.round_metrics(revision, self.values, self.bids, self.utility,
                                          self.rounds_done, dev)
        row |= m.dao_metrics(self.groups)
        self.totals["welfare"] += row["welfare"]
        self.totals["optimal_welfare"] += row["optimal_welfare"]
        row["cumulative_welfare"] = self.totals["welfare"]
        row["cumulative_optimal_welfare"] = self.totals["optimal_welfare"]
        row["cumulative_ratio"] = m.ratio(self.totals["optimal_welfare"], self.totals["welfare"])
        self.last = row
        self.last_by_size = [{"round": self.rounds_done} | b
                             for b in m.by_size(ratios, self.groups)]
        self.recorded_round()

    def recorded_round(self) -> None:
        """Called after a round is recorded (the Mesa model collects its data here)."""

    def agent_table(self) -> dict[str, np.ndarray]:
        """``(n,)`` arrays of the agent columns (``AGENT_COLUMNS``) at this round."""
        return {
            "dao": self.labels.copy(),
            "dao_size": self.groups.sizes[self.labels],
            "value": _item_mean(self.values),
            "bid": _item_mean(self.bids),
            "strategy": self.learner.strategy_summary(self.strategies),
            "utility": self.utility.copy(),
            "cumulative_utility": self.cumulative_utility.copy(),
            "has_access": self.access.copy(),
        }


#: Columns of ``agents.csv`` besides round and agent.
AGENT_COLUMNS = ("dao", "dao_size", "value", "bid", "strategy", "utility",
                 "cumulative_utility", "has_access")


def _item_mean(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=-1) if x.ndim > 1 else x.copy()
