"""ConstitutionDAO under private values: which pledge functions emerge, and does the DAO win.

The population is ``models/constitution_dao.toml``'s (its seed, 2026): 17,437 contributors
with lognormal pledges (median ≈ $207, $47.1M in all) against one bidder at $43.2M. Under
private values (``equilibrium.pledges``) a contributor's pledge s_i becomes its *type*: every
auction it values the item v_i = s_i·x_i with x_i i.i.d. U[1 − w, 1 + w] (w = 1: anything
from 0 to twice the pledge, E[v_i] = s_i, so the DAO's expected value is still $47.1M). The
rival values the item $43.2M and bids it (the real sale was an ascending auction, where that
is dominant; it is also dominant in Mechanism 1's second-price upper level; ``rival ±20%``
draws it U[$34.6M, $51.8M] afresh instead). Contributors are bucketed by pledge decade
(< $100, $100–1k, $1k–10k, $10k–100k, ≥ $100k), and a bucket's members share one function
f on the normalized scale, pledge = s·f(v/s): "pledge as a share of one's own type".

SODA on the engine's two presets (``daos.learn_daos`` on a ``PledgeMarket``: 33 value knots,
42 candidate pledges, 5 representatives per bucket, a common sample of 1,024 auctions for
the crowdfund and 256 for Mechanism 1), starting at truthful pledges (the complete-
information model's, f = identity), step η = 1 (``SODA step 50``: SODA's default 50):

- ``crowdfund`` (what the DAO used: pledges summed, pay your pledge if the DAO wins);
- ``dao-vickrey`` (Mechanism 1), truthful (Theorem 3.1).

Then on the engine, on the same fresh draws of the whole population, learned against
truthful pledges: the DAO's win probability, welfare (values of everyone with access), OPT
(max of Σ v and R), revenue and the DAO's Σ pledges; and the learned functions' relative
utility loss per bucket on a held-out sample (with the best-response utility, in units of
the type, since a relative loss of tiny utilities is itself tiny-sample noise).

Settings (``SETTINGS``) vary one knob each from ``main``: the value noise (w = 0.5), the
rival's value (private, ±20%; or $8M, about Mechanism 1's truthful WTP, where Mechanism 1
can win), SODA's step, the start (pledge = v/2), and one function shared by all 17,437
contributors (25 representatives at the type quantiles) instead of one per bucket; ``main``
is run for seeds 0, 1, 2 (the seed draws the samples and the initial strategies; the
population stays the scenario's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.equilibrium.daos import learn_daos
from dao_abm.equilibrium.pledges import PledgeMarket
from dao_abm.model.session import Session
from dao_abm.paper.common import MODELS, new_figure
from dao_abm.scenario import load_scenario

SCENARIO = MODELS / "constitution_dao.toml"
MECHANISMS = ("crowdfund", "dao-vickrey")
#: Upper ends of the pledge buckets ($); the last bucket is open.
EDGES = (100.0, 1e3, 1e4, 1e5)
BUCKETS = ("< $100", "$100–1k", "$1k–10k", "$10k–100k", "≥ $100k")
SEEDS, QUICK_SEEDS = (0, 1, 2), (0,)
#: Fresh auctions for the engine's outcomes, and for the held-out utility loss (the
#: crowdfund keeps only the representatives' values, Mechanism 1 everyone's).
DRAWS, QUICK_DRAWS = 512, 128
HELD_OUT = {"crowdfund": 2048, "dao-vickrey": 512}


@dataclass(frozen=True)
class Setting:
    """One knob off the main model: the value noise w, the rival's value range, the SODA
    step η, the start (pledge = start·v), one function for everyone instead of one per
    bucket, and the common sample size per mechanism."""

    noise: float = 1.0
    rival: tuple[float, float] = (43.2e6, 43.2e6)
    eta: float = 1.0
    start: float = 1.0
    one_function: bool = False
    samples: dict[str, int] = field(default_factory=lambda: {"crowdfund": 1024,
                                                             "dao-vickrey": 256})


SETTINGS = {
    "main": Setting(),
    "noise 0.5": Setting(noise=0.5),
    "rival ±20%": Setting(rival=(0.8 * 43.2e6, 1.2 * 43.2e6)),
    "rival $8M": Setting(rival=(8e6, 8e6)),
    "SODA step 50": Setting(eta=50.0),
    "start v/2": Setting(start=0.5),
    "one function": Setting(one_function=True),
}
#: The bucket label of the one function everyone shares (setting ``one function``).
EVERYONE = "everyone"
ITERATIONS, QUICK_ITERATIONS = 300, 20
#: Representatives per bucket (the one shared function gets as many as all buckets).
REPRESENTATIVES = 5
TOL = 1e-4
COLUMNS = ["part", "setting", "mechanism", "seed", "bucket", "value", "bid", "iteration",
           "relative_loss", "seconds", "bids", "win", "welfare", "optimum", "revenue",
           "pledged", "held_out_loss", "held_out_best", "draws", "members", "types"]


def contributors() -> tuple[np.ndarray, float]:
    """The scenario's pledges ``(17437,)`` and the rival's value."""
    session = Session(load_scenario(SCENARIO))
    dao = session.labels == 0
    return session.values[dao], float(session.values[~dao].max())


def buckets_of(pledges: np.ndarray) -> np.ndarray:
    """Each pledge's bucket: its decade (``EDGES``)."""
    return np.searchsorted(EDGES, pledges, side="right")


