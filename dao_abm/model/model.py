"""The Mesa model: members in DAOs bid, the two-level auction runs, members revise."""

from __future__ import annotations

from functools import partial

import mesa
import numpy as np

from dao_abm.mechanisms import Groups, Outcome, member_values, optimal_welfare
from dao_abm.model import metrics as m
from dao_abm.model.agents import DaoMember
from dao_abm.model.learner import Learner
from dao_abm.model.population import build_population
from dao_abm.model.reform import LastRound, edge_array, reform_daos
from dao_abm.scenario import Scenario, mechanism_of

AGENT_COLUMNS = ("dao", "dao_size", "value", "bid", "strategy", "utility",
                 "cumulative_utility", "has_access")


def _metric(model: DaoAuctionModel, name: str) -> float:
    return model.last[name]


class DaoAuctionModel(mesa.Model):
    """Repeated two-level auctions among DAO members who learn how to bid.

    Args:
        scenario: a validated scenario (see ``dao_abm.scenario``).
        seed: overrides ``scenario.seed``; the one seed all randomness derives from.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        seed = scenario.seed if seed is None else seed
        super().__init__(seed=seed)
        # Separate streams, so that every mechanism sees the same population, values and
        # revision draws for a seed (common random numbers across mechanisms).
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
        self.population_rng, self.values_rng, self.learning_rng = streams
        self.scenario = scenario
        self.mechanism = mechanism_of(scenario)
        self.valuation = scenario.population.valuation
        self.population = build_population(scenario, self.population_rng)
        self.graph = self.population.graph
        self._edges = None
        self.labels = self.population.labels
        self.groups = Groups.from_labels(self.labels)
        self.n_bidders = self.population.n_bidders
        self.values = self._draw_values()
        self.learner = Learner(scenario, self.mechanism, self.population, self.groups)
        self.strategies = self.learner.initial(self.values, rng=self.learning_rng)
        self.bids = self.learner.bids(self.strategies, self.values)
        self.utility = np.zeros(self.n_bidders)
        self.cumulative_utility = np.zeros(self.n_bidders)
        self.access = np.zeros(self.n_bidders, dtype=bool)
        self._fixed_optimum = None if scenario.values.redraw else self._optimum(self.values)
        self.totals = {"welfare": 0.0, "optimal_welfare": 0.0}
        self.last: dict[str, float] = {}
        self.by_size_rows: list[dict] = []
        DaoMember.create_agents(self, self.n_bidders, np.arange(self.n_bidders))
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_metric, name=name) for name in self.columns()}
        )
        self.agent_collector = mesa.DataCollector(agent_reporters={c: c for c in AGENT_COLUMNS})

    @staticmethod
    def columns() -> list[str]:
        """Columns of ``metrics.csv`` in order."""
        return [
            "round", "welfare", "optimal_welfare", "approximation_ratio",
            "cumulative_welfare", "cumulative_optimal_welfare", "cumulative_ratio", "revenue",
            "truthful_share", "mean_bid_ratio", "max_bid_ratio", "outcome_truthful_share",
            "pivotal_members", "pivotal_truthful_share", "max_gain", "mean_gain", "mean_regret",
            "budget_residual", "negative_utility_members", "ir_failures", "winner_dao",
            "winner_size", "price", "n_access", "n_daos", "mean_dao_size", "max_dao_size",
            "changed",
        ]

    def step(self) -> None:
        """One round: bid, run the auction, pay, revise, collect, then re-form DAOs."""
        self.values = self._draw_values()
        self.bids = self.learner.bids(self.strategies, self.values)
        outcome = self.mechanism.run(self.bids, self.groups, self.valuation, validate=False)
        self._settle(outcome)
        revision = self.revise(self.learner.revising(self.steps - 1, self.learning_rng))
        self._record(outcome, revision)  # the row describes the DAOs that bid
        self._reform()

    def revise(self, mask: np.ndarray):
        """Members in ``mask`` revise their strategies; returns the learner's revision."""
        revision = self.learner.revise(self.values, self.strategies, mask,
                                       rng=self.learning_rng, round_index=self.steps - 1)
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
        if not spec.reform or self.steps % spec.reform_every:
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

    def _record(self, outcome: Outcome, revision) -> None:
        optimum = self._fixed_optimum
        if optimum is None:
            optimum = self._optimum(self.values)
        row = {"round": self.steps}
        row |= m.auction_metrics(self.member_value, outcome, optimum, self.groups)
        ratios = m.bid_ratios(self.bids, self.values)
        row |= m.strategy_metrics(self.bids, self.values, ratios,
                                  self.scenario.metrics.truthful_tol)
        row |= self.learner.round_metrics(revision, self.values, self.bids, self.utility)
        row |= m.dao_metrics(self.groups)
        self.totals["welfare"] += row["welfare"]
        self.totals["optimal_welfare"] += row["optimal_welfare"]
        row["cumulative_welfare"] = self.totals["welfare"]
        row["cumulative_optimal_welfare"] = self.totals["optimal_welfare"]
        row["cumulative_ratio"] = m.ratio(self.totals["optimal_welfare"], self.totals["welfare"])
        self.last = row
        self.by_size_rows += [{"round": self.steps} | b for b in m.by_size(ratios, self.groups)]
        self.datacollector.collect(self)
        every = self.scenario.metrics.agent_interval
        if every and self.steps % every == 0:
            self.agent_collector.collect(self)
