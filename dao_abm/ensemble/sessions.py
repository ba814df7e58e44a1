"""Many sessions of one scenario, stepped round by round (no Mesa agents).

Every session is a ``Session`` (the loop the Mesa model runs) built on the one shared
instance (graph, DAOs, fixed values) with its own value and learning streams
(``session_streams``). ``SessionEnsemble`` steps them together and hands the recorded
rounds to the run layer as tidy frames with a ``session`` column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dao_abm.model.population import Population, build_population
from dao_abm.model.session import AGENT_COLUMNS, COLUMNS, Session, instance_rng
from dao_abm.scenario import Scenario


class SessionEnsemble:
    """Sessions ``first, first + 1, ...`` of a scenario (``sessions`` of them).

    Args:
        sessions: the sessions to step; build them with ``SessionEnsemble.build``.
    """

    def __init__(self, sessions: Sequence[Session]) -> None:
        self.sessions = list(sessions)
        self.scenario = self.sessions[0].scenario
        self.rounds_done = 0

    @classmethod
    def build(cls, scenario: Scenario, *, sessions: Sequence[int] | None = None,
              seed: int | None = None, population: Population | None = None
              ) -> SessionEnsemble:
        """Sessions ``sessions`` (default ``range(scenario.sessions)``) on one instance:
        ``population`` if given (the instance of another session of this scenario and
        seed, e.g. the live page's model), else drawn from ``instance_rng(seed)``."""
        seed = scenario.seed if seed is None else seed
        ids = range(scenario.sessions) if sessions is None else sessions
        if population is None:
            population = build_population(scenario, instance_rng(seed))
        return cls([Session(scenario, seed, session=s, population=population) for s in ids])

    @property
    def n_sessions(self) -> int:
        return len(self.sessions)

    @property
    def columns(self) -> list[str]:
        return ["session", *COLUMNS]

    #: Columns ``summary.json`` summarizes across sessions.
    summary_columns = ("welfare", "optimal_welfare", "approximation_ratio", "revenue",
                       "truthful_share", "mean_bid_ratio", "max_gain", "mean_gain", "n_daos")

    #: Rounds the run loop may ask for at once (it checks for Ctrl-C in between).
    max_chunk = 1

    def advance(self, rounds: int, record: bool) -> None:
        """Play ``rounds`` rounds of every session; record the last one iff ``record``."""
        for i in range(rounds):
            last = record and i == rounds - 1
            for session in self.sessions:
                session.play_round(last)
            self.rounds_done += 1

    def metrics(self) -> pd.DataFrame:
        """The last recorded round: one row per session."""
        rows = [{"session": s.session} | s.last for s in self.sessions]
        return pd.DataFrame(rows, columns=self.columns)

    def by_size(self) -> pd.DataFrame:
        """The last recorded round's DAO-size buckets, per session."""
        rows = [{"session": s.session} | r for s in self.sessions for r in s.last_by_size]
        return pd.DataFrame(rows)

    def agents(self) -> pd.DataFrame:
        """Every bidder of every session at the last recorded round."""
        frames = []
        for s in self.sessions:
            table = s.agent_table()
            n = table["dao"].size
            frames.append(pd.DataFrame({"session": s.session, "round": s.rounds_done,
                                        "agent": np.arange(n)} |
                                       {c: table[c] for c in AGENT_COLUMNS}))
        return pd.concat(frames, ignore_index=True)
