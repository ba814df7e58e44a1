"""Theorem 3.2: under truthful bids Mechanism 1's welfare is within H_ℓ of the optimum.

For every largest-DAO size ℓ, DAO-size model and value distribution we draw many random
populations at once and run ``dao-vickrey`` on all of them in one engine call, then compare
the observed OPT/welfare (mean and maximum) with H_ℓ.

DAO-size models (``N_GROUPS`` DAOs unless said otherwise):

- ``"equal"``: every DAO has ℓ members;
- ``"uniform"``: DAO 1 has ℓ members, the others sizes uniform on 1..ℓ, drawn afresh for
  every instance. A DAO of size s < ℓ is a row of width ℓ whose last ℓ − s members value the
  item at 0: such members change neither WTP_j = max_i i·v_(i) nor W_j = Σ_i v_i, so one
  ``Groups`` serves every instance of the batch;
- ``"one-big"``: one DAO of ℓ members against ℓ individual bidders.

Value distributions (i.i.d. over members): uniform on [0, 1], lognormal(0, 1) and Pareto with
shape 1.5 and minimum 1 (heavy tailed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.mechanisms import Groups, approximation_ratio, optimal_welfare, preset, welfare
from dao_abm.paper.common import harmonic, new_figure

SIZE_MODELS = ("equal", "uniform", "one-big")
VALUE_MODELS = ("uniform", "lognormal", "pareto")
N_GROUPS = 5
#: Legend text of each DAO-size model.
SIZE_LABELS = {"equal": f"{N_GROUPS} DAOs of size ℓ",
               "uniform": f"{N_GROUPS} DAOs, sizes U{{1..ℓ}}",
               "one-big": "1 DAO of size ℓ + ℓ individuals"}
COLUMNS = ["ell", "sizes", "values", "instances", "mean_ratio", "p99_ratio", "max_ratio",
           "suboptimal_share", "h_ell"]


def draw_values(kind: str, size: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """I.i.d. values of the distribution ``kind`` (see the module docstring)."""
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, size)
    if kind == "lognormal":
        return rng.lognormal(0.0, 1.0, size)
    if kind == "pareto":
        return 1.0 + rng.pareto(1.5, size)
    raise ValueError(f"unknown value distribution {kind!r}; choose one of: "
                     f"{', '.join(VALUE_MODELS)}")


def population(sizes: str, values: str, ell: int, instances: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, Groups]:
    """``instances`` random value profiles ``(B, n)`` and their DAOs, largest DAO ℓ."""
    if sizes == "one-big":
        groups = Groups.from_sizes([ell] + [1] * ell)
        return draw_values(values, (instances, 2 * ell), rng), groups
    groups = Groups.from_sizes([ell] * N_GROUPS)
    v = draw_values(values, (instances, N_GROUPS, ell), rng)
    if sizes == "uniform":
        size = rng.integers(1, ell + 1, (instances, N_GROUPS))
        size[:, 0] = ell
        v = np.where(np.arange(ell) < size[..., None], v, 0.0)
    elif sizes != "equal":
        raise ValueError(f"unknown DAO-size model {sizes!r}; choose one of: "
                         f"{', '.join(SIZE_MODELS)}")
    return v.reshape(instances, N_GROUPS * ell), groups


def ratios(values: np.ndarray, groups: Groups) -> np.ndarray:
    """``(B,)`` OPT/welfare of Mechanism 1 under truthful bids, one engine call."""
    outcome = preset("dao-vickrey").run(values, groups, validate=False)
    return approximation_ratio(optimal_welfare(values, groups, "single"),
                               welfare(values, outcome))


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """One row per (ℓ, DAO-size model, value distribution): ratio statistics and H_ℓ.

    Args:
        seed: seed of ``numpy.random.default_rng`` (default 0).
        quick: ℓ = 1..8 and 200 instances each, instead of ℓ = 1..30 and 4,000.
    """
    rng = np.random.default_rng(0 if seed is None else seed)
    ells, instances = (range(1, 9), 200) if quick else (range(1, 31), 4000)
    rows = []
    for ell in ells:
        for sizes in SIZE_MODELS:
            for values in VALUE_MODELS:
                r = ratios(*population(sizes, values, ell, instances, rng))
                rows.append({
                    "ell": ell, "sizes": sizes, "values": values, "instances": instances,
                    "mean_ratio": r.mean(), "p99_ratio": np.quantile(r, 0.99),
                    "max_ratio": r.max(), "suboptimal_share": (r > 1 + 1e-12).mean(),
                    "h_ell": float(harmonic(ell)),
                })
    return pd.DataFrame(rows, columns=COLUMNS)


def plot(frame: pd.DataFrame) -> Figure:
    """One panel per value distribution: mean and max observed ratio per ℓ, and H_ℓ."""
    fig, axes = new_figure(len(VALUE_MODELS), size=(13, 4.2))
    colors = dict(zip(SIZE_MODELS, ("tab:blue", "tab:orange", "tab:green"), strict=True))
    bound = frame.drop_duplicates("ell").sort_values("ell")
    for ax, values in zip(axes, VALUE_MODELS, strict=True):
        ax.plot(bound["ell"], bound["h_ell"], color="black", lw=2, label="$H_\\ell$ (bound)")
        for sizes in SIZE_MODELS:
            part = frame[(frame["values"] == values) & (frame["sizes"] == sizes)]
            ax.plot(part["ell"], part["max_ratio"], "--", marker=".", color=colors[sizes],
                    label=f"{SIZE_LABELS[sizes]}: max")
            ax.plot(part["ell"], part["mean_ratio"], "-", color=colors[sizes],
                    label=f"{SIZE_LABELS[sizes]}: mean")
        ax.set_title(f"{values} values")
        ax.set_xlabel("ℓ (largest DAO)")
        ax.set_ylim(bottom=0.9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("OPT / welfare")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize="small")
    n = int(frame["instances"].iloc[0])
    fig.suptitle(f"Theorem 3.2: Mechanism 1 under truthful bids stays within $H_\\ell$ "
                 f"({n:,} random populations per point)")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per DAO-size model and value distribution: the mean ratio over ℓ, the worst ratio
    seen and its ℓ, and the worst max_ratio / H_ℓ over ℓ >= 2 (the bound holds iff <= 1)."""
    frame = frame.assign(of_bound=frame["max_ratio"] / frame["h_ell"])
    rows = []
    for (sizes, values), part in frame.groupby(["sizes", "values"], sort=False):
        worst = part.loc[part["max_ratio"].idxmax()]
        rows.append({"sizes": sizes, "values": values, "mean_ratio": part["mean_ratio"].mean(),
                     "max_ratio": worst["max_ratio"], "at_ell": int(worst["ell"]),
                     "H_ell": worst["h_ell"],
                     "max_of_bound": part.loc[part["ell"] >= 2, "of_bound"].max()})
    return pd.DataFrame(rows)
