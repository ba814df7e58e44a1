"""Figures of comparisons and sweeps: means over seeds with 95% confidence bands.

Each function takes aggregated data (``dao_abm.experiments.stats.grouped_ci`` output: the
group columns, ``mean``, ``low``, ``high``) and an optional ``ax``, and returns the Figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dao_abm.figures import figure_of


def bands_over_rounds(bands: pd.DataFrame, by: str, *, ax: Axes | None = None,
                      ylabel: str = "", title: str = "") -> Figure:
    """One line per value of ``by``: the mean over seeds per round, and its band.

    Args:
        bands: columns ``by``, ``round``, ``mean``, ``low``, ``high`` (NaN bounds, as with
            one seed, draw no band).
        by: the column naming a series (``"mechanism"``).
    """
    fig, ax = figure_of(ax)
    for name, group in bands.groupby(by, sort=False):
        line, = ax.plot(group["round"], group["mean"], label=str(name))
        ax.fill_between(group["round"], group["low"], group["high"], color=line.get_color(),
                        alpha=0.2, linewidth=0)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def against_key(points: pd.DataFrame, key: str, by: Sequence[str] = (), *,
                ax: Axes | None = None, ylabel: str = "", title: str = "") -> Figure:
    """The mean and its interval (error bars) against the grid key ``key``, one line per
    combination of the other keys ``by``. Numbers are placed on a numeric axis, anything
    else at equal spacing in the order given."""
    fig, ax = figure_of(ax)
    order = list(dict.fromkeys(points[key]))
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool)
                  for v in order)
    groups = list(points.groupby(list(by), sort=False)) if by else [((), points)]
    for i, (name, group) in enumerate(groups):
        if numeric:
            x = group[key].astype(float)
        else:  # categories: dodge the series so that their error bars do not overlap
            x = group[key].map(order.index) + 0.06 * (i - (len(groups) - 1) / 2)
        error = np.vstack([group["mean"] - group["low"], group["high"] - group["mean"]])
        names = name if isinstance(name, tuple) else (name,)
        label = ", ".join(f"{k}={v}" for k, v in zip(by, names, strict=True))
        ax.errorbar(x, group["mean"], yerr=np.nan_to_num(error), marker="o", capsize=3,
                    linestyle="-" if numeric else "none", label=label or None)
    if not numeric:
        ax.set_xticks(range(len(order)), [str(v) for v in order])
    ax.set_xlabel(key)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if by:
        ax.legend(fontsize="small")
    return fig

