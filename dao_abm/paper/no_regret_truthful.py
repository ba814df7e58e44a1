"""Truthful bidding emerging under no-regret learning, by DAO size (issue #8, §3).

Two DAOs of k members (k = 1, 2, 4, ..., 32; also one DAO of k against a single bidder),
every member with a fresh U[0, 1] value each round, one item. Each member learns a shading
factor (bid = factor × value) on a grid holding 1, with the library's ``hedge`` (full
feedback: what every factor would have paid against the others' actual bids this round)
or ``exp3`` (bandit feedback: only the realized payoff), under ``dao-vickrey`` (Mechanism 1),
``crowdfund`` and ``split-the-bill``, over many independent sessions
(``dao_abm.noregret``: a compiled loop held equal, choice for choice, to the registered
rule objects).

Measured per session, over the DAOs' members (against a single bidder: the DAO's members
only): the mean over members of the weight on factor 1 (``w1``), the share
of members whose weight on 1 exceeds 1/2, the mean expected factor, and **rounds to
truthful**: the first recorded round at which the session's mean weight on factor 1 reaches
``THRESHOLD`` = 0.9 (Hedge at weight 0.9 on truthful bids plays it nine rounds in ten; EXP3's
floor of γ/K on every factor caps its weight at 1 − γ + γ/K = 0.955). Where a finer grid
splits the weight between 1 and 0.99, the grid-free **rounds to near-truthful** (the mean
expected factor reaches 0.98) is reported too.

Why the rounds grow with k, and why they level off. Hedge plays 1 over α with odds
exp(η·G_α(t)), G_α(t) the cumulative gain of 1 over α in units of the value; against
truthful others G_α(t) ≈ t·Δ_α with Δ_α = E[(u(1) − u(α))/v]. So the weight on 1 reaches 0.9
near the t solving Σ_{α<1} exp(−η t Δ_α) = 1/9, about ln 9 / (η Δ_0.9) rounds (``theory``
rows: Δ by Monte Carlo on the compiled auction). Under Mechanism 1 factor 0.9 and 1 differ
only when the member's critical bid p/s_max (its equal share of the price) lies in
(0.9v, v]: the pivot probability. It falls with k as the price per head concentrates, but
not to zero: a member's bid decides its own access to the equal-split set however large
the DAO, so Δ and the rounds to truthful level off. Against a single bidder the price is one
bid, the price per head falls like 1/k, and so do the pivot probability and Δ: there the
rounds grow about linearly in k.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.experiments.stats import mean_ci
from dao_abm.noregret import FACTORS, Setting
from dao_abm.noregret import run as run_sessions
from dao_abm.noregret.auction import MECHANISMS, deviation_table
from dao_abm.paper.common import new_figure

SIZES = (1, 2, 4, 8, 16, 32)
KNOB_SIZES = (1, 4, 16)
#: Weight on factor 1 (mean over a session's members) that counts as truthful.
THRESHOLD = 0.9
#: Mean expected factor that counts as near-truthful (grid-free).
NEAR = 0.98
#: The grids: tenths (the main one), with fine factors near 1, and with a zero bid (then
#: group bids can tie, and the engine's tie rule, lowest group index wins, decides them).
GRIDS = {
    "tenths": FACTORS,
    "fine": (*FACTORS[:9], 0.95, 0.98, 0.99, 1.0),
    "zero": (0.0, *FACTORS),
}
COLUMNS = ["part", "label", "mechanism", "rule", "opponent", "k", "eta", "grid", "seed",
           "sessions", "rounds", "session", "round", "w1", "w1_low", "w1_high", "share",
           "factor", "factor_low", "factor_high", "modal", "w1_first", "w1_other",
           "factor_first", "factor_other", "rounds_to_truthful", "rounds_to_near",
           "delta", "delta_half", "pivot", "predicted_rounds", "seconds"]


@dataclass(frozen=True)
class Cell:
    """One configuration: a ``Setting`` plus how it is labelled."""

    part: str
    label: str
    mechanism: str
    rule: str
    k: int
    opponent: str = "dao"
    grid: str = "tenths"
    params: dict = field(default_factory=dict)
    sessions: int = 64
    rounds: int = 10_000
    every: int = 50
    seed: int = 0

    def setting(self) -> Setting:
        sizes = (self.k, self.k) if self.opponent == "dao" else (self.k, 1)
        return Setting(self.mechanism, sizes, self.rule, dict(self.params),
                       GRIDS[self.grid], self.sessions, self.rounds, self.every, self.seed)

    @property
    def eta(self) -> float:
        return float(self.setting().learner().params.eta)


def cells(seed: int, quick: bool) -> list[Cell]:
    """Every configuration of the experiment (``quick``: a few small ones, for tests)."""
    if quick:
        return [Cell("main", "hedge", m, "hedge", k, sessions=4, rounds=3000, every=100,
                     seed=seed) for m in MECHANISMS for k in (1, 2)] + [
            Cell("exp3", "exp3", "dao-vickrey", "exp3", 1, sessions=4, rounds=4000,
                 every=200, seed=seed)]
    out = [Cell("main", "hedge", m, "hedge", k, seed=seed) for m in MECHANISMS for k in SIZES]
    out += [Cell("main", "hedge, DAO vs one bidder", "dao-vickrey", "hedge", k,
                 opponent="bidder", sessions=16, rounds=100_000, every=500, seed=seed)
            for k in SIZES[1:]]
    out += [Cell("main", "hedge, DAO vs one bidder", "crowdfund", "hedge", k,
                 opponent="bidder", seed=seed) for k in SIZES[1:]]
    knobs = [("eta 0.1", {"params": {"eta": 0.1}, "rounds": 40_000, "every": 200}),
             ("eta 2", {"params": {"eta": 2.0}, "every": 25}),
             ("fine grid", {"grid": "fine", "rounds": 40_000, "every": 200}),
             ("zero in grid", {"grid": "zero"}),
             ("seed +1", {"seed": seed + 1})]
    for label, kw in knobs:
        kw = {"seed": seed, "sessions": 32, **kw}
        out += [Cell("knob", f"hedge, {label}", m, "hedge", k, **kw)
                for m in MECHANISMS[:2] for k in KNOB_SIZES]
    out += [Cell("exp3", "exp3", m, "exp3", k, sessions=16, rounds=200_000, every=2000,
                 seed=seed) for m in MECHANISMS for k in (1, 2, 4)]
    return out


def first_reach(curve: np.ndarray, rounds: np.ndarray, level: float) -> np.ndarray:
    """``(S,)`` the first recorded round at which each session's ``curve`` ``(R, S)``
    reaches ``level`` (NaN when it never does)."""
    hit = curve >= level
    first = rounds[hit.argmax(axis=0)].astype(np.float64)
    return np.where(hit.any(axis=0), first, np.nan)


def _cell_rows(cell: Cell) -> list[dict]:
    start = time.perf_counter()
    trace = run_sessions(cell.setting())
    seconds = time.perf_counter() - start
    base = {"label": cell.label, "mechanism": cell.mechanism, "rule": cell.rule,
            "opponent": cell.opponent, "k": cell.k, "eta": cell.eta, "grid": cell.grid,
            "seed": cell.seed, "sessions": cell.sessions, "rounds": cell.rounds,
            "seconds": seconds}
    w1, factor, share, modal = (_members(trace, cell, metric)
                                for metric in ("w1", "factor", "share", "modal"))
    rows = []
    for r, t in enumerate(trace.rounds):
        rows.append({**base, "part": f"{cell.part}-curve", "round": int(t),
                     "w1": w1[r].mean(), "w1_low": np.quantile(w1[r], 0.05),
                     "w1_high": np.quantile(w1[r], 0.95), "share": share[r].mean(),
                     "factor": factor[r].mean(), "factor_low": np.quantile(factor[r], 0.05),
                     "factor_high": np.quantile(factor[r], 0.95), "modal": modal[r].mean()})
    truthful = first_reach(w1, trace.rounds, THRESHOLD)
    near = first_reach(factor, trace.rounds, NEAR)
    for s in range(cell.sessions):
        rows.append({**base, "part": cell.part, "session": s, "round": int(trace.rounds[-1]),
                     "w1": w1[-1, s], "share": share[-1, s], "factor": factor[-1, s],
                     "modal": modal[-1, s], "w1_first": trace.w1[-1, s, 0],
                     "w1_other": trace.w1[-1, s, 1], "factor_first": trace.factor[-1, s, 0],
                     "factor_other": trace.factor[-1, s, 1],
                     "rounds_to_truthful": truthful[s], "rounds_to_near": near[s]})
    return rows


def _members(trace, cell: Cell, metric: str) -> np.ndarray:
    """``(R, S)`` a metric over the DAOs' members: all members between two DAOs; the DAO's
    alone against a single bidder (who rarely wins against a large DAO, so its weights stay
    near uniform and would hide the DAO's in a mean over everyone)."""
    return trace.overall(metric) if cell.opponent == "dao" else getattr(trace, metric)[..., 0]


def theory(sizes=SIZES, *, opponent: str = "dao", etas=(0.1, 0.5, 2.0), draws: int = 400_000,
           seed: int = 0) -> list[dict]:
    """Per k, against truthful others under Mechanism 1 (tenths grid), for a member of a
    DAO of k facing a DAO of k (``opponent="dao"``) or one bidder (``"bidder"``): Δ_0.9 and
    Δ_0.5, the expected gain of factor 1 over 0.9 and 0.5 in units of the value; the pivot
    probability P(0.9v < c <= v) that factors 0.9 and 1 get different outcomes; and the
    Hedge rounds t solving Σ_{α<1} exp(−η t Δ_α) = 1/9 (weight 0.9 on factor 1)."""
    factors = np.asarray(FACTORS)
    rng = np.random.default_rng([seed, 7])
    rows = []
    for k in sizes:
        n = 2 * k if opponent == "dao" else k + 1
        values = rng.random((max(draws // n, 2000), n))
        table = deviation_table(0, values, values.copy(), values[..., None] * factors,
                                np.array([0, k, n], dtype=np.int64))
        table = table[:, :k] / values[:, :k, None]  # the first DAO's members
        delta = (table[..., -1:] - table).reshape(-1, factors.size).mean(axis=0)[:-1]
        pivot = float((table[..., -1] != table[..., -2]).mean())
        for eta in etas:
            rows.append({"part": "theory", "mechanism": "dao-vickrey", "rule": "hedge",
                         "opponent": opponent, "k": k, "eta": eta, "delta": delta[-1],
                         "delta_half": delta[4], "pivot": pivot,
                         "predicted_rounds": hedge_rounds(delta, eta)})
    return rows


def hedge_rounds(delta: np.ndarray, eta: float, weight: float = THRESHOLD) -> float:
    """The t at which Hedge's weight on factor 1 reaches ``weight`` when each other factor
    α trails it by ``delta[α]`` per round: Σ_α exp(−η t Δ_α) = (1 − weight) / weight
    (bisection; the left side falls in t)."""
    target = (1 - weight) / weight
    low, high = 0.0, 1.0
    while np.exp(-eta * high * delta).sum() > target:
        low, high = high, 2 * high
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if np.exp(-eta * mid * delta).sum() > target else (low, mid)
    return high


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """Rows: ``main`` / ``knob`` / ``exp3`` (one per session, final values and rounds to
    truthful), ``<part>-curve`` (per recorded round: means over sessions and the 5–95%
    range), ``theory`` (Δ, pivot probability and predicted rounds by k).

    Args:
        seed: root seed of every session (default 0); knob "seed +1" uses seed + 1.
        quick: k = 1, 2, four sessions, a few thousand rounds (for tests).
    """
    seed = 0 if seed is None else seed
    rows: list[dict] = []
    for cell in cells(seed, quick):
        rows += _cell_rows(cell)
    draws = 20_000 if quick else 400_000
    rows += theory((1, 2) if quick else SIZES, draws=draws, seed=seed)
    rows += theory((2,) if quick else SIZES[1:], opponent="bidder", draws=draws, seed=seed)
    return pd.DataFrame(rows, columns=COLUMNS)


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: sessions reaching weight 0.9 on factor 1, the rounds to it (mean
    and 95% t-interval over those sessions; median), the rounds to a mean factor of 0.98,
    and the final weight on 1 and mean factor (means over sessions)."""
    sessions = frame[frame["part"].isin(["main", "knob", "exp3"])]
    rows = []
    for (label, mechanism, k), part in sessions.groupby(["label", "mechanism", "k"],
                                                         sort=False):
        mean, low, high, reached = mean_ci(part["rounds_to_truthful"])
        near = part["rounds_to_near"]
        rows.append({"config": label, "mechanism": mechanism, "k": int(k),
                     "reached": f"{reached}/{len(part)}", "rounds_to_truthful": mean,
                     "low": low, "high": high,
                     "median": float(part["rounds_to_truthful"].median()),
                     "rounds_to_near": float(near.median()),
                     "w1": float(part["w1"].mean()), "factor": float(part["factor"].mean()),
                     "rounds": int(part["rounds"].iloc[0])})
    return pd.DataFrame(rows)


_COLOURS = {"dao-vickrey": "tab:blue", "crowdfund": "tab:red", "split-the-bill": "tab:green"}


def plot(frame: pd.DataFrame) -> Figure:
    """(a) rounds to truthful against k, log–log, with the knobs and the prediction;
    (b) weight on factor 1 over rounds per mechanism (Hedge); (c) mean factor over rounds;
    (d) final mean factor by k; (e) EXP3's weight on 1 and mean factor; (f) Δ_0.9 and the
    pivot probability by k."""
    fig, axes = new_figure(3, 2, size=(16, 9.5))
    _rounds_panel(axes[0], frame)
    _curves(axes[1], frame, "w1", "weight on factor 1")
    _curves(axes[2], frame, "factor", "mean expected factor")
    _final_factor(axes[3], frame)
    _exp3(axes[4], frame)
    _theory_panel(axes[5], frame)
    fig.suptitle("No-regret members learning a shading factor, values redrawn each round: "
                 "Mechanism 1 turns them truthful, crowdfund does not")
    return fig


def _rounds_panel(ax, frame: pd.DataFrame) -> None:
    table = key_numbers(frame)
    table = table[table["mechanism"] == "dao-vickrey"]
    styles = {"hedge": ("o", "tab:blue"), "hedge, DAO vs one bidder": ("s", "tab:cyan"),
              "hedge, eta 0.1": ("v", "tab:purple"), "hedge, eta 2": ("^", "tab:orange"),
              "hedge, zero in grid": ("x", "tab:grey"), "hedge, seed +1": ("+", "black")}
    for label, (marker, colour) in styles.items():
        part = table[(table["config"] == label) & table["rounds_to_truthful"].notna()]
        if part.empty:
            continue
        err = np.vstack([part["rounds_to_truthful"] - part["low"],
                         part["high"] - part["rounds_to_truthful"]])
        ax.errorbar(part["k"], part["rounds_to_truthful"], yerr=np.nan_to_num(err),
                    marker=marker, color=colour, capsize=3, label=label, lw=1)
    fine = table[table["config"] == "hedge, fine grid"]
    if len(fine):
        ax.plot(fine["k"], fine["rounds_to_near"], marker="D", color="tab:brown", ls="--",
                label="fine grid: rounds to mean factor 0.98 (weight on 1 stays < 0.9)")
    theory = frame[frame["part"] == "theory"]
    for eta, style in ((0.1, ":"), (0.5, "-"), (2.0, "-.")):
        part = theory[(theory["eta"] == eta) & (theory["opponent"] == "dao")]
        ax.plot(part["k"], part["predicted_rounds"], color="grey", ls=style, lw=1,
                label=f"Σ exp(−η t Δ) = 1/9 prediction, η = {eta}" if eta == 0.5 else
                f"prediction, η = {eta}")
    part = theory[(theory["eta"] == 0.5) & (theory["opponent"] == "bidder")]
    ax.plot(part["k"], part["predicted_rounds"], color="tab:cyan", ls="-", lw=1, alpha=0.6,
            label="prediction, DAO vs one bidder, η = 0.5")
    ax.set(xscale="log", yscale="log", xlabel="DAO size k",
           ylabel=f"rounds to weight {THRESHOLD} on factor 1",
           title="dao-vickrey, Hedge: rounds to truthful (95% CI)")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3, which="both")


def _curves(ax, frame: pd.DataFrame, metric: str, ylabel: str) -> None:
    curves = frame[(frame["part"] == "main-curve") & (frame["label"] == "hedge")]
    for mechanism, colour in _COLOURS.items():
        for k, style in ((1, ":"), (4, "--"), (32, "-")):
            part = curves[(curves["mechanism"] == mechanism) & (curves["k"] == k)]
            if part.empty:
                continue
            ax.plot(part["round"], part[metric], color=colour, ls=style,
                    label=f"{mechanism}, k = {k}")
            ax.fill_between(part["round"], part[f"{metric}_low"], part[f"{metric}_high"],
                            color=colour, alpha=0.08)
    ax.set(xscale="log", xlabel="round", ylabel=ylabel,
           title=f"Hedge, two DAOs of k: {ylabel}")
    ax.legend(fontsize="x-small", ncol=2)
    ax.grid(alpha=0.3)


def _final_factor(ax, frame: pd.DataFrame) -> None:
    table = key_numbers(frame)
    for (label, mechanism), part in table.groupby(["config", "mechanism"], sort=False):
        if label not in ("hedge", "hedge, DAO vs one bidder"):
            continue
        ax.plot(part["k"], part["factor"], marker="o" if label == "hedge" else "s",
                ls="-" if label == "hedge" else "--", color=_COLOURS[mechanism],
                label=f"{mechanism}" + ("" if label == "hedge" else ", vs one bidder"))
    ax.axhline(0.5, color="grey", ls=":", lw=1)
    ax.set(xscale="log", xlabel="DAO size k", ylabel="mean expected factor, last round",
           title="Hedge: the factor members end on (first price alone: 1/2)")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)


def _exp3(ax, frame: pd.DataFrame) -> None:
    curves = frame[frame["part"] == "exp3-curve"]
    for (mechanism, k), part in curves.groupby(["mechanism", "k"]):
        style = {1: ":", 2: "--", 4: "-"}.get(k, "-")
        ax.plot(part["round"], part["factor"], color=_COLOURS[mechanism], ls=style,
                label=f"{mechanism}, k = {k}: mean factor")
        ax.plot(part["round"], part["w1"], color=_COLOURS[mechanism], ls=style, alpha=0.4)
    ax.set(xscale="log", xlabel="round", ylabel="mean factor (dark), weight on 1 (light)",
           title="EXP3 (bandit, η = 0.05, γ = 0.05)")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)


def _theory_panel(ax, frame: pd.DataFrame) -> None:
    theory = frame[(frame["part"] == "theory") & (frame["eta"] == 0.5)]
    for opponent, style in (("dao", "-"), ("bidder", "--")):
        part = theory[theory["opponent"] == opponent]
        against = "a DAO of k" if opponent == "dao" else "one bidder"
        ax.plot(part["k"], part["pivot"], marker="o", ls=style, color="tab:blue",
                label=f"pivot probability P(0.9v < c ≤ v), against {against}")
        ax.plot(part["k"], part["delta"], marker="s", ls=style, color="tab:orange",
                label=f"Δ_0.9 = E[u(1) − u(0.9)] / v, against {against}")
    ax.set(xscale="log", yscale="log", xlabel="DAO size k",
           title="Mechanism 1, truthful others: the gain of bidding 1, not 0.9")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3, which="both")
