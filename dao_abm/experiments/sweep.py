"""Run many cells on local processes or a Dask cluster; a sweep is resumable.

Backends (``open_pool``): one worker runs the cells in this process, one after another;
``--workers K`` runs them on a ``concurrent.futures.ProcessPoolExecutor`` of K processes;
``--scheduler ADDRESS`` on an existing Dask cluster through
``dask.distributed.Client(ADDRESS).get_executor()``. Local workers use the stdlib pool rather
than dask's ``LocalCluster``: it starts in milliseconds (forked workers inherit the imported
model; a LocalCluster takes seconds to start its scheduler, nannies and spawned workers, which
then import the model again), it has no scheduler or dashboard to run, and the same
``concurrent.futures.Executor`` interface serves both backends.

Workers only compute: each returns its cell's metrics and summary to this process, which
writes the part file. A remote cluster therefore needs no shared filesystem (but needs
dao_abm installed on its workers). A cell's numbers are a function of its scenario (seed
included) alone and the combined tables follow cell order, not completion order, so the
results do not depend on the backend or on the number of workers.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from tqdm import tqdm

from dao_abm import plots_experiments as plots
from dao_abm.errors import DaoAbmError
from dao_abm.experiments import stats, store
from dao_abm.experiments.grid import Axis, Cell, sweep_id
from dao_abm.extras import require
from dao_abm.runner import run_model
from dao_abm.scenario import Scenario, write_scenario

CellResult = tuple[pd.DataFrame, dict]
CellFn = Callable[[Scenario], CellResult]

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 3.0
#: The Dask scheduler's port when the address names none.
DASK_PORT = 8786


def simulate(scenario: Scenario) -> CellResult:
    """The default cell function: run the model; its metrics (one row per round) and the
    run's summary (``dao_abm.runner.summarize``)."""
    result = run_model(scenario)
    return result.metrics, result.summary


@contextmanager
def open_pool(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor | None]:
    """The executor cells run on: None (in this process), a process pool, or a Dask cluster.

    Raises:
        DaoAbmError: both ``workers > 1`` and ``scheduler``, ``workers < 1``, or a
            scheduler that does not answer within ``CONNECT_TIMEOUT`` seconds.
    """
    if workers < 1:
        raise DaoAbmError(f"--workers {workers}: must be >= 1")
    if scheduler and workers > 1:
        raise DaoAbmError("--workers and --scheduler: give one (the cluster has its workers)")
    if scheduler:
        client = connect(scheduler)
        try:
            yield client.get_executor()
        finally:
            client.close()
    elif workers > 1:
        pool = ProcessPoolExecutor(workers, mp_context=_start_context())
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield None


def connect(address: str, timeout: float = CONNECT_TIMEOUT):
    """A ``dask.distributed.Client`` of the scheduler at ``address``.

    Raises:
        DaoAbmError: a malformed address, or no Dask scheduler answering within ``timeout``
            seconds (whatever the failure, it is reported as one line).
    """
    require("cluster", f"--scheduler {address}")
    from dask.distributed import Client  # imported here: dask is slow to import

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        _probe(address, timeout)
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # whatever fails, the address does not lead to a scheduler
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DaoAbmError(f"--scheduler {address}: cannot connect to a Dask scheduler "
                          f"({reason})") from None
    finally:
        quiet.setLevel(level)


def _probe(address: str, timeout: float) -> None:
    """Check that a Dask scheduler answers before making a Client (a Client that fails
    half-way prints tracebacks when collected): a plain TCP connect fails fast on a refused
    port or an unknown host, then a Dask handshake proves it is Dask that answers."""
    from distributed.comm import connect as dask_connect
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "tcp":
        return
    host, port = parse_host_port(location, DASK_PORT)
    socket.create_connection((host, port), timeout=timeout).close()

    async def handshake() -> None:
        comm = await dask_connect(address, timeout=timeout)
        await comm.close()

    asyncio.run(handshake())


def _start_context() -> multiprocessing.context.BaseContext:
    """Fork on Linux: workers start at once, with the model already imported (a spawned
    worker spends seconds importing it again). Asked for by name because importing
    ``mesa.batchrunner`` sets the process-wide default to spawn. Elsewhere (macOS, where
    fork is unsafe, and Windows) the platform's default."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def run_cells(cells: Sequence[Cell], cell_fn: CellFn = simulate,
              pool: Executor | None = None) -> Iterator[tuple[Cell, CellResult]]:
    """Yield ``(cell, cell_fn(cell.scenario))`` as cells finish (in order without a pool)."""
    if pool is None:
        for cell in cells:
            yield cell, cell_fn(cell.scenario)
        return
    futures = {pool.submit(cell_fn, cell.scenario): cell for cell in cells}
    try:
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        for future in futures:
            future.cancel()


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A finished sweep: the combined tables and what this run did."""

    folder: Path
    metrics: pd.DataFrame
    runs: pd.DataFrame
    points: pd.DataFrame
    ran: int
    reused: int
    removed_tmp: int


def default_folder(root: Path, base: Scenario, cells: Sequence[Cell]) -> Path:
    """``root/<scenario>/sweep-<sweep id>/``: the same sweep always maps to the same folder,
    so running the same command again resumes it."""
    return root / base.name / f"sweep-{sweep_id(cells)}"


