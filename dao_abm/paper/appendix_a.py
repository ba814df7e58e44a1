"""Appendix A: truthful parts do not compose into a truthful two-level mechanism.

The instance of ``models/appendix_a.toml``: two items r and s; G1 = {(10 + 2ε, 0),
(5 − ε, ε)}, G2 = {(10, ε)}, ε = 0.01, unit-demand members. Three mechanisms:

- ``vcg-equal-split`` (VCG on group bids, maximum equal-split shares): the paper's example.
  Member 2 of G1 gains ε by bidding above 3ε for s; member 1 then gains by overbidding for r.
- the truthful foil for the instance's valuation class (``truthful_foil``: the first preset
  the property table finds truthful, IR and budget-balanced there; ``grand-bundle`` for
  unit demand, Section 4.2);
- ``dao-vickrey`` item by item, which the property table finds neither truthful nor IR for
  unit-demand members (the static audit of this instance is in ``audit_violations``).

Members learn by best response (sequential, as in the scenario, and inertia) under every tie
policy (``TIE_POLICIES``) for ``SEEDS`` seeds. ``verdict`` classifies the second half of a run:
``settles`` (no strategy changes, ε = max_gain = 0 throughout), ``cycles`` (strategies keep
changing and ε > 0 recurs) or ``drifts`` (anything else). The tie policy decides much of it:
under ``random`` and ``lowest`` a best response is often a non-truthful bid that another
member's move makes costly, so every mechanism, truthful ones included, keeps moving; under
``keep`` learning stops at the first Nash equilibrium. ``key_numbers`` says which settings
cycle; the figure shows the tie policies side by side.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from dao_abm.audit import audit
from dao_abm.audit.properties import property_holds
from dao_abm.instances import make_instance
from dao_abm.learning.ties import TIE_POLICIES
from dao_abm.mechanisms import PRESETS, preset
from dao_abm.paper.common import MODELS, new_figure, seed_overrides
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

SCENARIO = MODELS / "appendix_a.toml"
PROTOCOLS = ("sequential", "inertia")
SEEDS = 3
QUICK_ROUNDS = 60
#: Quick runs use a coarser bid grid (step 1/8 of the value up to 5x instead of 1/16): the
#: deviations of the paper stay on it (3.125 > 3ε/ε for s) and runs take half the time.
QUICK_GRID_POINTS = 41
#: A gain above this counts as a profitable deviation (float noise is ~1e-15).
GAIN_TOL = 1e-9
COLUMNS = ["mechanism", "tie_policy", "protocol", "seed", "round", "truthful_share",
           "max_gain", "mean_bid_ratio", "approximation_ratio", "winner_dao", "changed",
           "audit_violations", "audit_ir_violations"]


def truthful_foil(valuation: str) -> str:
    """The first preset the property table finds truthful, IR and budget-balanced for
    ``valuation`` (``grand-bundle`` for unit demand, ``dao-vickrey`` otherwise)."""
    for name in PRESETS:
        if all(property_holds(name, valuation, prop) for prop in ("dsic", "ir", "bb")):
            return name
    raise ValueError(f"the property table has no truthful preset for {valuation!r}")


def mechanisms(valuation: str) -> tuple[str, ...]:
    """The paper's example, the truthful foil and ``dao-vickrey`` (without repeats)."""
    return tuple(dict.fromkeys(("vcg-equal-split", truthful_foil(valuation), "dao-vickrey")))


def run(*, seed: int | None = None, quick: bool = False,
        scenario: Path = SCENARIO) -> pd.DataFrame:
    """One row per (mechanism, tie policy, protocol, seed, round) of the learning runs.

    Args:
        seed: the first of ``SEEDS`` consecutive seeds (default: the scenario's).
        quick: 60 rounds and ``QUICK_GRID_POINTS`` instead of the scenario's.
        scenario: the Appendix A scenario file.
    """
    spec = load_scenario(scenario)
    first = spec.seed if seed is None else seed
    frames = []
    for mechanism in mechanisms(spec.population.valuation):
        audited = None
        for policy in TIE_POLICIES:
            for protocol in PROTOCOLS:
                for s in range(first, first + SEEDS):
                    overrides = [f"mechanism.preset={mechanism}",
                                 f"learning.tie_policy='{policy}'",
                                 f"learning.protocol='{protocol}'",
                                 *seed_overrides(s, QUICK_ROUNDS if quick else None),
                                 *([f"learning.grid_points={QUICK_GRID_POINTS}"]
                                   if quick else [])]
                    result = run_model(load_scenario(scenario, overrides))
                    audited = audited or _audit(mechanism, result.model)
                    frames.append(result.metrics.assign(
                        mechanism=mechanism, tie_policy=policy, protocol=protocol, seed=s,
                        audit_violations=audited[0], audit_ir_violations=audited[1]))
    out = pd.concat(frames, ignore_index=True)
    out["winner_dao"] += 1  # G1, G2 as in the paper
    return out[COLUMNS]


