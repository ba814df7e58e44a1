"""What emerges under Mechanism 1 on ``models/default.toml`` (the demo), setting by setting.

Members start from random bids and learn by best response under every tie policy
(``TIE_POLICIES``), two revision protocols and ``SEEDS`` seeds, first with fixed values
(complete information: strategies are bids, best responses exact), then with values redrawn
every round, under both strategy kinds (``learning.strategy``): shading factors (bid = α·value)
and bid functions on value knots, best responses on ``learning.samples`` common sampled
profiles, tie policies ``REDRAWN_POLICIES``.

What the runs show (``tests/test_claims.py`` checks it on small versions):

- fixed values: under ``keep`` and ``truthful`` best response reaches an equilibrium,
  ε = 0, in which every pivotal member's bid gets it what bidding its value would
  (``pivotal_truthful_share`` 1); bids are truthful only under ``truthful``, where the
  truthful share is the share of members who have revised (1 − (1 − fraction)^(t − 1)).
  Under ``random`` strategies never settle; under ``lowest`` bids collapse towards 0.
- redrawn values, shading factors: bidding one's value is the only factor that is a best
  response for every value, so under ``keep`` a truthful member never leaves it and the
  truthful share climbs (0.82-0.97 in 100 rounds); under ``random`` members never pivotal
  on the sampled values redraw among equally good factors and it stays low (0.04-0.06).
- redrawn values, bid functions: each knot is revised on its own, and a knot where the member
  is never pivotal on the sampled values is indifferent among bids, so under ``keep`` many
  knots keep their random start: the truthful share flattens at 0.44-0.53 (ε near 0).
  Truthful functions emerge under ``truthful`` (share 1); under ``random`` the share stays
  near 0. So most of the climb under ``keep`` is the one-parameter restriction's.

One tidy row per (values, tie_policy, protocol, seed, round).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.learning.ties import TIE_POLICIES
from dao_abm.paper.common import MODELS, new_figure, seed_overrides
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

SCENARIO = MODELS / "default.toml"
PROTOCOLS = ("inertia", "simultaneous")
SEEDS = 3
ROUNDS = 100
REDRAWN_POLICIES = ("keep", "truthful", "random")
#: Strategy kinds with redrawn values (``learning.strategy``), each a row of the figure.
STRATEGIES = ("shading", "function")
#: Redrawn values: common sampled profiles per best response (the scenario default is 256;
#: 64 keeps the 36 redrawn runs to a few minutes).
SAMPLES = 64
QUICK = ("population.n_members=120", "rounds=30")
QUICK_SAMPLES = 16
METRICS = ("truthful_share", "pivotal_truthful_share", "outcome_truthful_share", "max_gain",
           "mean_bid_ratio", "approximation_ratio", "changed")
COLUMNS = ["values", "tie_policy", "protocol", "seed", "round", *METRICS]
STYLE = {"keep": "C0", "truthful": "C1", "random": "C2", "lowest": "C3"}
LABELS = {"fixed": "fixed values", "redrawn, shading": "redrawn values, shading factors",
          "redrawn, function": "redrawn values, bid functions"}


def run(*, seed: int | None = None, quick: bool = False) -> pd.DataFrame:
    """Every learning run's metrics, one row per round (see the module docstring)."""
    first = load_scenario(SCENARIO).seed if seed is None else seed
    size = list(QUICK) if quick else [f"rounds={ROUNDS}"]
    samples = QUICK_SAMPLES if quick else SAMPLES
    settings = [("fixed", p, []) for p in TIE_POLICIES]
    settings += [(f"redrawn, {kind}", p, ["values.redraw=true", f"learning.samples={samples}",
                                          f"learning.strategy='{kind}'"])
                 for kind in STRATEGIES for p in REDRAWN_POLICIES]
    frames = []
    for values, policy, extra in settings:
        for protocol in PROTOCOLS:
            for s in range(first, first + SEEDS):
                overrides = [f"learning.tie_policy='{policy}'", f"learning.protocol='{protocol}'",
                             "output.figures=false", *seed_overrides(s, None), *size, *extra]
                metrics = run_model(load_scenario(SCENARIO, overrides)).metrics
                frames.append(metrics.assign(values=values, tie_policy=policy,
                                             protocol=protocol, seed=s))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per setting, over seeds: the last round's truthful share (min-max), its largest ε,
    pivotal-truthful share, and how many runs settled (no change and ε = 0 over the last
    10 rounds)."""
    rows = []
    for (values, policy, protocol), part in frame.groupby(
            ["values", "tie_policy", "protocol"], sort=False):
        last = part.groupby("seed").tail(1)
        tail = part[part["round"] > part["round"].max() - 10]
        settled = tail.groupby("seed").apply(
            lambda r: bool((r["changed"] == 0).all() and (r["max_gain"] <= 1e-12).all()),
            include_groups=False)
        rows.append({
            "values": values, "tie_policy": policy, "protocol": protocol,
            "truthful_share": _span(last["truthful_share"]),
            "pivotal_truthful_share": _span(last["pivotal_truthful_share"]),
            "epsilon_end_max": float(last["max_gain"].max()),
            "settled_runs": f"{int(settled.sum())}/{settled.size}",
        })
    return pd.DataFrame(rows)


def _span(x: pd.Series) -> str:
    x = x.dropna()
    if not len(x):
        return "—"
    lo, hi = f"{float(x.min()):.2f}", f"{float(x.max()):.2f}"
    return lo if lo == hi else f"{lo}–{hi}"


def plot(frame: pd.DataFrame) -> Figure:
    """Rows: fixed values, then redrawn values with each strategy kind. Columns: truthful
    share, ε, pivotal-truthful share; a line per tie policy (mean over seeds; inertia solid,
    simultaneous dashed)."""
    rows = ["fixed", *(f"redrawn, {kind}" for kind in STRATEGIES)]
    fig, axes = new_figure(3, len(rows), size=(13, 4 * len(rows)))
    panels = (("truthful_share", "truthful share"), ("max_gain", "ε (largest gain)"),
              ("pivotal_truthful_share", "pivotal members as well off as if truthful"))
    for row, values in enumerate(rows):
        part = frame[frame["values"] == values]
        for col, (metric, title) in enumerate(panels):
            ax = axes[3 * row + col]
            for (policy, protocol), runs in part.groupby(["tie_policy", "protocol"], sort=False):
                mean = runs.groupby("round")[metric].mean()
                ax.plot(mean.index, mean.to_numpy(), color=STYLE[policy],
                        ls="-" if protocol == PROTOCOLS[0] else "--", lw=1.2,
                        label=f"{policy}, {protocol}")
            ax.set_title(f"{LABELS[values]}:\n{title}", fontsize="medium")
            ax.set_xlabel("round")
            if metric == "max_gain":
                ax.set_yscale("symlog", linthresh=1e-3)
            else:
                ax.set_ylim(-0.02, 1.02)
        if values == "fixed" and (part["tie_policy"] == "truthful").any():
            rounds = np.arange(1, part["round"].max() + 1)
            axes[0].plot(rounds, 1 - 0.8 ** (rounds - 1), color="grey", ls=":", lw=1,
                         label="share revised (inertia 20%)")
        axes[3 * row].legend(fontsize="x-small", ncol=2)
    fig.suptitle("What emerges under Mechanism 1 (models/default.toml): a line per tie policy "
                 "and protocol, mean of seeds", fontsize="medium")
    return fig
