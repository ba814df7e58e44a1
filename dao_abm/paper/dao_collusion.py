"""Algorithmic collusion when the bidders are DAOs: Banchio & Skrzypacz's question for groups.

Two DAOs of k members each bid for one item every period; every member values it at 1 (a
member with access gets 1 minus its payment) and is a Q-learner exactly as in
``banchio_skrzypacz`` (bids {0.05, ..., 0.95}, α = 0.05, γ = 0.99,
ε_t = 0.025·exp(-0.0002·t), optimistic Q, bandit feedback: each member sees only its own
reward). Ties between DAOs: a fair coin. Three two-level mechanisms:

- ``dao-vickrey`` (Mechanism 1: WTP, second price, max-equal-split): truthful for members;
- ``crowdfund`` (pledges summed, pay your bid, shares pro rata): B&S's first price for groups;
- ``split-the-bill`` (pledges summed, second price, equal split among all members).

With k = 1 dao-vickrey is B&S's second price and crowdfund their first price. The question
(issue #8, §3): does the truthful mechanism resist collusion the way second price does, and
does the crowdfund collude like first price? Measured, per mechanism and k, over sessions:
revenue per member (the price divided by k; at most 0.95 on this grid) of the final greedy
profile and over the last hundredth of the periods, the members' mean final greedy bid, the
share of sessions that converged (greedy profile unchanged for 1,000 periods) and the share
ending at a stage-game Nash equilibrium.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.ensemble.qgame import QGame
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.experiments.stats import mean_ci
from dao_abm.mechanisms import preset
from dao_abm.paper.banchio_skrzypacz import GRID, RECORDS
from dao_abm.paper.common import new_figure

MECHANISMS = ("dao-vickrey", "crowdfund", "split-the-bill")
SIZES = (1, 2, 3, 5)
FULL = (200, 1_000_000)  # sessions, periods
QUICK = ((1, 2), 16, 400_000)  # sizes, sessions, periods
COLORS = {"dao-vickrey": "tab:blue", "crowdfund": "tab:red", "split-the-bill": "tab:green"}


def game(mechanism: str, k: int) -> QGame:
    """Two DAOs of ``k`` members valuing 1 under ``mechanism`` (a preset name)."""
    parts = preset(mechanism)
    return QGame(values=np.ones(2 * k), grid=GRID, price=parts.upper.removesuffix("-price"),
                 groups=np.repeat([0, 1], k), aggregation=parts.aggregation,
                 sharing=parts.cost_sharing, alpha=0.05, gamma=0.99, epsilon=0.025,
                 decay=0.0002, q_init="optimistic", window=1000)


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """Every mechanism and DAO size; quick: k = 1, 2, 16 sessions, 4·10⁵ periods."""
    sizes, sessions, periods = QUICK if quick else (SIZES, *FULL)
    seed = 0 if seed is None else seed
    frames = [_one(m, k, sessions, periods, seed) for m in MECHANISMS for k in sizes]
    return pd.concat(frames, ignore_index=True)


def _one(mechanism: str, k: int, sessions: int, periods: int, seed: int) -> pd.DataFrame:
    ensemble = QEnsemble(game(mechanism, k), periods, range(sessions), seed=seed)
    step, rows = periods // RECORDS, []
    for r in range(RECORDS):
        ensemble.advance(step)
        record = ensemble.metrics(full=r == RECORDS - 1)
        per_member = record["revenue"] / k
        rows.append({"table": "series", "mechanism": mechanism, "k": k,
                     "period": ensemble.rounds_done, "revenue_mean": per_member.mean(),
                     "band_low": np.percentile(per_member, 5),
                     "band_high": np.percentile(per_member, 95)})
    bids = ensemble.greedy_bids()
    measures = {
        "final_revenue": record["greedy_price"] / k,
        "last_revenue": record["revenue"] / k,
        "mean_bid": bids.mean(axis=1),
        "converged_share": record["converged"].astype(float),
        "stage_nash_share": (record["max_gain"] <= 1e-12).astype(float),
    }
    for name, values in measures.items():
        mean, low, high, _ = mean_ci(values)
        rows.append({"table": "summary", "mechanism": mechanism, "k": k, "measure": name,
                     "ours": mean, "ours_low": low, "ours_high": high,
                     "sessions": sessions, "periods": periods})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Left: final revenue per member against DAO size, per mechanism (95% intervals).
    Right: revenue per member over time for the largest k (mean, 5-95% band)."""
    fig, (left, right) = new_figure(2, size=(12, 4.5))
    summary = frame[(frame["table"] == "summary") & (frame["measure"] == "final_revenue")]
    for mechanism, part in summary.groupby("mechanism", sort=False):
        err = np.vstack([part["ours"] - part["ours_low"], part["ours_high"] - part["ours"]])
        left.errorbar(part["k"], part["ours"], yerr=np.nan_to_num(err), marker="o",
                      capsize=3, color=COLORS[mechanism], label=mechanism)
    left.axhline(0.95, color="grey", ls=":", lw=0.8, label="top bid 0.95")
    left.set_xlabel("members per DAO (two DAOs)")
    left.set_ylabel("revenue per member, final greedy bids")
    left.set_ylim(0, 1)
    left.legend(fontsize="small")
    left.set_title("Collusion by Q-learning members")
    series = frame[frame["table"] == "series"]
    k = int(series["k"].max())
    for mechanism, part in series[series["k"] == k].groupby("mechanism", sort=False):
        right.plot(part["period"], part["revenue_mean"], color=COLORS[mechanism],
                   label=mechanism)
        right.fill_between(part["period"], part["band_low"], part["band_high"],
                           color=COLORS[mechanism], alpha=0.2, lw=0)
    right.set_xscale("log")
    right.set_ylim(0, 1)
    right.set_xlabel("period")
    right.set_ylabel("revenue per member per period")
    right.legend(fontsize="small")
    right.set_title(f"Two DAOs of {k}: revenue over time (mean, 5–95% band)")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Final revenue per member and mean bid, per mechanism and k."""
    summary = frame[frame["table"] == "summary"]
    wide = summary.pivot_table(index=["mechanism", "k"], columns="measure", values="ours",
                               sort=False).reset_index()
    low = summary[summary["measure"] == "final_revenue"].set_index(["mechanism", "k"])
    wide["revenue_low"] = low["ours_low"].to_numpy()
    wide["revenue_high"] = low["ours_high"].to_numpy()
    return wide[["mechanism", "k", "final_revenue", "revenue_low", "revenue_high",
                 "last_revenue", "mean_bid", "converged_share", "stage_nash_share"]]
