"""``dao-abm run``: run a scenario and write its run folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dao_abm.cli.app import ScenarioArg, SetOpt, app, mechanism_label
from dao_abm.scenario import load_scenario, mechanism_of

if TYPE_CHECKING:
    from dao_abm.runner import RunResult


@app.command("run")
def run(
    scenario: ScenarioArg,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.", min=0)] = None,
    rounds: Annotated[int | None, typer.Option(help="Override the number of rounds.",
                                               min=1)] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder to create (must not exist); "
                                             "default runs/<scenario>/<time>-seed<S>/.")] = None,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run repeated two-level auctions with learning members; write metrics and figures."""
    from dao_abm.runner import run_scenario, with_run_options

    spec = with_run_options(load_scenario(scenario, set_ or []), seed=seed, rounds=rounds)
    result, folder = run_scenario(spec, out=out, progress=not quiet and sys.stderr.isatty())
    typer.echo(format_summary(result, folder))


def format_summary(result: RunResult, folder: Path) -> str:
    """A one-screen summary of a finished run."""
    s, sc = result.summary, result.scenario
    if sc.sessions > 1 or not s.get("rounds"):
        return format_ensemble(result, folder)
    groups = result.model.groups
    conv = s["converged_round"]
    lines = [
        f"dao-abm run: {sc.name} — {sc.description}".rstrip(" —"),
        f"  mechanism      {mechanism_label(mechanism_of(sc))}",
        f"  learning       {sc.learning.rule}, {sc.learning.protocol} revision, "
        f"ties: {sc.learning.tie_policy}; values {'redrawn' if sc.values.redraw else 'fixed'}",
        f"  bidders        {result.model.n_bidders} in {groups.n_groups} DAOs "
        f"(largest {groups.max_size})",
        f"  rounds         {s['rounds']} in {result.seconds:.1f} s; "
        f"converged at round {conv if conv is not None else '— (not within the run)'}; "
        f"last strategy change in round {s['last_change_round'] or '—'}",
        "  last round     "
        f"welfare {_f(s['welfare'])} of optimum {_f(s['optimal_welfare'])} "
        f"(OPT/welfare {_f(s['approximation_ratio'])}), revenue {_f(s['revenue'])}",
        f"  bidding        truthful share {_f(s['truthful_share'])}, "
        f"mean bid/value {_f(s['mean_bid_ratio'])}, epsilon {_f(s['max_gain'])}; "
        f"pivotal members bidding as well as truthful {_f(s.get('pivotal_truthful_share'))}",
        f"  whole run      OPT/welfare {_f(s['cumulative_ratio'])} (cumulative), "
        f"mean truthful share {_f(s['mean_truthful_share'])}"
        + (f"; {s['zero_welfare_rounds']} rounds with zero welfare"
           if s["zero_welfare_rounds"] else ""),
        f"  results        {folder}/",
        "                 metrics.csv, summary.json, scenario.toml, run.json, figures/",
    ]
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def format_ensemble(result: RunResult, folder: Path) -> str:
    """A one-screen summary of an ensemble (or of a run stopped before any record)."""
    s, sc = result.summary, result.scenario
    metrics = s.get("metrics", {})
    lines = [
        f"dao-abm run: {sc.name} — {sc.sessions} sessions"
        + (" (interrupted)" if s["interrupted"] else ""),
        f"  mechanism      {mechanism_label(mechanism_of(sc))}",
        f"  learning       {sc.learning.rule}; {s['rounds_played']} of {sc.rounds} rounds "
        f"in {result.seconds:.1f} s",
    ]
    if metrics:
        lines.append(f"  converged      {_f(s['converged_share'])} of sessions")
        for name in ("revenue", "welfare", "truthful_share", "mean_bid_ratio", "max_gain"):
            if name not in metrics:
                continue
            final, avg = metrics[name]["final"], metrics[name]["time_average"]
            lines.append(f"  {name:<14} last {_ci(final)}; time average {_ci(avg)}")
    lines += [f"  results        {folder}/",
              "                 metrics.csv (a row per session and recorded round), "
              "summary.json, figures/"]
    return "\n".join(lines)


def _ci(x: dict) -> str:
    if x["low"] is None:
        return _f(x["mean"])
    return f"{_f(x['mean'])} [{_f(x['low'])}, {_f(x['high'])}]"
