"""``dao-abm paper``: reproduce the paper's results as figures and tables.

``dao-abm paper NAME [--out DIR] [--seed S] [--quick]`` runs one experiment of
``dao_abm.paper`` (or ``all``), writes ``<out>/<name>.png`` and ``<out>/<name>.csv``, each
atomically (a temporary file in the same folder, then a rename), and prints the key numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dao_abm.cli.app import app
from dao_abm.paper import EXPERIMENTS, Experiment, select

if TYPE_CHECKING:
    import pandas as pd

DPI = 110


@app.command("paper")
def paper(
    name: Annotated[str, typer.Argument(
        help=f"Experiment: {', '.join(EXPERIMENTS)}, or all.", show_default=False)],
    out: Annotated[Path, typer.Option(help="Folder for <name>.png and <name>.csv.")] = Path(
        "docs/figures"),
    seed: Annotated[int | None, typer.Option(
        help="Seed of every random draw (default: each experiment's own).", min=0,
        show_default=False)] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes (for tests).")] = False,
) -> None:
    """Reproduce the paper's results: run an experiment, write its figure and data."""
    experiments = select(name)
    out.mkdir(parents=True, exist_ok=True)
    for experiment in experiments:
        typer.echo(run_experiment(experiment, out, seed=seed, quick=quick))


def run_experiment(experiment: Experiment, out: Path, *, seed: int | None, quick: bool) -> str:
    """Run, plot and write one experiment; returns what to print."""
    start = time.perf_counter()
    frame = experiment.run(seed=seed, quick=quick)
    figure = experiment.plot(frame)
    png, csv = out / f"{experiment.name}.png", out / f"{experiment.name}.csv"
    write_atomic(png, lambda path: figure.savefig(path, format="png", dpi=DPI))
    write_atomic(csv, lambda path: frame.to_csv(path, index=False))
    seconds = time.perf_counter() - start
    return format_report(experiment, experiment.key_numbers(frame), seconds, seed, (png, csv))


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` to a temporary file next to ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def format_report(experiment: Experiment, table: pd.DataFrame, seconds: float,
                  seed: int | None, files: tuple[Path, ...]) -> str:
    """Title, the key-number table (six significant digits), runtime and files written."""
    body = table.to_string(index=False, float_format=lambda x: f"{x:.6g}")
    seed_text = "default seed" if seed is None else f"seed {seed}"
    lines = [f"dao-abm paper {experiment.name} — {experiment.title}",
             f"  ({seed_text}, {seconds:.1f} s)",
             *("  " + line for line in body.splitlines()),
             "  wrote " + ", ".join(str(f) for f in files), ""]
    return "\n".join(lines)
