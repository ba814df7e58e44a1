"""DAOs under private values: which bid functions members learn, by DAO size.

For each DAO size k, a market of two DAOs of k members each, every member with an i.i.d.
U[0, 1] value drawn afresh every auction, one item. Members learn one shared bid function
(``equilibrium.daos``: SODA on the engine, 33 value knots, 33 candidate bids in [0, 1], a
common sample of 512 value profiles), starting near bid = v/2, under three mechanisms:

- ``dao-vickrey`` (Mechanism 1) is truthful (Theorem 3.1), so the identity is an
  equilibrium at every size; the trace records the distance to it per step and when it
  falls below 0.02 (DAOs of 1, 2 and 4 get there; DAOs of 8 not within the run, their
  high-value members being rarely pivotal and truthfulness only weakly dominant);
- ``crowdfund`` (pledges summed, pay-your-bid, shares pro rata): a member pays its own
  pledge, so it shades, the more the larger its DAO (others' pledges carry it);
- ``split-the-bill`` (pledges summed, second price, the bill split evenly among all members):
  what a member pays does not depend on its bid, so members with values above about the
  per-member share bid the most they can and the rest bid nothing.

Welfare (values of the members with access, against OPT: the higher DAO's total value) and
revenue are then measured on one fresh set of draws shared by all three mechanisms.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.equilibrium.daos import DaoMarket, learn_daos
from dao_abm.mechanisms import Groups, optimal_welfare, preset, welfare
from dao_abm.paper.common import new_figure

MECHANISMS = ("dao-vickrey", "crowdfund", "split-the-bill")
SIZES = (1, 2, 4, 8)
QUICK_SIZES = (1, 3)
#: Draws on which the learned bid functions' relative utility loss is re-estimated.
HELD_OUT = 4096
#: Members start near bidding START·v (the model's ``initial = "shaded"`` default).
START = 0.5
#: Distance to the identity that counts as having learned it.
IDENTITY_TOL = 0.02
COLUMNS = ["part", "mechanism", "size", "value", "bid", "iteration", "l2_to_identity",
           "relative_loss", "seconds", "welfare", "optimum", "revenue", "draws",
           "held_out_loss"]


def learn_market(mechanism: str, size: int, *, seed: int, quick: bool
                 ) -> tuple[DaoMarket, np.ndarray, list[dict]]:
    """Learn the shared bid function; returns the market, β on its knots and the trace."""
    market = DaoMarket((size, size), mechanism, samples=128 if quick else 512,
                       value_points=17 if quick else 33, bid_points=17 if quick else 33,
                       shared=True)
    rng = np.random.default_rng([seed, size, MECHANISMS.index(mechanism)])
    start, trace = time.perf_counter(), []
    for state in learn_daos(market, rng=rng, iterations=60 if quick else 300, tol=1e-5,
                            start=START * market.values):
        l2 = float(np.sqrt(((state.beta[0] - market.values) ** 2) @ market.weights))
        trace.append({"part": "trace", "mechanism": mechanism, "size": size,
                      "iteration": state.iteration, "l2_to_identity": l2,
                      "relative_loss": float(state.relative_loss.max()),
                      "seconds": time.perf_counter() - start})
    return market, state.beta[0], trace


def outcomes(mechanism: str, size: int, market: DaoMarket, beta: np.ndarray,
             values: np.ndarray) -> dict:
    """Mean welfare, OPT and revenue on ``values`` ``(D, 2k)`` with members bidding β, and
    β's relative utility loss on the first ``HELD_OUT`` of them (a sample it was not
    learned on)."""
    groups = Groups.from_sizes([size, size])
    bids = np.interp(values, market.values, beta)
    outcome = preset(mechanism).run(bids, groups, validate=False)
    return {"part": "outcome", "mechanism": mechanism, "size": size,
            "welfare": float(welfare(values, outcome).mean()),
            "optimum": float(optimal_welfare(values, groups, "single").mean()),
            "revenue": float(outcome.price.mean()), "draws": values.shape[0],
            "held_out_loss": float(market.relative_utility_loss(
                beta[None], values[:HELD_OUT])[0])}


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """Rows: ``bid`` (the learned β per mechanism, size and value knot), ``trace`` (per
    step), ``outcome`` (welfare, OPT and revenue on shared fresh draws).

    Args:
        seed: seed of every draw (default 0).
        quick: sizes 1 and 3, coarse grids, 128 samples (for tests).
    """
    seed = 0 if seed is None else seed
    rows: list[dict] = []
    for size in QUICK_SIZES if quick else SIZES:
        draws = np.random.default_rng([seed, size, 99]).uniform(
            size=(2_000 if quick else 20_000, 2 * size))
        for mechanism in MECHANISMS:
            market, beta, trace = learn_market(mechanism, size, seed=seed, quick=quick)
            rows += trace
            rows += [{"part": "bid", "mechanism": mechanism, "size": size, "value": v,
                      "bid": b} for v, b in zip(market.values, beta, strict=True)]
            rows.append(outcomes(mechanism, size, market, beta, draws))
    return pd.DataFrame(rows, columns=COLUMNS)


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per mechanism and size: steps and seconds to the end of learning, the final distance
    to the identity, the first step within ``IDENTITY_TOL`` of it, welfare/OPT, revenue."""
    trace = frame[frame["part"] == "trace"]
    out = frame[frame["part"] == "outcome"].set_index(["mechanism", "size"])
    rows = []
    for (mechanism, size), part in trace.groupby(["mechanism", "size"], sort=False):
        near = part[part["l2_to_identity"] < IDENTITY_TOL]
        last = part.iloc[-1]
        o = out.loc[(mechanism, size)]
        rows.append({"mechanism": mechanism, "size": size, "steps": int(last["iteration"]),
                     "seconds": last["seconds"], "l2_to_identity": last["l2_to_identity"],
                     "identity_step": int(near["iteration"].iloc[0]) if len(near) else -1,
                     "identity_seconds": near["seconds"].iloc[0] if len(near) else np.nan,
                     "held_out_loss": o["held_out_loss"],
                     "welfare_of_opt": o["welfare"] / o["optimum"], "revenue": o["revenue"]})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Top: the learned bid functions by DAO size, one panel per mechanism. Bottom:
    Mechanism 1's distance to the identity per step, welfare/OPT and revenue by size."""
    fig, axes = new_figure(3, 2, size=(14, 8))
    bids = frame[frame["part"] == "bid"]
    sizes = sorted(bids["size"].unique())
    colours = dict(zip(sizes, ["tab:blue", "tab:orange", "tab:green", "tab:red",
                               "tab:purple", "tab:brown"], strict=False))
    for ax, mechanism in zip(axes[:3], MECHANISMS, strict=True):
        ax.plot([0, 1], [0, 1], color="black", lw=2.5, alpha=0.25, label="truthful")
        for size, part in bids[bids["mechanism"] == mechanism].groupby("size"):
            ax.plot(part["value"], part["bid"], marker=".", color=colours[size],
                    label=f"DAOs of {size}")
        ax.set_title(f"{mechanism}: learned bid function")
        ax.set_xlabel("member value v")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("bid β(v)")
    axes[0].legend(fontsize="small")
    trace = frame[(frame["part"] == "trace") & (frame["mechanism"] == "dao-vickrey")]
    for size, part in trace.groupby("size"):
        axes[3].semilogy(part["iteration"], part["l2_to_identity"], color=colours[size],
                         label=f"DAOs of {size}")
    axes[3].axhline(IDENTITY_TOL, color="grey", ls=":")
    axes[3].set(title="dao-vickrey: L2 distance to the identity", xlabel="SODA step")
    axes[3].legend(fontsize="small")
    table = key_numbers(frame)
    width = 0.8 / len(MECHANISMS)
    for i, mechanism in enumerate(MECHANISMS):
        part = table[table["mechanism"] == mechanism]
        x = np.arange(len(part)) + (i - 1) * width
        axes[4].bar(x, part["welfare_of_opt"], width, label=mechanism)
        axes[5].bar(x, part["revenue"], width, label=mechanism)
    for ax, title in ((axes[4], "welfare / OPT"), (axes[5], "revenue")):
        ax.set_xticks(np.arange(len(sizes)), [f"2 DAOs of {s}" for s in sizes])
        ax.set_title(f"{title}, learned bids, same draws")
        ax.grid(alpha=0.3, axis="y")
    axes[4].set_ylim(0.8, 1.01)
    axes[4].legend(fontsize="small", loc="lower left")
    fig.suptitle("DAOs under private values (two DAOs of k members, U[0, 1] values): "
                 "what members learn")
    return fig
