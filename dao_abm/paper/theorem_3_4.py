"""Theorem 3.4: the instance family on which no truthful two-level mechanism beats H_{n−1}.

Instance 1 of the proof: DAO G1 has n − 1 members with values v_i = 1/i − δ, G2 is one bidder
with value 1. WTP_1 = max_i i·(1/i − δ) = 1 − δ < 1, so Mechanism 1 (``dao-vickrey``) sells
to G2 for a welfare of 1, while the optimum gives the item to all of G1:
OPT = Σ_{i<n} (1/i − δ) = H_{n−1} − (n − 1)δ, which is the ratio, and it tends to H_{n−1}
as δ → 0. For n = 2 the optimum is G2's 1 (G1 alone is worth 1 − δ) and the ratio is 1.
All δ for one n run in one engine call (a leading batch axis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.mechanisms import Groups, approximation_ratio, optimal_welfare, preset, welfare
from dao_abm.paper.common import harmonic, new_figure

DELTAS = (0.01, 0.001, 0.0001)
COLUMNS = ["n", "delta", "wtp_g1", "winner", "welfare", "optimum", "ratio", "predicted",
           "h_n_minus_1"]


def instance(n: int, deltas: np.ndarray) -> tuple[np.ndarray, Groups]:
    """Values ``(D, n)`` (G1's n − 1 members, then G2's one) for each δ, and the DAOs."""
    i = np.arange(1, n, dtype=np.float64)
    g1 = 1.0 / i[None, :] - deltas[:, None]
    values = np.concatenate([g1, np.ones((deltas.size, 1))], axis=1)
    return values, Groups.from_sizes([n - 1, 1])


def predicted_ratio(n: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """H_{n−1} − (n − 1)δ, and 1 where G2 is the optimum (n = 2)."""
    n = np.asarray(n)
    return np.maximum(harmonic(n - 1) - (n - 1) * np.asarray(delta), 1.0)


def run(*, seed: int | None = None, quick: bool = False,
        deltas: tuple[float, ...] = DELTAS) -> pd.DataFrame:
    """One row per (n, δ), n = 2..50 (2..12 if ``quick``); deterministic (``seed`` unused)."""
    del seed  # the family is deterministic
    d = np.asarray(deltas, dtype=np.float64)
    rows = []
    for n in range(2, 13 if quick else 51):
        values, groups = instance(n, d)
        outcome = preset("dao-vickrey").run(values, groups)
        achieved = welfare(values, outcome)
        optimum = optimal_welfare(values, groups, "single")
        frame = pd.DataFrame({
            "n": n, "delta": d, "wtp_g1": outcome.group_bids[:, 0, 0],
            "winner": outcome.winner[:, 0] + 1, "welfare": achieved, "optimum": optimum,
            "ratio": approximation_ratio(optimum, achieved),
        })
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    out["predicted"] = predicted_ratio(out["n"].to_numpy(), out["delta"].to_numpy())
    out["h_n_minus_1"] = harmonic(out["n"].to_numpy() - 1)
    return out[COLUMNS]


def plot(frame: pd.DataFrame) -> Figure:
    """Observed OPT/welfare against n for each δ, with H_{n−1}."""
    fig, (ax,) = new_figure(size=(7.5, 4.5))
    bound = frame.drop_duplicates("n")
    ax.plot(bound["n"], bound["h_n_minus_1"], color="black", lw=2, label="$H_{n-1}$")
    for (delta, part), marker in zip(frame.groupby("delta", sort=False), "os^v", strict=False):
        ax.plot(part["n"], part["ratio"], marker=marker, ms=3.5, lw=0.8,
                label=f"Mechanism 1, δ = {delta:g}")
    ax.set_xlabel("n (G1 has n − 1 members with values 1/i − δ; G2 one member with value 1)")
    ax.set_ylabel("OPT / welfare")
    ax.set_title("Theorem 3.4: ratio $H_{n-1} - (n-1)\\delta$ on the lower-bound instance")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The largest n for each δ: who won, the ratio, H_{n−1} and the largest deviation from
    the closed form over all n."""
    rows = []
    for delta, part in frame.groupby("delta", sort=False):
        last = part.loc[part["n"].idxmax()]
        rows.append({"delta": delta, "n": int(last["n"]), "winner": f"G{int(last['winner'])}",
                     "ratio": last["ratio"], "H_n-1": last["h_n_minus_1"],
                     "max_abs_error": (part["ratio"] - part["predicted"]).abs().max()})
    return pd.DataFrame(rows)