def check_folder(folder: Path) -> None:
    """DaoAbmError unless ``folder`` is new, empty, or a sweep folder (has sweep.json)."""
    if folder.exists() and not folder.is_dir():
        raise DaoAbmError(f"--out {folder}: is a file, not a folder")
    mine = {store.MANIFEST, ".lock"}
    if folder.is_dir() and any(p.name not in mine for p in folder.iterdir()) and not (
            folder / store.MANIFEST).exists():
        raise DaoAbmError(f"--out {folder}: exists and is not a sweep folder (no "
                          f"{store.MANIFEST}); give a new folder or a sweep's")


def run_sweep(base: Scenario, axes: Sequence[Axis], cells: Sequence[Cell], folder: Path, *,
              source: str = "scenario", cell_fn: CellFn = simulate,
              pool: Executor | None = None, progress: bool = False) -> SweepResult:
    """Run the cells not yet stored in ``folder``, storing each as it finishes; then write
    the combined tables and figures (see ``store`` for the layout).

    Args:
        base: the scenario as loaded (written to ``scenario.toml``).
        axes: the grid; cells: every cell of it (``grid.expand``), all validated.
        folder: the sweep folder, new or holding this or another sweep.
        source: the scenario's path, recorded in ``sweep.json``.
        cell_fn: computes a cell from its scenario (must be picklable for a pool).
        pool: from ``open_pool``; None runs the cells here.
        progress: show a progress bar over cells (on stderr).
    """
    check_folder(folder)
    with store.locked(folder):
        removed = store.prepare(folder)
        store.write_json(folder / store.MANIFEST, manifest(base, axes, cells, source))
        write_scenario(base, folder / "scenario.toml")
        done = store.finished_ids(folder)
        todo = list({c.cell_id: c for c in cells if c.cell_id not in done}.values())
        total = len({c.cell_id for c in cells})
        with tqdm(total=total, initial=total - len(todo), desc="cells", unit="cell",
                  disable=not progress, dynamic_ncols=True) as bar:
            for cell, (metrics, summary) in run_cells(todo, cell_fn, pool):
                store.write_part(folder, cell.cell_id, metrics, summary)
                bar.update()
        metrics, runs = combine(folder, cells)
        points = write_results(folder, metrics, runs, [axis.key for axis in axes],
                               figures=base.output.figures)
    return SweepResult(folder, metrics, runs, points, len(todo), total - len(todo), removed)


def combine(folder: Path, cells: Sequence[Cell]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sweep's tables from its stored cells, in cell order (see ``store.tidy``)."""
    def items():
        for cell in cells:
            metrics, summary = store.read_part(store.part_path(folder, cell.cell_id))
            keys = {"cell_id": cell.cell_id, "point": cell.point, **cell.params,
                    "seed": cell.seed}
            yield keys, metrics, summary
    return store.tidy(items())


def write_results(folder: Path, metrics: pd.DataFrame, runs: pd.DataFrame,
                  keys: Sequence[str], *, figures: bool = True) -> pd.DataFrame:
    """Write the combined tables, ``points.csv`` and (with grid keys) the figures; return
    the per-point table (``stats.summary_table`` over the grid keys, or ``point``)."""
    points = stats.summary_table(runs, list(keys) or ["point"])
    store.write_table(metrics, folder / "metrics.parquet")
    store.write_table(runs, folder / "summary.parquet")
    store.write_table(runs, folder / "summary.csv")
    store.write_table(points, folder / "points.csv")
    if figures and keys:
        write_figures(runs, keys, folder / "figures")
    return points


def manifest(base: Scenario, axes: Sequence[Axis], cells: Sequence[Cell], source: str) -> dict:
    """What ``sweep.json`` records: enough to tell what the folder holds and to re-run it."""
    n_seeds = len({c.seed for c in cells})
    return {
        "scenario": source, "name": base.name, "base_seed": base.seed, "n_seeds": n_seeds,
        "seeds": f"scenario.seed + i for i in 0..{n_seeds - 1}",
        "combination": "cartesian product of the grid values (grid, not zip)",
        "grid": {axis.key: list(axis.values) for axis in axes},
        "cells": [{"cell_id": c.cell_id, "point": c.point, "seed": c.seed} for c in cells],
    }


#: Sweep figures: file -> (summary column, y label).
FIGURES = {
    "final_ratio.png": ("approximation_ratio", "OPT / welfare, last round"),
    "final_truthful_share.png": ("truthful_share", "truthful share, last round"),
}


def write_figures(runs: pd.DataFrame, keys: Sequence[str], folder: Path) -> None:
    """Each ``FIGURES`` column against the first grid key, mean ± 95% interval over seeds,
    one line per combination of the other keys."""
    folder.mkdir(exist_ok=True)
    for name, (column, label) in FIGURES.items():
        points = stats.grouped_ci(runs, keys, column)
        fig = plots.against_key(points, keys[0], keys[1:], ylabel=label,
                                title=f"{label} (mean, 95% CI over seeds)")
        with store.atomic(folder / name) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
