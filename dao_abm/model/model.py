"""The Mesa model: members in DAOs bid, the two-level auction runs, members revise.

The round itself is ``Session.play_round`` (Mesa-free, shared with ensembles); the model adds
Mesa agents (one per bidder, holding its index) and DataCollectors for the viz and the
Python API.
"""

from __future__ import annotations

from functools import partial

import mesa
import numpy as np

from dao_abm.model.agents import DaoMember
from dao_abm.model.session import AGENT_COLUMNS, Session
from dao_abm.scenario import Scenario

__all__ = ["AGENT_COLUMNS", "DaoAuctionModel"]


def _metric(model: DaoAuctionModel, name: str) -> float:
    return model.last[name]


class DaoAuctionModel(Session, mesa.Model):
    """Repeated two-level auctions among DAO members who learn how to bid (session 0).

    Args:
        scenario: a validated scenario (see ``dao_abm.scenario``).
        seed: overrides ``scenario.seed``; the one seed all randomness derives from.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        seed = scenario.seed if seed is None else seed
        mesa.Model.__init__(self, seed=seed)
        Session.__init__(self, scenario, seed)
        self.by_size_rows: list[dict] = []
        DaoMember.create_agents(self, self.n_bidders, np.arange(self.n_bidders))
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_metric, name=name) for name in self.columns()}
        )
        self.agent_collector = mesa.DataCollector(agent_reporters={c: c for c in AGENT_COLUMNS})

    def step(self) -> None:
        """One round: bid, run the auction, pay, revise, collect, then re-form DAOs."""
        self.play_round()

    def recorded_round(self) -> None:
        self.by_size_rows += self.last_by_size
        self.datacollector.collect(self)
        every = self.scenario.metrics.agent_interval
        if every and self.rounds_done % every == 0:
            self.agent_collector.collect(self)
