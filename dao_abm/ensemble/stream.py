"""Stream a run's tables to disk as rounds are recorded, and summarize across sessions.

``RunStream`` appends chunks of rows to CSV files in the (temporary) run folder, so memory
holds one recorded round of every session at a time, never the whole history.
``SessionStats`` keeps, per session and metric, the last recorded value, the running sum and
count behind the time average, and convergence: the rule's own criterion where the rows
carry one (a ``converged`` column, q-learning's "greedy profile unchanged for
``learning.params.converge_rounds`` rounds": a session counts as converged when its last
record is, from the first record of that converged stretch, ``converged_round``), else
``metrics.window`` recorded rounds without a strategy change or with ε below tolerance, and
turns them into ``summary.json``: per metric the across-session mean and 95% interval
(Student t over sessions, ``experiments.stats.mean_ci``) of the final value and of the time
average, and the share of sessions that converged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dao_abm.experiments.stats import mean_ci


class RunStream:
    """Append-only CSV tables in ``folder`` (a header on the first chunk of each)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._started: set[str] = set()

    def append(self, name: str, rows: pd.DataFrame) -> None:
        """Append ``rows`` to ``folder/name`` (``name`` like ``"metrics.csv"``)."""
        if rows.empty:
            return
        first = name not in self._started
        rows.to_csv(self.folder / name, mode="w" if first else "a", header=first, index=False)
        self._started.add(name)

    def written(self, name: str) -> bool:
        return name in self._started


class SessionStats:
    """Final values, time averages and convergence of every session, updated per record.

    Args:
        columns: the metric columns to summarize.
        n_sessions: S.
        tol: ε at or below this counts as settled.
        window: recorded rounds in a row that make a session converged.
    """

    def __init__(self, columns: list[str], n_sessions: int, tol: float, window: int) -> None:
        self.columns = list(columns)
        shape = (n_sessions, len(self.columns))
        self.final = np.full(shape, np.nan)
        self.total = np.zeros(shape)
        self.count = np.zeros(shape)
        self.tol, self.window = tol, window
        self.run = np.zeros(n_sessions, dtype=np.int64)
        self.converged_round = np.full(n_sessions, -1, dtype=np.int64)
        self.first_of_run = np.zeros(n_sessions, dtype=np.int64)
        self.recorded = 0

    def update(self, rows: pd.DataFrame) -> None:
        """Fold in one recorded round: ``rows`` has one row per session, in session order."""
        x = rows[self.columns].to_numpy(dtype=np.float64)
        finite = np.isfinite(x)
        self.final = np.where(finite, x, self.final)
        self.total += np.where(finite, x, 0.0)
        self.count += finite
        self.recorded += 1
        if "converged" in rows and rows["converged"].notna().all():
            # the rule's own criterion (q-learning: the greedy profile held for K rounds)
            now = rows["converged"].to_numpy(dtype=bool)
            rounds = rows["round"].to_numpy()
            self.first_of_run = np.where(now & (self.run == 0), rounds, self.first_of_run)
            self.run = np.where(now, self.run + 1, 0)
            self.converged_round = np.where(now, self.first_of_run, -1)
        elif "changed" in rows and "max_gain" in rows:
            gain = rows["max_gain"].to_numpy(dtype=np.float64)
            settled = (rows["changed"].to_numpy() == 0) | (~np.isnan(gain) & (gain <= self.tol))
            rounds = rows["round"].to_numpy()
            self.first_of_run = np.where(settled & (self.run == 0), rounds, self.first_of_run)
            self.run = np.where(settled, self.run + 1, 0)
            done = (self.run >= self.window) & (self.converged_round < 0)
            self.converged_round[done] = self.first_of_run[done]

    def summary(self) -> dict:
        """``summary.json`` of an ensemble (see the module docstring)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            average = self.total / self.count
        metrics = {}
        for j, col in enumerate(self.columns):
            metrics[col] = {"final": _interval(self.final[:, j]),
                            "time_average": _interval(average[:, j])}
        converged = self.converged_round >= 0
        return {
            "sessions": int(self.run.size),
            "recorded_rounds": self.recorded,
            "converged_share": float(converged.mean()),
            "converged_round": _interval(self.converged_round[converged].astype(float)),
            "metrics": metrics,
        }


def _interval(x: np.ndarray) -> dict:
    """Mean, 95% t-interval and count of the finite entries (None where undefined)."""
    mean, low, high, n = mean_ci(x)
    return {"mean": _number(mean), "low": _number(low), "high": _number(high), "n": n}


def _number(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)
