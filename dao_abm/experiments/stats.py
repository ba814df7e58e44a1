"""Means over seeds with Student-t confidence intervals, for comparisons and sweeps.

The interval of ``n`` independent replicates (one per seed) is the textbook t-interval

    mean ± t_{(1 + c) / 2, n - 1} · s / √n,    s the sample standard deviation (ddof 1),

with ``t`` from ``scipy.stats.t``. With one replicate there is no interval (NaN bounds).
Missing values (a run that never converged has no convergence round) are left out, and
``n`` counts only the values used.

OPT/welfare is infinite for a run whose welfare is 0 (its summary holds null), so a mean of
ratios over runs is undefined there. Such runs are never dropped: for the ratio measures
(``RATIO_SUMS``) a group with one uses the ratio of sums ΣOPT/ΣW over its runs instead (no
interval), and ``<measure>_zero_welfare`` counts them.
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


#: Ratio measure -> (numerator, denominator) summary keys of its ratio of sums over runs.
RATIO_SUMS: dict[str, tuple[str, str]] = {
    "ratio_final": ("optimal_welfare", "welfare"),
    "ratio_mean": ("mean_optimal_welfare", "mean_welfare"),
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
        ``<name>_ci_high``, ``converged`` (how many runs converged), per ratio measure
        ``<name>_zero_welfare`` (runs with zero welfare; see the module docstring) and
        ``zero_welfare_rounds`` (rounds with zero welfare over the group's runs).
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
        if name in RATIO_SUMS and set(RATIO_SUMS[name]) <= set(runs):
            _ratio_of_sums(table, runs, by, name)
    if "zero_welfare_rounds" in runs:  # rounds of the group's runs with infinite OPT/W
        zero = pd.to_numeric(runs["zero_welfare_rounds"], errors="coerce").fillna(0)
        table["zero_welfare_rounds"] = zero.groupby([runs[k] for k in by], sort=False
                                                    ).sum().to_numpy().astype(int)
    return table


def _ratio_of_sums(table: pd.DataFrame, runs: pd.DataFrame, by: Sequence[str],
                   name: str) -> None:
    """Where a group has runs with zero welfare (and OPT > 0), replace its mean of ratios
    by ΣOPT/ΣW over the group's runs (no interval); count those runs."""
    top, bottom = RATIO_SUMS[name]
    num, den = (pd.to_numeric(runs[k], errors="coerce").astype(float) for k in (top, bottom))
    keys = [runs[k] for k in by]
    sums = pd.DataFrame({"num": num, "den": den, "zero": (den <= 0) & (num > 0)}
                        ).groupby(keys, sort=False).sum()
    zero = sums["zero"].to_numpy().astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        of_sums = np.where(sums["den"] > 0, sums["num"] / sums["den"], np.inf)
    table[f"{name}_zero_welfare"] = zero
    for col, value in ((name, of_sums), (f"{name}_ci_low", np.nan),
                       (f"{name}_ci_high", np.nan)):
        table[col] = np.where(zero > 0, value, table[col].to_numpy())


def format_table(table: pd.DataFrame, by: Sequence[str]) -> str:
    """``summary_table`` as aligned text, each measure as ``mean ± half-width``; a ratio of
    sums (groups with zero-welfare runs) is marked ``*`` and explained below the table."""
    names = [name for name in MEASURES if name in table]
    rows = [[*by, *(MEASURES[name][1] for name in names)]]
    notes = []
    for _, row in table.iterrows():
        cells = [_label(row[key]) for key in by]
        for name in names:
            cell = _estimate(row[name], row[f"{name}_ci_high"])
            zero = int(row.get(f"{name}_zero_welfare", 0))
            if zero:
                cell += "*"
                notes.append(f"* {', '.join(_label(row[k]) for k in by)}: {MEASURES[name][1]} "
                             f"is ΣOPT/ΣW over the runs: {zero} of {int(row['runs'])} had "
                             "zero welfare (infinite OPT/W)")
            cells.append(cell)
        if "converged" in table:
            cells[-1] += f" ({int(row['converged'])}/{int(row['runs'])})"
        rows.append(cells)
        if int(row.get("zero_welfare_rounds", 0)):
            notes.append(f"{', '.join(_label(row[k]) for k in by)}: "
                         f"{int(row['zero_welfare_rounds'])} rounds with zero welfare over "
                         f"{int(row['runs'])} runs (OPT/W avg is then ΣOPT/ΣW per run)")
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    return "\n".join(lines + notes)


def _estimate(mean: float, high: float) -> str:
    if np.isinf(mean):
        return "inf"
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
