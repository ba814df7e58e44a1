"""The page's ensemble (``sessions > 1``): sessions 1..S-1 stepped beside the page's model.

The page's model is session 0 (the single run; the DAO-members and graph views show it).
Sessions ``1..S-1`` are an ensemble (``dao_abm.ensemble.run.ensemble_of``: Mesa-free
``Session`` loops, no Mesa agents) on the model's own instance (graph, DAOs, fixed values),
so together they are exactly the S sessions ``dao-abm run`` would run. Every Step advances
the ensemble one round; on recorded rounds (``metrics.every``) the headline metrics of every
session are kept and their quantiles across sessions computed once (``ensemble.fans``), so a
chart's update only reads what was kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dao_abm.ensemble.fans import HEADLINE, QUANTILE_COLUMNS, fan_quantiles
from dao_abm.ensemble.run import ensemble_of

if TYPE_CHECKING:
    from dao_abm.model.session import Session


class PageSessions:
    """Sessions 1..S-1 of ``model``'s scenario and every session's headline metrics.

    Args:
        model: session 0, freshly built (round 0).
        seed: the seed ``model`` was built with (default ``scenario.seed``).
    """

    def __init__(self, model: Session, seed: int | None = None) -> None:
        scenario = model.scenario
        self.n_sessions = scenario.sessions
        self.columns = [c for c in HEADLINE if c in model.columns()]
        self.ensemble = ensemble_of(scenario, sessions=range(1, self.n_sessions),
                                    seed=seed, population=model.population)
        self.rounds: list[int] = []
        #: Per recorded round: ``(S, metrics)`` values (session 0 first), ``(metrics, 5)``
        #: quantiles and ``(metrics,)`` finite counts.
        self.values: list[np.ndarray] = []
        self.quantiles: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []

    def step(self, model: Session) -> None:
        """Advance sessions 1..S-1 by the round ``model`` has just played; keep the metrics
        if it recorded that round."""
        record = bool(model.last) and model.last["round"] == model.rounds_done
        self.ensemble.advance(1, record)
        if not record:
            return
        # Each session's last row, read directly: a DataFrame per Step costs more than the
        # ten-odd numbers it would hold.
        rows = [model.last, *(s.last for s in self.ensemble.sessions)]
        values = np.array([[row[c] for c in self.columns] for row in rows], dtype=np.float64)
        q, n = fan_quantiles(values.T)
        self.rounds.append(model.rounds_done)
        self.values.append(values)
        self.quantiles.append(q)
        self.counts.append(n)

    def table(self, column: str) -> pd.DataFrame:
        """``round, sessions, q05, q25, median, q75, q95, session_0`` of one metric
        (``sessions``: how many sessions had a finite value)."""
        j = self.columns.index(column)
        q = np.array([q[j] for q in self.quantiles]).reshape(-1, len(QUANTILE_COLUMNS))
        frame = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
        frame.insert(0, "sessions", np.array([n[j] for n in self.counts], dtype=np.int64))
        frame.insert(0, "round", np.array(self.rounds, dtype=np.int64))
        frame["session_0"] = [v[0, j] for v in self.values]
        return frame
