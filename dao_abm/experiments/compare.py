"""Compare mechanisms on common random numbers: one scenario, several presets, N seeds.

Replicate ``i`` of every mechanism runs with seed ``scenario.seed + i``. The model draws the
population (values, affinity graph, DAOs) from that seed before anything that depends on
the mechanism, so replicate ``i`` of every mechanism faces the same bidders: differences
between mechanisms are paired, not the luck of the draw (common random numbers). Learning
draws come from the same stream too, though they fall out of step once the mechanisms'
dynamics differ.

Each mechanism is the preset as named: the scenario's ``mechanism.aggregation``, ``upper``
and ``cost_sharing`` overrides are dropped, so every row is the mechanism its name says.
Intervals are 95% Student-t intervals over the seeds (``stats``); one seed gives none.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from tqdm import tqdm

from dao_abm import plots_experiments as plots
from dao_abm.errors import DaoAbmError
from dao_abm.experiments import stats, store
from dao_abm.experiments.grid import Axis, Cell, expand
from dao_abm.experiments.sweep import CellFn, run_cells, simulate
from dao_abm.folders import unique_folder, write_atomically
from dao_abm.mechanisms import PRESETS
from dao_abm.scenario import Scenario, write_scenario
from dao_abm.scenario.schema import MechanismSpec

#: Figures of a comparison: file -> (metrics column, y label).
FIGURES = {
    "welfare_ratio.png": ("approximation_ratio", "OPT / welfare"),
    "truthful_share.png": ("truthful_share", "truthful share"),
}


@dataclass(frozen=True, eq=False)
class Comparison:
    """A finished comparison.

    Attributes:
        scenario: the scenario compared on (mechanism overrides dropped; the seed of
            replicate 0).
        mechanisms: the presets compared, in the order given.
        seeds: the seeds of the replicates.
        metrics: tidy, one row per (mechanism, seed, round): ``mechanism``, ``seed``, then
            the model's columns.
        runs: one row per (mechanism, seed): its summary (final values, converged_round...).
        table: ``stats.summary_table`` of ``runs`` by mechanism.
        seconds: wall time of the runs.
    """

    scenario: Scenario
    mechanisms: tuple[str, ...]
    seeds: tuple[int, ...]
    metrics: pd.DataFrame
    runs: pd.DataFrame
    table: pd.DataFrame
    seconds: float


def parse_mechanisms(text: str) -> list[str]:
    """``"dao-vickrey,split-the-bill"`` -> the preset names (DaoAbmError listing the valid ones)."""
    names = [name.strip() for name in text.split(",")]
    valid = ", ".join(PRESETS)
    for name in names:
        if name not in PRESETS:
            raise DaoAbmError(f"--mechanisms: unknown mechanism {name!r}; choose from: {valid}")
        if names.count(name) > 1:
            raise DaoAbmError(f"--mechanisms: {name} given twice")
    return names


def compare_cells(base: Scenario, mechanisms: Sequence[str], n_seeds: int) -> list[Cell]:
    """One cell per (mechanism, seed), mechanism-major; seeds ``base.seed + i``; each
    mechanism is ``base`` with ``mechanism.preset`` set (its other mechanism keys kept)."""
    return expand(base, [Axis("mechanism.preset", tuple(mechanisms))], n_seeds)


def run_compare(base: Scenario, mechanisms: Sequence[str], n_seeds: int, *,
                cell_fn: CellFn = simulate, pool: Executor | None = None,
                progress: bool = False) -> Comparison:
    """Run every mechanism on the seeds ``base.seed + i``, ``i < n_seeds``, and summarize."""
    plain = dataclasses.replace(base, mechanism=MechanismSpec(preset=base.mechanism.preset))
    cells = compare_cells(plain, mechanisms, n_seeds)
    start = time.perf_counter()
    results = {}
    for cell, result in tqdm(run_cells(cells, cell_fn, pool), total=len(cells), unit="run",
                             desc="runs", disable=not progress, dynamic_ncols=True):
        results[cell.cell_id] = result
    seconds = time.perf_counter() - start
    metrics, runs = store.tidy(
        ({"mechanism": c.params["mechanism.preset"], "seed": c.seed}, *results[c.cell_id])
        for c in cells)
    return Comparison(plain, tuple(mechanisms),
                      tuple(dict.fromkeys(c.seed for c in cells)), metrics, runs,
                      stats.summary_table(runs, ["mechanism"]), seconds)


def interval_note(n_seeds: int) -> str:
    """How the intervals were made (or why there are none)."""
    if n_seeds < 2:
        return "1 seed: no confidence intervals (use --seeds N with N >= 2)"
    return f"± is the half-width of a 95% t-interval over {n_seeds} seeds"


def format_comparison(cmp: Comparison) -> str:
    """The comparison table with a header and the note on intervals."""
    seeds = cmp.seeds
    span = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}..{seeds[-1]}"
    head = (f"dao-abm compare: {cmp.scenario.name}, {len(cmp.mechanisms)} mechanisms x "
            f"{len(seeds)} seeds ({span}), {cmp.scenario.rounds} rounds, {cmp.seconds:.1f} s")
    return "\n".join([head, "", stats.format_table(cmp.table, ["mechanism"]), "",
                      interval_note(len(seeds))])


def new_compare_folder(root: Path, scenario: Scenario) -> Path:
    """``root/<scenario>/compare-<UTC time>/``, with a suffix if that name is taken."""
    return unique_folder(root / scenario.name, "compare-")


def write_comparison(cmp: Comparison, folder: Path) -> Path:
    """Write the comparison into the new ``folder`` atomically (temp folder, then rename)."""
    return write_atomically(folder, lambda tmp: _write_contents(cmp, tmp), what="comparison")


def _write_contents(cmp: Comparison, tmp: Path) -> None:
    write_scenario(cmp.scenario, tmp / "scenario.toml")
    cmp.table.to_csv(tmp / "comparison.csv", index=False)
    cmp.metrics.to_parquet(tmp / "metrics.parquet", index=False)
    summary = {
        "scenario": cmp.scenario.name, "mechanisms": list(cmp.mechanisms),
        "seeds": list(cmp.seeds), "rounds": cmp.scenario.rounds,
        "seconds": round(cmp.seconds, 3), "intervals": interval_note(len(cmp.seeds)),
        "measures": {name: meaning for name, (_, _, meaning) in stats.MEASURES.items()},
        "comparison": json.loads(cmp.table.to_json(orient="records")),
        "runs": json.loads(cmp.runs.to_json(orient="records")),
    }
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if cmp.scenario.output.figures:
        for name, (column, label) in FIGURES.items():
            bands = stats.grouped_ci(cmp.metrics, ["mechanism", "round"], column)
            fig = plots.bands_over_rounds(bands, "mechanism", ylabel=label,
                                          title=f"{label} per round (mean, 95% CI over seeds)")
            fig.savefig(tmp / "figures" / name, dpi=110)
            plt.close(fig)
