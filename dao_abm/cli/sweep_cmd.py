"""``dao-abm sweep``: a resumable parameter sweep on local processes or a Dask cluster.

Cells are the Cartesian product of every ``--grid`` key's values (a grid, not a zip) times
the seeds ``scenario.seed + i``, ``i < --seeds``; values are TOML literals, as with
``--set``. Every cell is validated before any runs. Each finished cell is stored at once as
``<out>/cells/<cell_id>.parquet``, so running the same command again (same ``--out``, or
the default folder, which is named after the sweep's cells) skips the finished ones. At the
end ``metrics.parquet``, ``summary.parquet``/``.csv``, ``points.csv`` and ``figures/`` are
written (see ``dao_abm.experiments.store``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dao_abm.cli.app import app
from dao_abm.experiments.grid import expand, parse_grid
from dao_abm.scenario import load_scenario, scenario_file

if TYPE_CHECKING:
    from dao_abm.experiments.sweep import SweepResult

GridOpt = Annotated[list[str] | None, typer.Option(
    "--grid", "-g", help="key=v1,v2,... (repeatable; the sweep runs every combination), "
                         "e.g. --grid learning.rule=best-response,logit.", show_default=False)]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a scenario key for every cell, e.g. --set rounds=50 "
                  "(repeatable).", show_default=False)]


@app.command("sweep")
def sweep(
    scenario: Annotated[Path, typer.Argument(
        help="Scenario TOML file (see models/), or a bundled scenario's name, e.g. default.")],
    grid: GridOpt = None,
    seeds: Annotated[int, typer.Option(
        min=1, help="Seeds per grid point: scenario.seed + i for i in 0..N-1.")] = 1,
    workers: Annotated[int, typer.Option(
        min=1, help="Local worker processes (1: run in this process).")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        help="Sweep folder (resumed if it holds a sweep); default "
             "runs/<scenario>/sweep-<id>/, the same for the same sweep.",
        show_default=False)] = None,
    rounds: Annotated[int | None, typer.Option(help="Override the number of rounds.",
                                               min=1, show_default=False)] = None,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a scenario over a grid of parameters and seeds; resumable."""
    from dao_abm.experiments.sweep import check_folder, default_folder, open_pool, run_sweep
    from dao_abm.runner import with_run_options

    scenario = scenario_file(scenario)
    base = with_run_options(load_scenario(scenario, set_ or []), rounds=rounds)
    axes = parse_grid(grid or [])
    cells = expand(base, axes, seeds, source=str(scenario), base_dir=scenario.parent)
    folder = out if out is not None else default_folder(Path("runs"), base, cells)
    check_folder(folder)
    start = time.perf_counter()
    with open_pool(workers, scheduler) as pool:
        result = run_sweep(base, axes, cells, folder, source=str(scenario), pool=pool,
                           progress=not quiet and sys.stderr.isatty())
    typer.echo(format_result(result, [axis.key for axis in axes], time.perf_counter() - start))


def format_result(result: SweepResult, keys: list[str], seconds: float) -> str:
    """What the sweep did, the per-point table, and where the results are."""
    from dao_abm.experiments import stats

    points = len(result.points)
    lines = [f"dao-abm sweep: {result.ran + result.reused} cells ({points} grid "
             f"point{'s' * (points != 1)} x {len(result.runs) // max(points, 1)} seeds): ran "
             f"{result.ran}, {result.reused} already done, {seconds:.1f} s"]
    if result.removed_tmp:
        lines.append(f"removed {result.removed_tmp} unfinished *.tmp file(s) of an earlier run")
    lines += ["", stats.format_table(result.points, keys or ["point"]), "",
              f"results: {result.folder}/",
              "  " + ", ".join(sorted(p.name + "/" * p.is_dir() for p in result.folder.iterdir()
                                      if not p.name.startswith(".")))]
    return "\n".join(lines)