def _audit(mechanism: str, model) -> tuple[int, int]:
    """Members of the scenario's instance with a profitable misreport, and with negative
    utility under truthful bids (``dao_abm.audit``)."""
    labels = model.groups.labels
    inst = make_instance([model.values[labels == g] for g in range(model.groups.n_groups)],
                         model.scenario.population.valuation)
    report = audit(preset(mechanism), [inst])
    return report.violations, report.ir_violations


def verdict(run_frame: pd.DataFrame) -> str:
    """``settles``, ``cycles`` or ``drifts`` over the second half of one run."""
    late = run_frame[run_frame["round"] > run_frame["round"].max() / 2]
    moving = late["changed"].sum() > 0
    gains = (late["max_gain"] > GAIN_TOL).any()
    if not moving and not gains:
        return "settles"
    return "cycles" if moving and gains else "drifts"


def verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its settings, ``verdict`` and the last round's truthful share."""
    keys = ["mechanism", "tie_policy", "protocol", "seed"]
    rows = [{**dict(zip(keys, key, strict=True)), "verdict": verdict(part),
             "truthful_end": part["truthful_share"].iloc[-1]}
            for key, part in frame.groupby(keys, sort=False)]
    return pd.DataFrame(rows)


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Per mechanism and tie policy (over protocols and seeds): how many runs settle, cycle
    or drift, the mean last-round truthful share, and the static audit of the instance."""
    runs = verdicts(frame)
    table = runs.groupby(["mechanism", "tie_policy"], sort=False).agg(
        runs=("verdict", "size"),
        settles=("verdict", lambda v: int((v == "settles").sum())),
        cycles=("verdict", lambda v: int((v == "cycles").sum())),
        drifts=("verdict", lambda v: int((v == "drifts").sum())),
        truthful_end=("truthful_end", "mean")).reset_index()
    audited = frame.groupby("mechanism", sort=False)[
        ["audit_violations", "audit_ir_violations"]].first()
    return table.join(audited, on="mechanism")


def cycling_text(frame: pd.DataFrame) -> str:
    """Which mechanisms cycle in every run under each tie policy, e.g.
    ``"keep: none; truthful: vcg-equal-split; ..."``."""
    table = key_numbers(frame)
    parts = []
    for policy, part in table.groupby("tie_policy", sort=False):
        always = part.loc[part["cycles"] == part["runs"], "mechanism"].tolist()
        some = part.loc[(part["cycles"] > 0) & (part["cycles"] < part["runs"]), "mechanism"]
        text = ", ".join(always) if always else "none"
        if len(some):
            text += " (in some runs: " + ", ".join(some) + ")"
        parts.append(f"{policy}: {text}")
    return "; ".join(parts)


def plot(frame: pd.DataFrame) -> Figure:
    """Tie policies side by side (columns): ε and the truthful share over rounds for each
    mechanism, the scenario's protocol and first seed; the title says what cycles."""
    protocol, seed = PROTOCOLS[0], frame["seed"].min()
    shown = frame[(frame["protocol"] == protocol) & (frame["seed"] == seed)]
    fig, axes = new_figure(len(TIE_POLICIES), 2, size=(17, 6.5))
    axes = axes.reshape(2, len(TIE_POLICIES))
    runs = verdicts(frame)
    for col, policy in enumerate(TIE_POLICIES):
        top, bottom = axes[0, col], axes[1, col]
        for (mechanism, part), style in zip(shown[shown["tie_policy"] == policy].groupby(
                "mechanism", sort=False), ("-", "--", ":"), strict=False):
            mine = runs[(runs["mechanism"] == mechanism) & (runs["tie_policy"] == policy)]
            label = (f"{mechanism}: cycles in {int((mine['verdict'] == 'cycles').sum())}/"
                     f"{len(mine)} runs")
            top.step(part["round"], part["max_gain"], style, where="post", label=label)
            bottom.step(part["round"], part["truthful_share"], style, where="post",
                        label=mechanism)
        top.set_yscale("symlog", linthresh=1e-3)
        top.set_ylim(bottom=0)
        top.set_title(f"tie_policy = {policy}: ε (largest gain from deviating)",
                      fontsize="medium")
        top.legend(fontsize="x-small", loc="upper right")
        bottom.set_ylim(-0.05, 1.05)
        bottom.set_title("truthful share", fontsize="medium")
        bottom.set_xlabel("round")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    n_runs = frame.groupby(["protocol", "seed"]).ngroups
    names = " vs ".join(shown["mechanism"].unique())
    fig.suptitle(f"Appendix A: {names} under each tie policy ({protocol}, seed {seed} shown)\n"
                 f"Cycling in all {n_runs} runs ({', '.join(PROTOCOLS)} × {SEEDS} seeds) — "
                 f"{cycling_text(frame)}", fontsize="medium")
    return fig

