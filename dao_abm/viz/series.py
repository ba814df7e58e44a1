"""The page's data, as plain functions of the runs: metrics over rounds, bid/value heat maps,
bids against values, DAO members. Each returns chart points (for ``charts``) or a tidy
``pandas.DataFrame`` (for the CSV exports), so the picture and the CSV hold the same numbers.

Metric names come from ``DaoAuctionModel.columns()``: a view lists the columns it would like
and shows those the model has (a renamed column drops out of the chart rather than breaking
the page).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dao_abm.ensemble.fans import BANDS, HEADLINE, QUANTILE_COLUMNS
from dao_abm.model.metrics import SIZE_BUCKET_NAMES
from dao_abm.viz.charts import PALETTE, RUN_STYLES, fan_option, finite, lines_option
from dao_abm.viz.history import BUCKET_ROWS, RATIO_BINS
from dao_abm.viz.live import Run


@dataclass(frozen=True)
class Metric:
    """One column drawn over rounds: its label, its axis, and how it is drawn."""

    column: str
    label: str
    right: bool = False
    points: bool = False  # markers only (a categorical value such as the winner)
    symbols: bool = False  # markers joined over gaps (measured every k rounds only)


@dataclass(frozen=True)
class LinesView:
    """A chart of metrics over rounds (the runs side by side overlaid, second run dashed)."""

    name: str
    title: str
    ylabel: str
    metrics: tuple[Metric, ...]
    ylabel_right: str | None = None

    def shown(self, columns: Sequence[str]) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.column in columns)

    def option(self, runs: Sequence[Run]) -> dict:
        shown = self.shown(runs[0].model.columns())
        series = [{"name": _label(m.label, run, runs), "color": PALETTE[j % len(PALETTE)],
                   "style": RUN_STYLES[i % 2], "right": m.right, "points": m.points,
                   "symbols": m.symbols}
                  for i, run in enumerate(runs) for j, m in enumerate(shown)]
        right = self.ylabel_right if any(m.right for m in shown) else None
        return lines_option(self.title, self.ylabel, series, right)

    def points(self, runs: Sequence[Run], start: int) -> dict:
        """``{"series": [[[round, value], ...], ...]}`` for rounds after ``start``."""
        shown = self.shown(runs[0].model.columns())
        series = []
        for run in runs:
            data = run.model.datacollector.model_vars
            rounds = data["round"][start:]
            for m in shown:
                series.append([[r, finite(v)] for r, v in zip(rounds, data[m.column][start:],
                                                              strict=True)])
        return {"series": series}

    def table(self, runs: Sequence[Run]) -> pd.DataFrame:
        """Rounds x (run, round, the shown columns)."""
        shown = [m.column for m in self.shown(runs[0].model.columns())]
        frames = [pd.DataFrame({c: run.model.datacollector.model_vars[c]
                                for c in ["round", *shown]}).assign(run=run.label)
                  for run in runs]
        return pd.concat(frames, ignore_index=True)[["run", "round", *shown]]


def _label(label: str, run: Run, runs: Sequence[Run]) -> str:
    return label if len(runs) == 1 else f"{label} · {run.label.split('=', 1)[-1]}"


#: The charts over rounds, in page order.
LINES = (
    LinesView("welfare", "Welfare, optimum and OPT/welfare", "welfare", (
        Metric("welfare", "welfare"), Metric("optimal_welfare", "optimal welfare"),
        Metric("approximation_ratio", "OPT/welfare", right=True)), "OPT / welfare"),
    LinesView("truthful", "Truthful share and mean bid/value", "share, ratio", (
        Metric("truthful_share", "truthful share"),
        Metric("mean_bid_ratio", "mean bid/value"))),
    LinesView("epsilon", "Epsilon (a lower bound: best responses on a grid) and regret",
              "gain", (
                  Metric("max_gain", "epsilon (largest gain)", symbols=True),
                  Metric("mean_gain", "mean gain", symbols=True),
                  Metric("mean_regret", "mean regret", symbols=True))),
    LinesView("winner", "The winner over rounds", "winning DAO (number)", (
        Metric("winner_dao", "winning DAO", points=True),
        Metric("winner_size", "its size", right=True, points=True)), "size"),
)


# --- fans across sessions ----------------------------------------------------------------------

_Q = {name: k for k, name in enumerate(QUANTILE_COLUMNS)}


@dataclass(frozen=True)
class FanView:
    """One headline metric across sessions over rounds (``sessions > 1``): the median, the
    50% and 90% bands and session 0; side by side, one fan per run. Same interface as
    ``LinesView`` (``name``, ``option``, ``points``, ``table``)."""

    column: str
    label: str

    @property
    def name(self) -> str:
        return "fan-" + self.column.replace("_", "-")

    def option(self, runs: Sequence[Run]) -> dict:
        s = runs[0].model.scenario.sessions
        fans = [{"name": "" if len(runs) == 1 else f" · {run.label.split('=', 1)[-1]}",
                 "color": PALETTE[i % len(PALETTE)]} for i, run in enumerate(runs)]
        return fan_option(f"{self.label[0].upper()}{self.label[1:]} across {s} sessions",
                          self.label, fans)

    def points(self, runs: Sequence[Run], start: int) -> dict:
        """``{"series": [...]}`` in ``fan_option``'s order, for recorded rounds after
        ``start``; a round where no session is finite is left out."""
        series = []
        for run in runs:
            series += fan_points(run.model.fans, self.column, start)
        return {"series": series, "xdim": 1}

    def table(self, runs: Sequence[Run]) -> pd.DataFrame:
        """Recorded rounds x (run, round, sessions, q05, q25, median, q75, q95, session_0)."""
        frames = [run.model.fans.table(self.column).assign(run=run.label) for run in runs]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["run", *frame.columns.drop("run")]]


def fan_points(fans, column: str, start: int) -> list[list]:
    """One run's fan series (``fan_option``'s order) for its recorded rounds after ``start``:
    points ``[value, round]``, a band's ``[width, round, lower, upper]`` (value first: see
    ``charts.fan_option``)."""
    j = fans.columns.index(column)
    out: list[list] = [[] for _ in range(2 * len(BANDS) + 2)]
    first = bisect_right(fans.rounds, start)
    for r, q, v in zip(fans.rounds[first:], fans.quantiles[first:], fans.values[first:],
                       strict=True):
        q = q[j]
        if not np.isfinite(q[_Q["median"]]):
            continue
        for b, (_, low, high) in enumerate(BANDS):
            lo, hi = q[_Q[low]], q[_Q[high]]
            out[2 * b].append([finite(lo), r])
            out[2 * b + 1].append([finite(hi - lo), r, finite(lo), finite(hi)])
        out[-2].append([finite(q[_Q["median"]]), r])
        out[-1].append([finite(v[0, j]), r])
    return out


#: The fan charts (headline metrics across sessions), in page order.
FANS = tuple(FanView(column, label) for column, label in HEADLINE.items())


# --- heat maps over rounds ---------------------------------------------------------------------

def by_size_points(run: Run, start: int) -> dict:
    """Mean bid/value per DAO-size bucket over rounds: ``[round, bucket, ratio]``."""
    rows = run.model.by_size_rows
    index = {name: i for i, name in enumerate(SIZE_BUCKET_NAMES)}
    pts = [[r["round"], index[r["dao_size"]], finite(r["mean_bid_ratio"])] for r in rows
           if r["round"] > start and r["dao_size"] in index and r.get("n_members", 1) > 0]
    return {"series": [pts], "x": list(range(start + 1, run.model.steps + 1)), "heat": True}


def by_size_table(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run.model.by_size_rows).assign(run=run.label)


def distribution_points(run: Run, row: int, start: int) -> dict:
    """Share of members per bid/value bin over rounds, for one ``BUCKET_ROWS`` row:
    ``[round, bin, share]`` (empty buckets left out)."""
    h = run.model.history
    pts = [[r, b, float(share)] for r, table in zip(h.rounds[start:], h.hist[start:],
                                                   strict=True)
           for b, share in enumerate(table[row]) if np.isfinite(share)]
    return {"series": [pts], "x": h.rounds[start:], "heat": True}


def distribution_table(run: Run) -> pd.DataFrame:
    """Tidy: run, round, dao_size (all or a bucket), bin (lower edge), share of members."""
    h = run.model.history
    if not h.rounds:
        return pd.DataFrame(columns=["run", "round", "dao_size", "ratio_from", "share"])
    cube = np.stack(h.hist)  # (rounds, rows, bins)
    r, k, b = np.meshgrid(h.rounds, np.arange(len(BUCKET_ROWS)), RATIO_BINS, indexing="ij")
    frame = pd.DataFrame({"round": r.ravel(), "dao_size": np.asarray(BUCKET_ROWS)[k.ravel()],
                          "ratio_from": b.ravel(), "share": cube.ravel()})
    return frame.dropna().assign(run=run.label)[["run", "round", "dao_size", "ratio_from",
                                                 "share"]]


def bin_labels() -> list[str]:
    return [f"{lo:.1f}" + ("+" if i == RATIO_BINS.size - 1 else "")
            for i, lo in enumerate(RATIO_BINS)]