def learn_one(pledges: np.ndarray, setting: Setting, mechanism: str, seed: int, *,
              quick: bool) -> tuple[PledgeMarket, np.ndarray, list[dict], float]:
    """Learn the bucket functions; returns the market, β ``(J, K)``, the trace rows and the
    seconds spent learning."""
    samples = 64 if quick else setting.samples[mechanism]
    labels = np.zeros(pledges.size, dtype=int) if setting.one_function else buckets_of(pledges)
    market = PledgeMarket(pledges, labels, mechanism, noise=setting.noise,
                          rival=setting.rival, samples=samples,
                          representatives=REPRESENTATIVES * (len(BUCKETS) if setting.one_function
                                                             else 1))
    rng = np.random.default_rng([seed, MECHANISMS.index(mechanism)])
    start, trace = time.perf_counter(), []
    for state in learn_daos(market, rng=rng, eta=setting.eta, tol=TOL,
                            iterations=QUICK_ITERATIONS if quick else ITERATIONS,
                            start=setting.start * market.values):
        trace.append({"iteration": state.iteration,
                      "relative_loss": float(state.relative_loss.max()),
                      "seconds": time.perf_counter() - start})
    return market, state.beta, trace, time.perf_counter() - start


def judge(market: PledgeMarket, beta: np.ndarray, seed: int, *, quick: bool) -> list[dict]:
    """Outcome rows (learned and truthful pledges on the same fresh draws) and the learned
    functions' held-out relative utility loss and best-response utility (per $ of type,
    the largest over buckets)."""
    mechanism = market.mechanism
    draws = QUICK_DRAWS if quick else DRAWS
    numbers = market.evaluate(beta, np.random.default_rng([seed, 7]), draws)
    fresh = market.sample(np.random.default_rng([seed, 8]),
                          QUICK_DRAWS if quick else HELD_OUT[mechanism])
    loss = market.relative_utility_loss(beta, fresh)
    best = market.weights @ market.utilities(beta, fresh).max(axis=2).T
    return [{"part": "outcome", "bids": bids, "draws": draws, **numbers[bids],
             **({"held_out_loss": float(loss.max()), "held_out_best": float(best.max())}
                if bids == "learned" else {})} for bids in ("learned", "truthful")]


