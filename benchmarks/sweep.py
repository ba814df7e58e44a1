"""Sweep throughput: a 16-cell sweep on 2 local worker processes against 1 worker.

Both sweeps run in this process, one after the other, on the same cells (4 values of
``values.sigma`` x 4 seeds of ``models/default.toml`` with ``ROUNDS`` rounds, about 0.5-1 s
per cell), each into a fresh folder so nothing is resumed. The times are wall clock for the
whole ``run_sweep`` call: starting the pool, running the cells, writing the part files and
combining them (figures off: they are the same serial work for both); each is the best of
``REPEATS`` runs, interleaved. One worker runs the cells in this process; two run them on a
fork-started process pool, so the speedup includes the pool's start-up.

``reference_speedup_2_processes`` is the same comparison for pure-Python CPU work, measured
in the same run: the speedup the machine offers at the moment (below 2 when other processes
are busy), against which to read the sweep's.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dao_abm.experiments.grid import expand, parse_grid
from dao_abm.experiments.sweep import open_pool, run_sweep
from dao_abm.scenario import load_scenario

#: Figure -> (comparison, threshold) checked by run.py (this machine has 2 cores).
TARGETS = {"sweep_speedup_2_workers": (">=", 1.7)}

SCENARIO = Path(__file__).resolve().parents[1] / "models" / "default.toml"
ROUNDS = 300
GRID = ["values.sigma=0.4,0.6,0.8,1.0"]
SEEDS = 4
REPEATS = 2


def sweep_seconds(workers: int) -> float:
    """Wall time of the whole sweep on ``workers`` local workers, in a fresh folder."""
    base = load_scenario(SCENARIO, [f"rounds={ROUNDS}", "output.figures=false"])
    axes = parse_grid(GRID)
    cells = expand(base, axes, SEEDS)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with open_pool(workers) as pool:
            run_sweep(base, axes, cells, Path(folder) / "sweep", pool=pool)
        return time.perf_counter() - start


def spin(n: int) -> int:
    """Pure-Python CPU work, for the reference speedup."""
    return sum(i * i % 7 for i in range(n))


def reference_seconds(workers: int, tasks: int = 16, n: int = 1_500_000) -> float:
    """Wall time of ``tasks`` calls of ``spin`` here (1) or on a fork pool (2): what the
    machine allows right now, other processes included."""
    start = time.perf_counter()
    if workers == 1:
        [spin(n) for _ in range(tasks)]
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            list(pool.map(spin, [n] * tasks))
    return time.perf_counter() - start


def measure() -> dict[str, float]:
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(REPEATS):  # interleaved, so that load from elsewhere hits both alike
        for workers in (1, 2):
            times.setdefault(("sweep", workers), []).append(sweep_seconds(workers))
            times.setdefault(("spin", workers), []).append(reference_seconds(workers))
    best = {key: min(values) for key, values in times.items()}
    one, two = best["sweep", 1], best["sweep", 2]
    reference = best["spin", 1] / best["spin", 2]
    cells = SEEDS * 4
    print(f"sweep of {cells} cells: 1 worker {one:.2f} s ({one / cells:.2f} s per cell), "
          f"2 workers {two:.2f} s, speedup {one / two:.2f} (pure-CPU reference on 2 "
          f"processes: {reference:.2f})")
    return {
        "sweep_16_cells_1_worker_s": one,
        "sweep_16_cells_2_workers_s": two,
        "sweep_seconds_per_cell": one / cells,
        "sweep_speedup_2_workers": one / two,
        "reference_speedup_2_processes": reference,
    }


if __name__ == "__main__":
    measure()
