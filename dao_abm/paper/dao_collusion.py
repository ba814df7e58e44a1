"""Algorithmic collusion when the bidders are DAOs: Banchio & Skrzypacz's question for groups.

Two DAOs of k members each (``two-daos``), or one DAO of k members against one individual
bidder (``dao-vs-individual``), bid for one item every period; every member values it at 1
(a member with access gets 1 minus its payment) and is a Q-learner exactly as in
``banchio_skrzypacz`` (bids {0.05, ..., 0.95}, α = 0.05, γ = 0.99,
ε_t = 0.025·exp(-0.0002·t), optimistic Q, bandit feedback: each member sees only its own
reward). Ties between group bids (``TIES``): a fair coin (B&S's rule) on every session, and
ties to the lowest-index group (the engine's rule, ``QGame.ties = "lowest"``) on a fifth of
them (column ``ties``): every collusive crowdfund profile is a tie, so the tie rule decides
whether the crowdfund colludes. Three two-level mechanisms:

- ``dao-vickrey`` (Mechanism 1: WTP, second price, max-equal-split): truthful for members;
- ``crowdfund`` (pledges summed, pay your bid, shares pro rata): B&S's first price for groups;
- ``split-the-bill`` (pledges summed, second price, equal split among all members).

With k = 1 both configurations are B&S's two bidders: dao-vickrey is their second price and
crowdfund their first price. The question (issue #8, §3): does the truthful mechanism
resist collusion the way second price does, and does the crowdfund collude like first
price? Measured, per configuration, mechanism and k, over sessions:

- ``final_revenue``: the price of the final greedy profile (averaged over tie-breaks)
  divided by the losing side's value, min(k, k') for groups of k and k' members of value 1:
  revenue per member for two DAOs of k, the price itself against an individual. Truthful
  bidding under a second-price rule would give 0.95 on this grid (every member at the top
  bid); B&S's first-price collusion gives about 0.24;
- ``last_revenue``: the same normalization of the realized revenue over the last hundredth
  of the periods (exploration included);
- ``mean_bid``: the members' mean final greedy bid; ``dao_bid``, ``other_bid``: the mean
  greedy bid of the first DAO's members and of the other side's;
- ``converged_share``: sessions whose greedy profile did not change in the last 1,000
  periods (B&S's criterion); ``stage_nash_share``: sessions whose final greedy profile is a
  stage-game Nash equilibrium (no member gains, in expected stage reward over tie-breaks,
  by a one-shot deviation to another grid bid); ``tie_share``: sessions whose final greedy
  group bids tie (there the tie rule splits the item; a rule favouring one group would
  change these sessions' payoffs); ``dao_win``: the probability that the first DAO wins at
  the final greedy profile (against an individual the efficient outcome is the DAO, of
  value k > 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.ensemble.q_reference import group_bid
from dao_abm.ensemble.qgame import QGame
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.experiments.stats import mean_ci
from dao_abm.mechanisms import preset
from dao_abm.paper.banchio_skrzypacz import GRID, RECORDS, TIES
from dao_abm.paper.common import new_figure

MECHANISMS = ("dao-vickrey", "crowdfund", "split-the-bill")
#: "two-daos": two DAOs of k; "dao-vs-individual": a DAO of k against one bidder alone.
CONFIGS = ("two-daos", "dao-vs-individual")
SIZES = (1, 2, 3, 5)
FULL = (200, 1_000_000)  # sessions, periods
QUICK = ((1, 2), 16, 400_000)  # sizes, sessions, periods
COLORS = {"dao-vickrey": "tab:blue", "crowdfund": "tab:red", "split-the-bill": "tab:green"}
#: Measures that are shares of sessions (reported without an interval).
SHARES = ("converged_share", "stage_nash_share", "tie_share")


def groups_of(config: str, k: int) -> np.ndarray:
    """Each bidder's group: ``k`` members in group 0, then ``k`` (two DAOs) or one bidder
    (a DAO against an individual) in group 1."""
    if config not in CONFIGS:
        raise ValueError(f"unknown configuration {config!r}; choose one of: "
                         f"{', '.join(CONFIGS)}")
    return np.repeat([0, 1], [k, k if config == "two-daos" else 1])


def game(mechanism: str, k: int, config: str = "two-daos", ties: str = "coin") -> QGame:
    """Groups of members valuing 1 under ``mechanism`` (a preset name): two DAOs of ``k``
    or a DAO of ``k`` against one individual (``config``), group ties broken by ``ties``."""
    parts = preset(mechanism)
    groups = groups_of(config, k)
    return QGame(values=np.ones(groups.size), grid=GRID,
                 price=parts.upper.removesuffix("-price"), groups=groups,
                 aggregation=parts.aggregation, sharing=parts.cost_sharing, alpha=0.05,
                 gamma=0.99, epsilon=0.025, decay=0.0002, q_init="optimistic", window=1000,
                 ties=ties)


def cells(sizes=SIZES) -> list[tuple[str, str, int]]:
    """(config, mechanism, k) of the experiment: two DAOs at every size, a DAO against an
    individual at sizes above 1 (at k = 1 it is the two-DAO game)."""
    return [(config, mechanism, k) for config in CONFIGS for mechanism in MECHANISMS
            for k in sizes if config == "two-daos" or k > 1]


def run(*, seed: int | None = None, quick: bool = False,
        size: tuple[int, int] | None = None) -> pd.DataFrame:
    """Every tie rule, configuration, mechanism and DAO size; quick: k = 1, 2, 16 sessions,
    4·10⁵ periods; ``size`` = (sessions, periods) overrides either; each tie rule runs on
    its share of the sessions (``TIES``)."""
    sizes, sessions, periods = QUICK if quick else (SIZES, *FULL)
    sessions, periods = size or (sessions, periods)
    seed = 0 if seed is None else seed
    frames = [run_cell(config, mechanism, k, max(1, sessions // share), periods, seed, ties)
              for ties, share in TIES.items() for config, mechanism, k in cells(sizes)]
    return pd.concat(frames, ignore_index=True)


def run_cell(config: str, mechanism: str, k: int, sessions: int, periods: int, seed: int,
             ties: str = "coin") -> pd.DataFrame:
    """One tie rule, configuration, mechanism and size: "series" rows (revenue over each
    hundredth of the periods), "profile" rows (final greedy group bids and their counts) and
    "summary" rows (the measures of the module docstring)."""
    the_game = game(mechanism, k, config, ties)
    scale = float(min(np.bincount(the_game.groups)))  # the losing side's value
    ensemble = QEnsemble(the_game, periods, range(sessions), seed=seed)
    step, rows = periods // RECORDS, []
    key = {"ties": ties, "config": config, "mechanism": mechanism, "k": k}
    for r in range(RECORDS):
        ensemble.advance(step)
        record = ensemble.metrics(full=r == RECORDS - 1)
        normalized = record["revenue"] / scale
        rows.append({"table": "series", **key, "period": ensemble.rounds_done,
                     "revenue_mean": normalized.mean(),
                     "band_low": np.percentile(normalized, 5),
                     "band_high": np.percentile(normalized, 95)})
    bids = ensemble.greedy_bids()
    first = the_game.groups == 0
    group_bids = group_bid(the_game, bids)
    measures = {
        "final_revenue": record["greedy_price"] / scale,
        "last_revenue": record["revenue"] / scale,
        "mean_bid": bids.mean(axis=1),
        "dao_bid": bids[:, first].mean(axis=1),
        "other_bid": bids[:, ~first].mean(axis=1),
        "converged_share": record["converged"].astype(float),
        "stage_nash_share": (record["max_gain"] <= 1e-12).astype(float),
        "tie_share": (group_bids[:, 0] == group_bids[:, 1]).astype(float),
        "dao_win": (group_bids[:, 0] > group_bids[:, 1])  # a tie: the coin, or group 0
        + (0.5 if ties == "coin" else 1.0) * (group_bids[:, 0] == group_bids[:, 1]),
    }
    profiles = pd.DataFrame({"group_bid_0": group_bids[:, 0].round(10),
                             "group_bid_1": group_bids[:, 1].round(10)}).value_counts()
    for (g0, g1), count in profiles.items():
        rows.append({"table": "profile", **key, "group_bid_0": g0, "group_bid_1": g1,
                     "sessions": int(count), "share": count / sessions})
    for name, values in measures.items():
        mean, low, high, _ = mean_ci(np.asarray(values, dtype=float))
        rows.append({"table": "summary", **key, "measure": name, "ours": mean,
                     "ours_low": low, "ours_high": high, "sessions": sessions,
                     "periods": periods, "seed": seed})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Left, middle: final revenue per unit of the losing side's value against DAO size, per
    mechanism (two DAOs: solid; a DAO against an individual: dashed; 95% intervals), with
    fair-coin ties and with ties to the lowest-index group. Right: revenue over time for two
    DAOs of the largest k, fair-coin ties (mean, 5-95% band)."""
    fig, (*panels, right) = new_figure(3, size=(17, 4.8))
    summary = frame[(frame["table"] == "summary") & (frame["measure"] == "final_revenue")]
    titles = {"coin": "fair-coin ties (B&S)", "lowest": "ties to the lowest-index group"}
    for ax, ties in zip(panels, TIES, strict=True):
        part_ties = summary[summary["ties"] == ties]
        for (config, mechanism), part in part_ties.groupby(["config", "mechanism"],
                                                           sort=False):
            err = np.vstack([part["ours"] - part["ours_low"],
                             part["ours_high"] - part["ours"]])
            alone = config == "dao-vs-individual"
            ax.errorbar(part["k"] + (0.08 if alone else 0.0), part["ours"],
                        yerr=np.nan_to_num(err), marker="s" if alone else "o", capsize=3,
                        ls="--" if alone else "-", mfc="white" if alone else None,
                        color=COLORS[mechanism],
                        label=f"{mechanism}, {'DAO vs individual' if alone else 'two DAOs'}")
        ax.axhline(0.95, color="grey", ls=":", lw=0.8, label="top bid 0.95")
        ax.set_xlabel("members per DAO (k)")
        ax.set_ylabel("final greedy price / losing side's value")
        ax.set_ylim(0, 1.3)
        ax.set_xticks(sorted(summary["k"].unique()))
        sessions = int(frame.loc[(frame["table"] == "summary") & (frame["ties"] == ties),
                                 "sessions"].max())
        ax.set_title(f"Collusion by Q-learning members: {titles[ties]}\n"
                     f"({sessions} sessions per cell)", fontsize="medium")
    panels[0].legend(fontsize="x-small", ncol=2, loc="upper center")
    series = frame[(frame["table"] == "series") & (frame["config"] == "two-daos")
                   & (frame["ties"] == "coin")]
    k = int(series["k"].max())
    for mechanism, part in series[series["k"] == k].groupby("mechanism", sort=False):
        right.plot(part["period"], part["revenue_mean"], color=COLORS[mechanism],
                   label=mechanism)
        right.fill_between(part["period"], part["band_low"], part["band_high"],
                           color=COLORS[mechanism], alpha=0.2, lw=0)
    right.set_xscale("log")
    right.set_ylim(0, 1.05)
    right.set_xlabel("period")
    right.set_ylabel("revenue per member per period")
    right.legend(fontsize="small")
    right.set_title(f"Two DAOs of {k}: revenue over time\n(fair-coin ties; mean, 5–95% band)",
                    fontsize="medium")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per tie rule, configuration, mechanism and k: final revenue (95% interval), last
    revenue, mean bid and the shares of sessions converged, at a stage Nash equilibrium and
    tied."""
    summary = frame[frame["table"] == "summary"]
    index = ["ties", "config", "mechanism", "k"]
    wide = summary.pivot_table(index=index, columns="measure", values="ours",
                               sort=False).reset_index()
    low = summary[summary["measure"] == "final_revenue"].set_index(index)
    wide = wide.set_index(index)
    wide["revenue_low"] = low["ours_low"]
    wide["revenue_high"] = low["ours_high"]
    return wide.reset_index()[[*index, "final_revenue", "revenue_low", "revenue_high",
                               "last_revenue", "dao_bid", "other_bid", "converged_share",
                               "stage_nash_share", "tie_share", "dao_win"]]