def runs(quick: bool) -> list[tuple[str, int]]:
    """(setting, seed) pairs: ``main`` for every seed, each other setting for seed 0."""
    if quick:
        return [("main", 0)]
    return [("main", s) for s in SEEDS] + [(name, 0) for name in SETTINGS if name != "main"]


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """Rows: ``function`` (each bucket's learned f on the value knots: value = v/s, bid =
    pledge/s), ``trace`` (per SODA step: the largest relative utility loss over buckets on
    the common sample), ``outcome`` (learned and truthful pledges on the same draws) and
    ``bucket`` (members and Σ types per bucket).

    Args:
        seed: offsets every seed (default 0: seeds 0, 1, 2).
        quick: the main setting, seed 0, 64 samples, 20 steps, 128 draws (for tests).
    """
    offset = 0 if seed is None else seed
    pledges, _ = contributors()
    labels = buckets_of(pledges)
    rows = [{"part": "bucket", "bucket": BUCKETS[j], "members": int((labels == j).sum()),
             "types": float(pledges[labels == j].sum())} for j in range(len(BUCKETS))]
    for name, s in runs(quick):
        for mechanism in MECHANISMS:
            tag = {"setting": name, "mechanism": mechanism, "seed": s + offset}
            market, beta, trace, seconds = learn_one(pledges, SETTINGS[name], mechanism,
                                                     s + offset, quick=quick)
            rows += [{"part": "trace", **tag, **row} for row in trace]
            names = [EVERYONE] if SETTINGS[name].one_function else BUCKETS
            rows += [{"part": "function", **tag, "bucket": names[j], "value": v, "bid": b}
                     for j in range(market.n_functions)
                     for v, b in zip(market.values, beta[j], strict=True)]
            rows += [{**tag, **row, "seconds": seconds, "iteration": trace[-1]["iteration"]}
                     for row in judge(market, beta, s + offset, quick=quick)]
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["seed"] = out["seed"].astype("Int64")
    return out


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per setting, seed and mechanism: the DAO's win probability, Σ pledges ($M),
    welfare/OPT and revenue ($M), learned against truthful pledges on the same draws; the
    held-out relative utility loss (largest over buckets) and best-response utility per $
    of type; SODA steps and seconds."""
    out = frame[frame["part"] == "outcome"]
    rows = []
    for (setting, seed, mechanism), part in out.groupby(["setting", "seed", "mechanism"],
                                                        sort=False):
        learned = part[part["bids"] == "learned"].iloc[0]
        truthful = part[part["bids"] == "truthful"].iloc[0]
        rows.append({
            "setting": setting, "seed": int(seed), "mechanism": mechanism,
            "win": learned["win"], "win_truthful": truthful["win"],
            "pledged_M": learned["pledged"] / 1e6,
            "pledged_truthful_M": truthful["pledged"] / 1e6,
            "welfare_of_opt": learned["welfare"] / learned["optimum"],
            "welfare_of_opt_truthful": truthful["welfare"] / truthful["optimum"],
            "revenue_M": learned["revenue"] / 1e6,
            "revenue_truthful_M": truthful["revenue"] / 1e6,
            "held_out_loss": learned["held_out_loss"],
            "held_out_best": learned["held_out_best"],
            "steps": int(learned["iteration"]), "seconds": learned["seconds"]})
    return pd.DataFrame(rows)


def plot(frame: pd.DataFrame) -> Figure:
    """Top: pledge/value against v/s per bucket, crowdfund and Mechanism 1 (main, first
    seed), and the crowdfund's mean pledge/value over buckets in every setting. Bottom: the
    DAO's win probability, welfare/OPT and Σ pledges, learned against truthful."""
    fig, axes = new_figure(3, 2, size=(15, 8.5))
    functions = frame[frame["part"] == "function"]
    first = int(functions["seed"].min())
    colours = dict(zip(BUCKETS, ["tab:blue", "tab:orange", "tab:green", "tab:red",
                                 "tab:purple"], strict=True))
    for ax, mechanism in zip(axes[:2], MECHANISMS, strict=True):
        part = functions[(functions["setting"] == "main") & (functions["seed"] == first)
                         & (functions["mechanism"] == mechanism) & (functions["value"] > 0)]
        ax.axhline(1.0, color="black", lw=2.5, alpha=0.25, label="truthful")
        for bucket, rows in part.groupby("bucket", sort=False):
            ax.plot(rows["value"], rows["bid"] / rows["value"], marker=".",
                    color=colours[bucket], label=bucket)
        ax.set(title=f"{mechanism}: learned pledge / value (main, seed {first})",
               xlabel="value / type  v/s", ylim=(-0.05, 1.3))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pledge / value")
    axes[0].legend(fontsize="small", loc="lower right")
    crowd = functions[(functions["mechanism"] == "crowdfund") & (functions["value"] > 0)]
    for (setting, seed), rows in crowd.groupby(["setting", "seed"], sort=False):
        mean = rows.groupby("value")["bid"].mean()
        axes[2].plot(mean.index, mean.to_numpy() / mean.index.to_numpy(),
                     label=f"{setting}, seed {int(seed)}", lw=1.2)
    axes[2].axhline(1.0, color="black", lw=2.5, alpha=0.25)
    axes[2].set(title="crowdfund: mean pledge / value over buckets",
                xlabel="value / type  v/s", ylim=(-0.05, 1.3))
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize="x-small")
    table = key_numbers(frame)
    labels = [f"main\nseed {int(r.seed)}" if r.setting == "main"
              else r.setting.replace(" ", "\n", 1)
              for r in table.drop_duplicates(["setting", "seed"]).itertuples()]
    x = np.arange(len(labels))
    panels = (("win", "win_truthful", "DAO win probability"),
              ("welfare_of_opt", "welfare_of_opt_truthful", "welfare / OPT"),
              ("pledged_M", "pledged_truthful_M", "Σ pledges $M"))
    for ax, (col, truthful, title) in zip(axes[3:], panels, strict=True):
        for i, mechanism in enumerate(MECHANISMS):
            part = table[table["mechanism"] == mechanism]
            ax.bar(x + (i - 0.5) * 0.4, part[col], 0.2, label=f"{mechanism}, learned")
            ax.bar(x + (i - 0.5) * 0.4 + 0.2, part[truthful], 0.2, alpha=0.45,
                   label=f"{mechanism}, truthful")
        ax.set_xticks(x, labels, fontsize="x-small")
        ax.set_title(f"{title}: learned against truthful, same draws")
        ax.grid(alpha=0.3, axis="y")
    axes[5].axhline(43.2, color="grey", ls=":", label="$43.2M")
    axes[3].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(0.0, 0.93))
    fig.suptitle("ConstitutionDAO under private values: 17,437 contributors, v = pledge × "
                 "U[1 − w, 1 + w], pledges learned by SODA per pledge-size bucket")
    return fig
