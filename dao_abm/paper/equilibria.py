"""Bayes–Nash equilibria of single-item auctions learned by SODA, against the closed forms.

The ground of bnelearn and SODA (``/work/shared/literature.md``): n = 2, 3, 5, 10 bidders
with i.i.d. U[0, 1] values, in first price, first price with the reserve r = 1/2 (Myerson's
optimal reserve for U[0, 1]) and all-pay. Symmetric SODA learns on the discretized game
(``equilibrium.soda.Settings.for_auction``: 128 x 128 grid points, ties lose, per-knot
scaled steps; all-pay on 256 bids crowded towards 0 with raw steps), the learned
distributional strategy is read off as a monotone bid function, and the literature's
metrics compare it with the closed form in the continuous game (``equilibrium.metrics`` on
8,192 prior quantiles; best responses by a 513-point bid search refined once). Targets
(issue #9): L2 ≤ 0.01 and relative utility loss ≤ 0.002 at every n, each run under 30 s;
SODA reports L2 ≈ 0.008 and relative utility loss ≈ 0.002 for n = 2 first price.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.metrics import equilibrium_metrics
from dao_abm.equilibrium.soda import Settings, learn
from dao_abm.paper.common import new_figure

NS = (2, 3, 5, 10)
QUICK_NS = (2, 3)
#: Myerson's optimal reserve for U[0, 1] values.
RESERVE = 0.5
#: Values at which the learned and the equilibrium bid functions are tabulated.
CURVE = np.linspace(0.0, 1.0, 101)
METRIC_COLUMNS = ["l2_to_bne", "linf_to_bne", "utility_loss", "relative_utility_loss",
                  "epsilon_interim"]
COLUMNS = ["auction", "reserve", "n", "seed", "value", "learned_bid", "equilibrium_bid",
           *METRIC_COLUMNS, "iterations", "discrete_loss", "value_points", "bid_points",
           "learn_seconds", "metric_seconds"]


def quick_settings(settings: Settings) -> Settings:
    """SODA's 64-point grids and at most 1,500 steps, for tests."""
    return replace(settings, value_points=64, bid_points=settings.bid_points // 2,
                   iterations=min(settings.iterations, 1500), tol=1e-4)


def run_game(auction: str, reserve: float, *, seed: int | None, quick: bool) -> pd.DataFrame:
    """One SODA run per n; rows are the curve points of each n, with its metrics."""
    settings = Settings.for_auction(auction)
    settings = quick_settings(settings) if quick else settings
    rows = []
    for n in QUICK_NS if quick else NS:
        game = Game(auction, n, reserve=reserve)
        rng = np.random.default_rng([0 if seed is None else seed, n])
        start = time.perf_counter()
        profile, state, disc = learn(game, settings, rng=rng)
        learned = time.perf_counter()
        metrics = equilibrium_metrics(profile, game)
        measured = time.perf_counter()
        equilibrium = game.equilibrium.bid(CURVE, n, reserve)
        shared = {"auction": auction, "reserve": reserve, "n": n,
                  "seed": 0 if seed is None else seed, **metrics,
                  "iterations": state.iteration,
                  "discrete_loss": float(state.relative_loss.max()),
                  "value_points": disc.values.size, "bid_points": disc.bids.size,
                  "learn_seconds": learned - start, "metric_seconds": measured - learned}
        bids = profile(CURVE)[0]
        bids = np.where(bids < reserve, 0.0, bids)  # below the reserve: no part, as β* has it
        rows += [{**shared, "value": v, "learned_bid": b, "equilibrium_bid": e}
                 for v, b, e in zip(CURVE, bids, equilibrium, strict=True)]
    return pd.DataFrame(rows, columns=COLUMNS)


def run_first_price(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """First price, no reserve: b = (n − 1)/n · v."""
    return run_game("first-price", 0.0, seed=seed, quick=quick)


def run_reserve(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """First price with reserve 1/2: b = v − (vⁿ − rⁿ)/(n vⁿ⁻¹) for v ≥ r."""
    return run_game("first-price", RESERVE, seed=seed, quick=quick)


def run_all_pay(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """All-pay: b = (n − 1)/n · vⁿ."""
    return run_game("all-pay", 0.0, seed=seed, quick=quick)


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per n: the metrics, SODA's iterations and the seconds."""
    per_n = frame.drop_duplicates("n")
    return per_n[["n", "l2_to_bne", "relative_utility_loss", "epsilon_interim",
                  "iterations", "learn_seconds", "metric_seconds"]].reset_index(drop=True)


def plot(frame: pd.DataFrame) -> Figure:
    """One panel per n: the learned bid function over the closed form, metrics inset."""
    ns = sorted(frame["n"].unique())
    fig, axes = new_figure(len(ns), size=(3.2 * len(ns), 3.6))
    for ax, n in zip(axes, ns, strict=True):
        part = frame[frame["n"] == n]
        row = part.iloc[0]
        ax.plot(part["value"], part["equilibrium_bid"], color="black", lw=2.5, alpha=0.35,
                label="equilibrium (closed form)")
        ax.plot(part["value"], part["learned_bid"], color="tab:blue", lw=1.2, ls="--",
                label="SODA")
        ax.set_title(f"n = {n}")
        ax.set_xlabel("value v")
        ax.text(0.03, 0.97, f"L2 = {row['l2_to_bne']:.4f}\n"
                f"rel. utility loss = {row['relative_utility_loss']:.5f}\n"
                f"{row['learn_seconds']:.2f} s", transform=ax.transAxes, va="top",
                fontsize="small")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("bid b(v)")
    axes[-1].legend(fontsize="small", loc="lower right")
    row = frame.iloc[0]
    reserve = f", reserve {row['reserve']:g}" if row["reserve"] > 0 else ""
    fig.suptitle(f"{row['auction']}{reserve}, U[0, 1] values: SODA "
                 f"({int(row['value_points'])} x {int(row['bid_points'])} grid points) "
                 "against the Bayes–Nash equilibrium")
    return fig
