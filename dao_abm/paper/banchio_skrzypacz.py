"""Banchio & Skrzypacz (2022), "Artificial Intelligence and Auction Design" (arXiv:2202.05947),
Figure 1 and §4: Q-learning bidders collude in first-price auctions but not in second-price.

Two bidders with common value 1 bid on {0.05, 0.10, ..., 0.95}; stateless Q-learning with
α = 0.05, γ = 0.99, ε_t = 0.025·exp(-0.0002·t), optimistic initial Q-values
(max_b (v - b)⁺/(1 - γ) = 95 for every bid; B&S do not give the number), bandit feedback,
ties split by a fair coin; 10⁶ periods and 1,000 sessions per price rule. The setting is
``models/banchio_skrzypacz.toml``, run by the compiled kernel (``dao_abm.ensemble``).

Reported by B&S: first price converges to low bids, revenue about 0.24 (their Figure 1's
counts imply 0.2265); second price to about 0.95, with 994 of 1,000 sessions at
(0.95, 0.95). We report the revenue of the final greedy profile and the realized revenue
over the last 1% of periods, each as a mean over sessions with its 95% t-interval, the
share of sessions that converged (greedy profile unchanged for the last 1,000 periods),
and the distribution of final greedy bid profiles.

The tie rule decides the answer: B&S break ties by a fair coin; with the engine's rule
(ties to the lowest index, here bidder 1) the same learners do not collude under first price
(the final greedy price is 0.95) and do not settle under second price (realized revenue
about 1/2: the bidder who never wins a tie earns 0 whatever it bids, so its Q-values only
decay and its greedy bid wanders). ``run`` measures both: fair-coin ties on every session,
lowest-index ties on a fifth of them (column ``ties``).

The frame has three kinds of rows (``table``): "series" (mean revenue per period over each
hundredth of the horizon: mean over sessions, 95% interval of that mean, and the 5-95%
band of the sessions), "profile" (final greedy bid profiles and their counts) and
"summary" (the measures above beside B&S's numbers).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.ensemble.kernel import kernel_game
from dao_abm.ensemble.qgame import QGame
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.experiments.stats import mean_ci
from dao_abm.paper.common import MODELS, new_figure
from dao_abm.scenario import load_scenario

GRID = np.round(np.arange(1, 20) * 0.05, 2)
PRICES = ("first", "second")
#: B&S's reported numbers (their §4 and Figure 1): measure -> price rule -> value.
THEIRS = {
    "final_revenue": {"first": 0.24, "second": 0.95},
    "share_at_top": {"first": 0.0, "second": 0.994},
}
FULL = (1000, 1_000_000)  # sessions, periods
QUICK = (50, 400_000)
RECORDS = 100


#: The tie rules measured ("coin": B&S's; "lowest": the engine's) and the share of the
#: sessions each runs.
TIES = {"coin": 1, "lowest": 5}


def game(price: str, ties: str = "coin") -> QGame:
    """B&S's setting under ``price`` ("first" or "second"): ``models/banchio_skrzypacz.toml``
    as the kernel runs it, ties broken by ``ties`` (``QGame.ties``)."""
    scenario = load_scenario(MODELS / "banchio_skrzypacz.toml",
                             [f"mechanism.upper='{price}-price'"])
    return dataclasses.replace(kernel_game(scenario), ties=ties)


def run(*, seed: int | None = None, quick: bool = False,
        size: tuple[int, int] | None = None) -> pd.DataFrame:
    """Both price rules under both tie rules (``TIES``); ``size`` = (sessions, periods)
    overrides FULL / QUICK."""
    sessions, periods = size or (QUICK if quick else FULL)
    seed = 0 if seed is None else seed
    frames = [_one_rule(price, max(1, sessions // share), periods, seed, ties).assign(ties=ties)
              for ties, share in TIES.items() for price in PRICES]
    return pd.concat(frames, ignore_index=True)


def _one_rule(price: str, sessions: int, periods: int, seed: int, ties: str) -> pd.DataFrame:
    ensemble = QEnsemble(game(price, ties), periods, range(sessions), seed=seed)
    step = periods // RECORDS
    rows = []
    for r in range(RECORDS):
        ensemble.advance(step)
        record = ensemble.metrics(full=r == RECORDS - 1)
        mean, low, high, _ = mean_ci(record["revenue"])
        band = np.percentile(record["revenue"], [5, 95])
        rows.append({"table": "series", "price": price, "period": ensemble.rounds_done,
                     "revenue_mean": mean, "revenue_low": low, "revenue_high": high,
                     "band_low": band[0], "band_high": band[1]})
    bids = ensemble.greedy_bids()
    profiles = pd.DataFrame({"bid_0": bids[:, 0], "bid_1": bids[:, 1]}).value_counts()
    for (b0, b1), count in profiles.items():
        rows.append({"table": "profile", "price": price, "bid_0": b0, "bid_1": b1,
                     "sessions": int(count), "share": count / sessions})
    measures = {
        "final_revenue": record["greedy_price"],
        "last_revenue": record["revenue"],
        "converged_share": record["converged"].astype(float),
        "share_at_top": (bids == GRID[-1]).all(axis=1).astype(float),
        "stage_nash_share": (record["max_gain"] <= 1e-12).astype(float),
    }
    for name, values in measures.items():
        mean, low, high, _ = mean_ci(values)
        if name in ("converged_share", "share_at_top", "stage_nash_share"):
            low = high = np.nan  # a share, reported as is
        rows.append({"table": "summary", "price": price, "measure": name, "ours": mean,
                     "ours_low": low, "ours_high": high, "sessions": sessions,
                     "periods": periods,
                     "theirs": THEIRS.get(name, {}).get(price, np.nan) if ties == "coin"
                     else np.nan})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Left: revenue per period over time (mean over sessions, 5-95% band of sessions) under
    fair-coin ties (solid) and lowest-index ties (dotted), and B&S's reported final
    revenues. Middle, right: final greedy bid profiles per rule (fair-coin ties)."""
    fig, axes = new_figure(3, size=(15, 4.5))
    left = axes[0]
    series = frame[frame["table"] == "series"]
    for price, color in zip(PRICES, ("tab:red", "tab:blue"), strict=True):
        part = series[(series["price"] == price) & (series["ties"] == "coin")]
        left.plot(part["period"], part["revenue_mean"], color=color, label=f"{price} price")
        left.fill_between(part["period"], part["band_low"], part["band_high"], color=color,
                          alpha=0.2, lw=0)
        lowest = series[(series["price"] == price) & (series["ties"] == "lowest")]
        left.plot(lowest["period"], lowest["revenue_mean"], color=color, ls=":",
                  label=f"{price} price, ties to bidder 1")
        theirs = THEIRS["final_revenue"][price]
        left.axhline(theirs, color=color, ls="--", lw=0.8,
                     label=f"B&S {price} price ≈ {theirs}")
    left.set_xscale("log")
    left.set_xlabel("period")
    left.set_ylabel("revenue per period")
    left.set_ylim(0, 1)
    left.legend(fontsize="small", loc="center left")
    left.set_title("Revenue (mean over sessions, 5–95% band)")
    profiles = frame[(frame["table"] == "profile") & (frame["ties"] == "coin")]
    for ax, price in zip(axes[1:], PRICES, strict=True):
        part = profiles[profiles["price"] == price]
        counts = np.zeros((GRID.size, GRID.size))
        i = np.searchsorted(GRID, part["bid_0"].to_numpy() - 1e-9)
        j = np.searchsorted(GRID, part["bid_1"].to_numpy() - 1e-9)
        counts[j, i] = part["sessions"].to_numpy()
        image = ax.imshow(counts, origin="lower", cmap="Greys",
                          extent=(0.025, 0.975, 0.025, 0.975))
        fig.colorbar(image, ax=ax, label="sessions")
        ax.set_xlabel("bidder 1's final greedy bid")
        ax.set_ylabel("bidder 2's final greedy bid")
        total = int(part["sessions"].sum())
        ax.set_title(f"{price} price: final bids ({total} sessions, fair-coin ties)")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The summary rows: ours (mean, 95% interval) beside B&S's."""
    summary = frame[frame["table"] == "summary"]
    return summary[["ties", "price", "measure", "ours", "ours_low", "ours_high", "theirs",
                    "sessions", "periods"]].reset_index(drop=True)
