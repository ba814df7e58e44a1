"""Appendix A: truthful parts do not compose into a truthful two-level mechanism.

Runs the scenario ``models/appendix_a.toml`` (two items r and s; G1 = {(10 + 2ε, 0),
(5 − ε, ε)}, G2 = {(10, ε)}, ε = 0.01, unit demand) under ``vcg-equal-split`` (VCG on group
bids, maximum equal-split shares) and under ``dao-vickrey``, with the same seed, and records
per round the truthful share, ε (the largest gain any member has from best-responding,
``max_gain``) and the mean bid/value. Under VCG + equal split member 2 of G1 gains ε by
bidding above 3ε for s; member 1 then gains 3ε by overbidding for r; learning keeps moving.
Under Mechanism 1 truthful bidding is dominant and learning settles on it with ε = 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dao_abm.paper.common import MODELS, new_figure, seed_overrides
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

SCENARIO = MODELS / "appendix_a.toml"
MECHANISMS = ("vcg-equal-split", "dao-vickrey")
QUICK_ROUNDS = 36
#: A gain above this counts as a profitable deviation (float noise is ~1e-15).
GAIN_TOL = 1e-9
COLUMNS = ["mechanism", "round", "truthful_share", "max_gain", "mean_bid_ratio",
           "approximation_ratio", "winner_dao", "changed"]


def run(*, seed: int | None = None, quick: bool = False,
        scenario: Path = SCENARIO) -> pd.DataFrame:
    """One row per (mechanism, round) of the learning run.

    Args:
        seed: overrides the scenario's seed (default: the scenario's).
        quick: 36 rounds instead of the scenario's.
        scenario: the Appendix A scenario file.
    """
    frames = []
    for mechanism in MECHANISMS:
        overrides = [f"mechanism.preset={mechanism}",
                     *seed_overrides(seed, QUICK_ROUNDS if quick else None)]
        metrics = run_model(load_scenario(scenario, overrides)).metrics
        frames.append(metrics.assign(mechanism=mechanism))
    out = pd.concat(frames, ignore_index=True)
    out["winner_dao"] += 1  # G1, G2 as in the paper
    return out[COLUMNS]


def plot(frame: pd.DataFrame) -> Figure:
    """Truthful share, ε and the mean bid/value over rounds, both mechanisms."""
    fig, axes = new_figure(3, size=(14, 4))
    panels = (("truthful_share", "truthful share"),
              ("max_gain", "ε: largest gain from deviating"),
              ("mean_bid_ratio", "mean bid / value"))
    for ax, (column, title) in zip(axes, panels, strict=True):
        for mechanism, part in frame.groupby("mechanism", sort=False):
            ax.step(part["round"], part[column], where="post", label=mechanism,
                    lw=2 if mechanism == "dao-vickrey" else 1.2)
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.05, 1.05)
    axes[1].set_yscale("symlog", linthresh=1e-3)
    axes[1].set_ylim(bottom=0)
    for gain, text, ls in ((0.03, "3ε = 0.03: member 1 of G1 overbids for r", "--"),
                           (0.01, "ε = 0.01: member 2 of G1 bids > 3ε for s", ":")):
        axes[1].axhline(gain, color="grey", lw=0.8, ls=ls, label=text)
    axes[1].legend(handles=axes[1].lines[-2:], fontsize="small", loc="upper right")
    axes[2].axhline(1.0, color="grey", lw=0.8, ls=":")
    axes[0].legend()
    fig.suptitle("Appendix A: best responses under VCG + equal split keep cycling; "
                 "under Mechanism 1 they settle on truthful bids")
    return fig


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per mechanism: the last round's truthful share and ε; over the second half of the run
    (``_late``) how many rounds had ε > 0 and how many strategies changed; and the round from
    which it stayed truthful with ε = 0 (``settled_at``, NaN if never)."""
    rows = []
    for mechanism, part in frame.groupby("mechanism", sort=False):
        late = part[part["round"] > part["round"].max() / 2]
        settled = _settled_from(part)
        rows.append({
            "mechanism": mechanism, "rounds": int(part["round"].max()),
            "truthful_end": part["truthful_share"].iloc[-1],
            "eps_end": part["max_gain"].iloc[-1],
            "rounds_eps>0_late": int((late["max_gain"] > GAIN_TOL).sum()),
            "changes_late": int(late["changed"].sum()),
            "settled_at": settled,
        })
    return pd.DataFrame(rows)


def _settled_from(part: pd.DataFrame) -> float:
    """First round from which every later round is truthful with ε = 0 (NaN if none)."""
    ok = ((part["truthful_share"] == 1.0) & (part["max_gain"] <= GAIN_TOL)).to_numpy()
    if not ok[-1]:
        return np.nan
    bad = np.flatnonzero(~ok)
    return float(part["round"].iloc[bad[-1] + 1] if bad.size else part["round"].iloc[0])
