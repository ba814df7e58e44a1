"""``dao-abm compare``: several mechanisms on one scenario, on common random numbers.

Replicate ``i`` of every mechanism uses seed ``scenario.seed + i`` and so the same
population, graph and values (see ``dao_abm.experiments.compare``). Prints the comparison
table and writes a folder ``runs/<scenario>/compare-<time>/`` (or ``--out``) atomically:
``comparison.csv``, ``metrics.parquet`` (mechanism, seed, round, columns...),
``summary.json``, ``scenario.toml`` and ``figures/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dao_abm.cli.app import ScenarioArg, SetOpt, app
from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import PRESETS


@app.command("compare")
def compare(
    scenario: ScenarioArg,
    mechanisms: Annotated[str, typer.Option(
        "--mechanisms", "-m", help=f"Comma-separated presets: {', '.join(PRESETS)}.",
        show_default="all presets")
    ] = ",".join(PRESETS),
    seeds: Annotated[int, typer.Option(
        min=1, help="Replicates per mechanism; replicate i uses seed scenario.seed + i.")] = 5,
    rounds: Annotated[int | None, typer.Option(help="Override the number of rounds.",
                                               min=1, show_default=False)] = None,
    set_: SetOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    out: Annotated[Path | None, typer.Option(
        help="Folder to create (must not exist); default runs/<scenario>/compare-<time>/.",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run mechanisms on the same population and seeds; table with 95% CIs, figures."""
    from dao_abm.experiments.compare import (
        format_comparison,
        new_compare_folder,
        parse_mechanisms,
        run_compare,
        write_comparison,
    )
    from dao_abm.experiments.sweep import open_pool
    from dao_abm.runner import with_run_options
    from dao_abm.scenario import load_scenario

    names = parse_mechanisms(mechanisms)
    base = with_run_options(load_scenario(scenario, set_ or []), rounds=rounds)
    folder = out if out is not None else new_compare_folder(Path("runs"), base)
    if folder.exists():
        raise DaoAbmError(f"--out {folder}: already exists; comparisons never overwrite")
    with open_pool(workers) as pool:
        result = run_compare(base, names, seeds, pool=pool,
                             progress=not quiet and sys.stderr.isatty())
    write_comparison(result, folder)
    typer.echo(format_comparison(result))
    typer.echo(f"\nresults: {folder}/")
