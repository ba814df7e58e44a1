"""Fan charts' numbers: a metric's quantiles across sessions, recorded round by recorded round.

A fan chart draws, per recorded round, the median across sessions and two bands around it:
the 50% band (25% to 75%) and the 90% band (5% to 95%). Quantiles are numpy's default
(linear interpolation between order statistics, ``np.quantile``) over the sessions whose
value is finite that round; ``n`` counts them. A round where no session has a finite value
(ε is measured every ``metrics.epsilon_every`` rounds only) has no quantiles (NaN). An
infinite OPT/welfare (a round with zero welfare) counts as missing, as everywhere a ratio
is averaged over rounds (``runner.ratio_summary`` counts such rounds).

``HEADLINE`` names the metrics drawn both by the live page (``dao-abm viz`` with
``sessions > 1``) and by a run folder's ``figures/fans.png``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The quantiles drawn, and their column names in the tables.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_COLUMNS = ("q05", "q25", "median", "q75", "q95")
#: The bands: (label, lower column, upper column), widest first.
BANDS = (("90% of sessions", "q05", "q95"), ("50% of sessions", "q25", "q75"))
#: metrics.csv column -> label, for the headline metrics drawn as fans.
HEADLINE = {
    "truthful_share": "truthful share",
    "approximation_ratio": "OPT / welfare",
    "max_gain": "epsilon (largest gain)",
    "revenue": "revenue",
    "winner_size": "winning DAO's size",
}


def fan_quantiles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles over the last axis (sessions), ignoring non-finite entries.

    Args:
        x: ``(..., sessions)`` one metric of every session.

    Returns:
        ``(..., 5)`` the ``QUANTILES`` (NaN where no session is finite) and ``(...)`` the
        number of finite sessions.
    """
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    n = finite.sum(axis=-1)
    out = np.full((*x.shape[:-1], len(QUANTILES)), np.nan)
    some = n > 0
    if some.any():
        kept = np.where(finite, x, np.nan)[some]
        out[some] = np.moveaxis(np.nanquantile(kept, QUANTILES, axis=-1), 0, -1)
    return out, n


def fan_table(metrics: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy quantiles across sessions of a tidy ``metrics.csv`` (one row per session and
    recorded round): ``metric, round, n, q05, q25, median, q75, q95``, by metric then round.

    Args:
        metrics: with ``round`` and the ``columns`` (default: ``HEADLINE`` found there).
    """
    if columns is None:
        columns = [c for c in HEADLINE if c in metrics.columns]
    frames = []
    for column in columns:
        wide = metrics.set_index(["round", "session"])[column].unstack("session")
        q, n = fan_quantiles(wide.to_numpy(dtype=np.float64))
        frame = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
        frame.insert(0, "n", n)
        frame.insert(0, "round", wide.index.to_numpy())
        frame.insert(0, "metric", column)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["metric", "round", "n", *QUANTILE_COLUMNS])
    return pd.concat(frames, ignore_index=True)
