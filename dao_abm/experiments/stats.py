"""Means over seeds with Student-t confidence intervals, for comparisons and sweeps.

The interval of ``n`` independent replicates (one per seed) is the textbook t-interval

    mean ± t_{(1 + c) / 2, n - 1} · s / √n,    s the sample standard deviation (ddof 1),

with ``t`` from ``scipy.stats.t``. With one replicate there is no interval (NaN bounds).
Non-finite values (OPT/welfare is inf when welfare is 0; a run that never converged has no
convergence round) are left out, and ``n`` counts only the values used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

CONFIDENCE = 0.95

#: Column of a summary table -> (key of a run's summary, short label, meaning).
MEASURES: dict[str, tuple[str, str, str]] = {
    "ratio_final": ("approximation_ratio", "OPT/W last", "OPT / welfare in the last round"),
    "ratio_mean": ("mean_approximation_ratio", "OPT/W avg",
                   "OPT / welfare averaged over rounds (time average)"),
    "truthful_final": ("truthful_share", "truthful last", "share of truthful bids, last round"),
    "truthful_mean": ("mean_truthful_share", "truthful avg",
                      "share of truthful bids averaged over rounds"),
    "epsilon": ("max_gain", "epsilon", "largest gain from a best response (max_gain), last "
                                       "round"),
    "revenue": ("mean_revenue", "revenue", "auctioneer revenue per round, averaged"),
    "converged_round": ("converged_round", "converged", "first round of the converged window, "
                                                        "over the runs that converged"),
}


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE
            ) -> tuple[float, float, float, int]:
    """``(mean, low, high, n)`` of the finite ``values``; NaN bounds when ``n < 2``."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(_t().ppf((1 + confidence) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def grouped_ci(frame: pd.DataFrame, by: Sequence[str], column: str,
               confidence: float = CONFIDENCE) -> pd.DataFrame:
    """``mean_ci`` of ``column`` per group of ``by`` (groups in order of appearance).

    Returns:
        One row per group: the ``by`` columns, ``mean``, ``low``, ``high``, ``n``.
    """
    x = pd.to_numeric(frame[column], errors="coerce").astype(float)
    x = x.where(np.isfinite(x))
    grouped = x.groupby([frame[key] for key in by], sort=False)
    out = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1),
                        "n": grouped.count()})
    n = out["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t = _t().ppf((1 + confidence) / 2, np.where(n >= 2, n - 1, 1))
        half = np.where(n >= 2, t * out["sd"].to_numpy() / np.sqrt(n), np.nan)
    out["low"] = out["mean"] - half
    out["high"] = out["mean"] + half
    return out.drop(columns="sd").reset_index()[[*by, "mean", "low", "high", "n"]]


def summary_table(runs: pd.DataFrame, by: Sequence[str],
                  confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean and interval of every ``MEASURES`` column per group of ``by``.

    Args:
        runs: one row per run (grid point x seed) with the summary keys of ``MEASURES``.
        by: the columns that name a group (``["mechanism"]``, the grid keys).

    Returns:
        The ``by`` columns, ``runs``, then per measure ``<name>``, ``<name>_ci_low``,
        ``<name>_ci_high``, and ``converged`` (how many runs converged).
    """
    table = runs.groupby(list(by), sort=False).size().rename("runs").reset_index()
    for name, (key, _, _) in MEASURES.items():
        if key not in runs:
            continue
        ci = grouped_ci(runs, by, key, confidence)
        table[name] = ci["mean"].to_numpy()
        table[f"{name}_ci_low"] = ci["low"].to_numpy()
        table[f"{name}_ci_high"] = ci["high"].to_numpy()
        if name == "converged_round":
            table["converged"] = ci["n"].to_numpy()
    return table


def format_table(table: pd.DataFrame, by: Sequence[str]) -> str:
    """``summary_table`` as aligned text, each measure as ``mean ± half-width``."""
    names = [name for name in MEASURES if name in table]
    rows = [[*by, *(MEASURES[name][1] for name in names)]]
    for _, row in table.iterrows():
        cells = [_label(row[key]) for key in by]
        cells += [_estimate(row[name], row[f"{name}_ci_high"]) for name in names]
        if "converged" in table:
            cells[-1] += f" ({int(row['converged'])}/{int(row['runs'])})"
        rows.append(cells)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True))
                     .rstrip() for r in rows)


def _estimate(mean: float, high: float) -> str:
    if not np.isfinite(mean):
        return "-"
    if not np.isfinite(high):
        return f"{mean:.4g}"
    return f"{mean:.4g} ± {high - mean:.2g}"


def _label(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _t():
    """Student's t from scipy.stats, imported on first use: it costs ~0.8 s, and every
    ``dao-abm`` command imports this module."""
    from scipy.stats import t

    return t
