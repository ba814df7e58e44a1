"""Section 4.2: with unit-demand members no truthful two-level mechanism beats n.

The Lemma 4.8 / Theorem 4.2 instance: n bidders alone (DAOs of one), n items, every bidder
values (1 + ε, 1, ..., 1) and wants one item. The truthful ``grand-bundle`` mechanism sells
all items as one lot: every bundle bid is 1 + ε, the lowest index wins (the engine's tie
rule) and keeps one item, so welfare is 1 + ε against OPT = n + ε (everyone gets an item):
the ratio (n + ε)/(1 + ε) → n. All ε for one n run in one engine call.

For comparison, random populations of the same shape (n bidders alone, n items, values
i.i.d. uniform on [0, 1]) under ``grand-bundle`` and under ``dao-vickrey`` item by item
(Mechanism 2, which is not truthful for unit-demand members). Their optimum is the
assignment problem (exact; ``optimal_welfare``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.mechanisms import Groups, approximation_ratio, optimal_welfare, preset, welfare
from dao_abm.paper.common import new_figure

EPSILONS = (0.5, 0.1, 0.01)
MECHANISMS = ("grand-bundle", "dao-vickrey")
#: Legend text of each mechanism on random populations.
LABELS = {"grand-bundle": "grand-bundle (truthful)",
          "dao-vickrey": "dao-vickrey item by item (not truthful here)"}
COLUMNS = ["n", "population", "mechanism", "epsilon", "instances", "mean_ratio", "max_ratio",
           "predicted"]


def lemma_instance(n: int, epsilons: np.ndarray) -> np.ndarray:
    """``(E, n, n)`` values: every bidder (1 + ε, 1, ..., 1), one profile per ε."""
    values = np.ones((epsilons.size, n, n))
    values[:, :, 0] += epsilons[:, None]
    return values


def ratios(mechanism: str, values: np.ndarray, groups: Groups) -> np.ndarray:
    """``(B,)`` OPT/welfare of ``mechanism`` under truthful unit-demand bids."""
    outcome = preset(mechanism).run(values, groups, "unit-demand", validate=False)
    return approximation_ratio(optimal_welfare(values, groups, "unit-demand"),
                               welfare(values, outcome))


def run(*, seed: int | None = None, quick: bool = False,
        epsilons: tuple[float, ...] = EPSILONS) -> pd.DataFrame:
    """Rows for the lemma instance (per n, ε) and random populations (per n, mechanism).

    Args:
        seed: seed of ``numpy.random.default_rng`` for the random populations (default 0).
        quick: n = 2..8 and 50 random instances, instead of n = 2..30 and 300.
    """
    rng = np.random.default_rng(0 if seed is None else seed)
    eps = np.asarray(epsilons, dtype=np.float64)
    ns, instances = (range(2, 9), 50) if quick else (range(2, 31), 300)
    rows = []
    for n in ns:
        groups = Groups.from_sizes([1] * n)
        lemma = ratios("grand-bundle", lemma_instance(n, eps), groups)
        for e, r in zip(eps.tolist(), lemma.tolist(), strict=True):
            rows.append({"n": n, "population": "lemma-4.8", "mechanism": "grand-bundle",
                         "epsilon": e, "instances": 1, "mean_ratio": r, "max_ratio": r,
                         "predicted": (n + e) / (1 + e)})
        values = rng.uniform(0.0, 1.0, (instances, n, n))
        for mechanism in MECHANISMS:
            r = ratios(mechanism, values, groups)
            rows.append({"n": n, "population": "random-uniform", "mechanism": mechanism,
                         "epsilon": np.nan, "instances": instances, "mean_ratio": r.mean(),
                         "max_ratio": r.max(), "predicted": np.nan})
    return pd.DataFrame(rows, columns=COLUMNS)


def plot(frame: pd.DataFrame) -> Figure:
    """Left: the lemma instance against (n + ε)/(1 + ε) and n. Right: random populations."""
    fig, (left, right) = new_figure(2, size=(12, 4.5))
    lemma = frame[frame["population"] == "lemma-4.8"]
    ns = np.sort(frame["n"].unique())
    for ax in (left, right):
        ax.plot(ns, ns, color="black", lw=2, label="n (Theorem 4.2)")
        ax.set_xlabel("n (bidders = items)")
        ax.grid(alpha=0.3)
    for (e, part), marker in zip(lemma.groupby("epsilon", sort=False), "os^", strict=False):
        line, = left.plot(part["n"], part["mean_ratio"], marker, ms=4,
                          label=f"grand-bundle, ε = {e:g}")
        left.plot(part["n"], part["predicted"], "-", lw=0.8, color=line.get_color())
    left.set_ylabel("OPT / welfare")
    left.set_title("Lemma 4.8 instance: values (1+ε, 1, …, 1); lines: (n+ε)/(1+ε)")
    left.legend(fontsize="small")
    rand = frame[frame["population"] == "random-uniform"]
    for mechanism, part in rand.groupby("mechanism", sort=False):
        line, = right.plot(part["n"], part["mean_ratio"], marker=".",
                           label=f"{LABELS[mechanism]}: mean")
        right.plot(part["n"], part["max_ratio"], "--", color=line.get_color(),
                   label=f"{LABELS[mechanism]}: max")
    count = int(rand["instances"].iloc[0]) if len(rand) else 0
    right.set_title(f"Random unit-demand bidders (U[0,1] values, {count} per n)")
    right.legend(fontsize="small")
    fig.suptitle("Section 4.2: unit-demand members, truthful mechanisms lose a factor n")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """At the largest n: the lemma ratio per ε, and the random populations' mean/max."""
    last = frame[frame["n"] == frame["n"].max()]
    return last[["n", "population", "mechanism", "epsilon", "mean_ratio", "max_ratio",
                 "predicted"]].reset_index(drop=True)
