"""Theorem 3.4: no truthful, budget-balanced, IR, equal-treatment two-level mechanism beats
H_{n−1} on the proof's two instances.

The proof's instances (two DAOs each; δ > 0 small):

- I1: G1 has n − 1 members valuing v_i = 1/i − δ, G2 is one bidder valuing 1;
- I2: the same groups in the other order (G1 the single bidder, G2 the n − 1 members).

In both, OPT = Σ_{i<n} (1/i − δ) = H_{n−1} − (n − 1)δ (all of the big DAO gets the item;
for n = 2 the single bidder's 1 is the optimum) while the big DAO's willingness to pay is
WTP = max_i i·(1/i − δ) = 1 − δ < 1.

What the experiment shows:

1. ``part = "mechanism-1"``: Mechanism 1 (``dao-vickrey``, the engine) on I1 and I2: the
   single bidder wins both and OPT/welfare = H_{n−1} − (n − 1)δ on both.
2. ``part = "threshold"``: every truthful mechanism, as the proof argues. By Lemma 3.5 the
   lower mechanism is max-equal-split, so a DAO facing a threshold t wins only if its WTP
   covers t; a truthful upper mechanism on two groups is given by thresholds, and on I1 and
   I2 only two matter: t1 = t1(1), G1's threshold when G2 bids 1 (I1), and t2 = t2(1)
   (I2). At group bids (1, 1) at most one group can win, so max(t1, t2) >= 1 > 1 − δ: in at
   least one instance the big DAO cannot pay and the single bidder gets the item (or
   nobody does, which is worse). For each threshold t of a grid (the two instances give
   the same numbers, I1 at t = t1 and I2 at t = t2) we compute with the engine's
   max-equal-split rule who wins, the welfare and OPT/welfare; ``worst_over_feasible``
   takes the worst over {I1, I2} for every pair (t1, t2): on every pair with
   max(t1, t2) >= 1 it is at least H_{n−1} − (n − 1)δ, with equality for some (Mechanism 1
   among them); more where the DAO that wins serves fewer members. Only the excluded
   pairs (both thresholds <= 1 − δ, where both groups would win at bids (1, 1)) do better.

Assumed, as in the proof: when the big DAO does not win, the single bidder does (welfare 1).
All δ (and all thresholds) for one n run in one engine call (a leading batch axis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.mechanisms import (
    COST_SHARING,
    Groups,
    approximation_ratio,
    optimal_welfare,
    preset,
    welfare,
)
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.paper.common import harmonic, new_figure

DELTAS = (0.01, 0.001, 0.0001)
#: The (n, δ) whose threshold grid the figure shows.
SHOWN = (11, 0.001)
COLUMNS = ["part", "n", "delta", "instance", "threshold", "winner", "welfare", "optimum",
           "ratio", "predicted", "h_n_minus_1"]


def big_dao(n: int, deltas: np.ndarray) -> np.ndarray:
    """``(D, n − 1)`` values 1/i − δ of the big DAO, one row per δ."""
    return 1.0 / np.arange(1, n, dtype=np.float64)[None, :] - deltas[:, None]


def instance(n: int, deltas: np.ndarray, which: int = 1) -> tuple[np.ndarray, Groups]:
    """Values ``(D, n)`` and DAOs of instance ``which`` (1: big DAO first; 2: single first)."""
    big, one = big_dao(n, deltas), np.ones((deltas.size, 1))
    if which == 1:
        return np.concatenate([big, one], axis=1), Groups.from_sizes([n - 1, 1])
    return np.concatenate([one, big], axis=1), Groups.from_sizes([1, n - 1])


def predicted_ratio(n: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """H_{n−1} − (n − 1)δ, and 1 where the single bidder is the optimum (n = 2)."""
    n = np.asarray(n)
    return np.maximum(harmonic(n - 1) - (n - 1) * np.asarray(delta), 1.0)


def mechanism_1(n: int, deltas: np.ndarray) -> pd.DataFrame:
    """Mechanism 1 on I1 and I2: one row per (instance, δ)."""
    frames = []
    for which in (1, 2):
        values, groups = instance(n, deltas, which)
        outcome = preset("dao-vickrey").run(values, groups)
        achieved = welfare(values, outcome)
        optimum = optimal_welfare(values, groups, "single")
        frames.append(pd.DataFrame({
            "part": "mechanism-1", "n": n, "delta": deltas, "instance": which,
            "winner": outcome.winner[:, 0] + 1, "welfare": achieved, "optimum": optimum,
            "ratio": approximation_ratio(optimum, achieved)}))
    return pd.concat(frames, ignore_index=True)


def threshold_welfare(n: int, delta: float, thresholds: np.ndarray) -> np.ndarray:
    """``(T,)`` welfare when the big DAO faces each threshold: if WTP >= t it wins, pays t,
    and its members that max-equal-split serves get access; otherwise the single bidder
    wins (welfare 1)."""
    values = np.repeat(big_dao(n, np.array([delta])), thresholds.size, axis=0)
    lot = LotBids(values, Groups.from_sizes([n - 1]))
    wins = lot.willingness_to_pay()[:, 0] >= thresholds
    winner = np.where(wins, 0, -1)
    access, _ = COST_SHARING["max-equal-split"](lot, winner, np.where(wins, thresholds, 0.0))
    return np.where(wins, (access * values).sum(axis=1), 1.0)


def thresholds(n: int, delta: float, grid: np.ndarray) -> pd.DataFrame:
    """The big DAO's instance (I1 for t1, I2 for t2: the same numbers) at each threshold
    of ``grid``: welfare and OPT/welfare."""
    optimum = float(predicted_ratio(np.array(n), np.array(delta)))
    achieved = threshold_welfare(n, delta, grid)
    return pd.DataFrame({"part": "threshold", "n": n, "delta": delta, "threshold": grid,
                         "winner": np.where(achieved == 1.0, 2, 1), "welfare": achieved,
                         "optimum": optimum, "ratio": optimum / achieved})


def worst_ratios(ratio: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T, T)`` worst ratio over {I1, I2} for thresholds (t1, t2) and whether the pair is
    feasible: max(t1, t2) >= 1 (at group bids (1, 1) at most one group wins)."""
    worst = np.maximum(ratio[:, None], ratio[None, :])
    return worst, np.maximum(grid[:, None], grid[None, :]) >= 1.0


def threshold_grid(delta: float, points: int) -> np.ndarray:
    """Thresholds from 0 to 3, with 1 − δ and 1 (the two that matter) on the grid."""
    return np.unique(np.concatenate([np.linspace(0.0, 3.0, points), [1.0 - delta, 1.0]]))


def run(*, seed: int | None = None, quick: bool = False,
        deltas: tuple[float, ...] = DELTAS) -> pd.DataFrame:
    """Rows for Mechanism 1 on both instances and for the threshold grid, n = 2..50 (2..12
    if ``quick``); deterministic (``seed`` unused)."""
    del seed  # the instances are deterministic
    d = np.asarray(deltas, dtype=np.float64)
    points = 13 if quick else 61
    frames = []
    for n in range(2, 13 if quick else 51):
        frames.append(mechanism_1(n, d))
        frames.extend(thresholds(n, delta, threshold_grid(delta, points)) for delta in deltas)
    out = pd.concat(frames, ignore_index=True)
    out["predicted"] = predicted_ratio(out["n"].to_numpy(), out["delta"].to_numpy())
    out["h_n_minus_1"] = harmonic(out["n"].to_numpy() - 1)
    return out.reindex(columns=COLUMNS)


def worst_over_feasible(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (n, δ): over feasible threshold pairs the least and the largest worst-case ratio
    over {I1, I2}, and over the excluded pairs the least (what truthfulness rules out)."""
    rows = []
    for (n, delta), part in frame[frame["part"] == "threshold"].groupby(["n", "delta"],
                                                                          sort=False):
        worst, feasible = worst_ratios(part["ratio"].to_numpy(), part["threshold"].to_numpy())
        rows.append({"n": n, "delta": delta, "min_worst": worst[feasible].min(),
                     "max_worst": worst[feasible].max(),
                     "excluded_min": worst[~feasible].min(),
                     "predicted": part["predicted"].iloc[0]})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Left: Mechanism 1 on both instances against n, with H_{n−1}. Right: for one (n, δ),
    the worst ratio over {I1, I2} of every threshold pair, the excluded pairs hatched."""
    fig, (left, right) = new_figure(2, size=(13, 4.8))
    m1 = frame[frame["part"] == "mechanism-1"]
    bound = m1.drop_duplicates("n")
    left.plot(bound["n"], bound["h_n_minus_1"], color="black", lw=2, label="$H_{n-1}$")
    for (delta, part), marker in zip(m1.groupby("delta", sort=False), "os^v", strict=False):
        one, two = part[part["instance"] == 1], part[part["instance"] == 2]
        line, = left.plot(one["n"], one["ratio"], marker=marker, ms=4, lw=0.8,
                          label=f"I1, δ = {delta:g}")
        left.plot(two["n"], two["ratio"], marker=marker, ms=7, lw=0, mfc="none",
                  color=line.get_color(), label=f"I2, δ = {delta:g}")
    left.set_xlabel("n (the big DAO has n − 1 members valuing 1/i − δ)")
    left.set_ylabel("OPT / welfare")
    left.set_title("Mechanism 1 on both instances of the proof: $H_{n-1} - (n-1)\\delta$")
    left.grid(alpha=0.3)
    left.legend(fontsize="small", ncols=2)
    _threshold_panel(right, frame)
    fig.suptitle("Theorem 3.4: on I1 or on I2 every truthful, budget-balanced, "
                 "equal-treatment mechanism has ratio $\\geq H_{n-1} - (n-1)\\delta$")
    return fig


def _threshold_panel(ax, frame: pd.DataFrame) -> None:
    grid = frame[frame["part"] == "threshold"]
    n = int(grid.loc[grid["n"] <= SHOWN[0], "n"].max())
    delta = min(grid["delta"].unique(), key=lambda d: abs(d - SHOWN[1]))
    part = grid[(grid["n"] == n) & (grid["delta"] == delta)]
    t = part["threshold"].to_numpy()
    worst, feasible = worst_ratios(part["ratio"].to_numpy(), t)
    mesh = ax.pcolormesh(t, t, worst.T, shading="nearest", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, label="worst OPT/welfare over {I1, I2}")
    ax.contourf(t, t, (~feasible).T.astype(float), levels=[0.5, 1.5], colors="none",
                hatches=["//"])
    ax.plot([0, 1, 1], [1, 1, 0], color="white", lw=1.5)
    ax.text(0.5, 0.5, "excluded:\nboth would win\nat bids (1, 1)", ha="center",
            va="center", color="white", fontsize="small")
    predicted = float(part["predicted"].iloc[0])
    ax.set_title(f"n = {n}, δ = {delta:g}: every pair with max(t1, t2) ≥ 1 gives "
                 f"≥ {predicted:.4f}", fontsize="medium")
    ax.set_xlabel("t1: G1's threshold in I1 (G2 bids 1)")
    ax.set_ylabel("t2: G2's threshold in I2 (G1 bids 1)")


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per δ at the largest n: Mechanism 1's ratio on I1 and I2; the best any truthful
    mechanism does (the least, over feasible thresholds, of the worst ratio over {I1, I2})
    and what the excluded thresholds would do; the prediction H_{n−1} − (n − 1)δ; and the
    largest deviation of Mechanism 1's and the best truthful ratio from it over all n."""
    m1 = frame[frame["part"] == "mechanism-1"]
    feasible = worst_over_feasible(frame)
    rows = []
    for delta, part in m1.groupby("delta", sort=False):
        n = part["n"].max()
        at = part[part["n"] == n].set_index("instance")
        grid = feasible[feasible["delta"] == delta]
        last = grid[grid["n"] == n].iloc[0]
        error = max((part["ratio"] - part["predicted"]).abs().max(),
                    (grid["min_worst"] - grid["predicted"]).abs().max())
        rows.append({"delta": delta, "n": int(n), "winner I1/I2":
                     f"G{int(at.loc[1, 'winner'])}/G{int(at.loc[2, 'winner'])}",
                     "M1 ratio I1": at.loc[1, "ratio"], "M1 ratio I2": at.loc[2, "ratio"],
                     "best truthful": last["min_worst"],
                     "excluded best": last["excluded_min"],
                     "H_n-1 - (n-1)δ": last["predicted"], "max_abs_error": error})
    return pd.DataFrame(rows)
