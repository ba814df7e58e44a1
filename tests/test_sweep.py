"""Sweeps: resumable, atomic, backend-independent; the CLI's bad inputs exit 2 cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

from dao_abm.cli import main
from dao_abm.errors import DaoAbmError
from dao_abm.experiments import store
from dao_abm.experiments.grid import cell_id, expand, parse_grid
from dao_abm.experiments.sweep import open_pool, run_sweep, simulate
from dao_abm.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default.toml"
ROUNDS = 5
SMALL = [f"rounds={ROUNDS}", "population.n_members=60", "daos.max_size=6"]
GRID = ["learning.rule=best-response,logit", "population.n_members=40,60"]
SEEDS = 2


class Counting:
    """``simulate``, remembering the cell ids it computed (in-process only)."""

    def __init__(self, crash_on: int | None = None) -> None:
        self.ids: list[str] = []
        self.crash_on = crash_on

    def __call__(self, scenario):
        if len(self.ids) + 1 == self.crash_on:
            raise KeyboardInterrupt  # the sweep is killed while this cell runs
        self.ids.append(cell_id(scenario))
        return simulate(scenario)


@pytest.fixture(scope="module")
def sweep_spec():
    base = load_scenario(DEFAULT, SMALL)
    axes = parse_grid(GRID)
    return base, axes, expand(base, axes, SEEDS)


def sweep(spec, folder: Path, **kwargs):
    base, axes, cells = spec
    return run_sweep(base, axes, cells, folder, **kwargs)


def cell_files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "cells").iterdir())


def test_tables_have_one_row_per_cell_and_round(tmp_path, sweep_spec):
    result = sweep(sweep_spec, tmp_path)
    n = 2 * 2 * SEEDS
    table = pd.read_parquet(tmp_path / "metrics.parquet")
    assert list(table.columns[:6]) == ["cell_id", "point", "learning.rule",
                                       "population.n_members", "seed", "round"]
    assert len(table) == n * ROUNDS
    assert not table.duplicated(["cell_id", "round"]).any()
    assert table["population.n_members"].dtype.kind == "i"
    summary = pd.read_parquet(tmp_path / "summary.parquet")
    assert len(summary) == n and summary["cell_id"].is_unique
    assert len(pd.read_csv(tmp_path / "points.csv")) == 4
    assert {"final_ratio.png", "final_truthful_share.png"} <= set(
        p.name for p in (tmp_path / "figures").iterdir())
    assert len(cell_files(tmp_path)) == n and (result.ran, result.reused) == (n, 0)


def test_rerun_recomputes_only_missing_cells(tmp_path, sweep_spec):
    first = sweep(sweep_spec, tmp_path)
    lost = first.runs["cell_id"][3]
    store.part_path(tmp_path, lost).unlink()
    counting = Counting()
    again = sweep(sweep_spec, tmp_path, cell_fn=counting)
    assert counting.ids == [lost]
    assert (again.ran, again.reused) == (1, 2 * 2 * SEEDS - 1)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "metrics.parquet"), first.metrics)
    pd.testing.assert_frame_equal(again.runs, first.runs)


def test_killed_sweep_keeps_finished_cells_and_resumes(tmp_path, sweep_spec):
    with pytest.raises(KeyboardInterrupt):
        sweep(sweep_spec, tmp_path, cell_fn=Counting(crash_on=3))
    assert len(cell_files(tmp_path)) == 2  # the two finished cells, whole; nothing else
    assert all(name.endswith(".parquet") for name in cell_files(tmp_path))
    assert not (tmp_path / "metrics.parquet").exists()
    counting = Counting()
    result = sweep(sweep_spec, tmp_path, cell_fn=counting)
    assert len(counting.ids) == 2 * 2 * SEEDS - 2
    assert len(result.metrics) == 2 * 2 * SEEDS * ROUNDS


def test_crash_mid_write_leaves_only_a_tmp_file_which_is_cleaned(tmp_path, sweep_spec,
                                                                  monkeypatch):
    def half_written(table, path):
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(store.pq, "write_table", half_written)
    with pytest.raises(OSError, match="disk full"):
        sweep(sweep_spec, tmp_path)
    assert cell_files(tmp_path) == []  # the failed write removed its own temp file
    monkeypatch.undo()
    stale = tmp_path / "cells" / "0123456789abcdef.parquet.999.tmp"
    stale.write_bytes(b"PAR1 killed mid-write")  # as if the process died inside the write
    result = sweep(sweep_spec, tmp_path)
    assert result.removed_tmp == 1 and not stale.exists()
    assert len(cell_files(tmp_path)) == 2 * 2 * SEEDS


def test_grid_columns_of_mixed_kinds_or_lists_still_store(tmp_path):
    metrics = pd.DataFrame({"round": [1, 2], "welfare": [1.0, 2.0]})
    items = [({"x": 1, "sizes": [2, 2]}, metrics, {"converged_round": None}),
             ({"x": "a", "sizes": [3, 1]}, metrics, {"converged_round": 2})]
    table, runs = store.tidy(items)
    assert list(table["x"]) == ["1", "1", "a", "a"]
    assert list(runs["sizes"]) == ["[2, 2]", "[3, 1]"]
    assert runs["converged_round"].tolist() == [pd.NA, 2]
    store.write_table(table, tmp_path / "m.parquet")
    store.write_table(runs, tmp_path / "r.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "m.parquet"), table,
                                  check_dtype=False)


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path, sweep_spec):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DaoAbmError, match="not a sweep folder"):
        sweep(sweep_spec, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_one_sweep_per_folder_at_a_time(tmp_path, sweep_spec):
    with store.locked(tmp_path), pytest.raises(DaoAbmError, match="another sweep is running"):
        sweep(sweep_spec, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_sweep(capsys, out: Path, *extra):
    args = [a for s in SMALL for a in ("--set", s)]
    return cli(capsys, "sweep", DEFAULT, "--grid", GRID[0], "--grid", GRID[1], "--seeds",
               SEEDS, "--out", out, "--quiet", *args, *extra)


def test_same_numbers_on_every_backend(tmp_path, sweep_spec, capsys):
    """In-process, 2 local processes, and a Dask LocalCluster (API and CLI) agree exactly."""
    from dask.distributed import LocalCluster

    results = {}
    for name, workers in (("in-process", 1), ("processes", 2)):
        with open_pool(workers) as pool:
            results[name] = sweep(sweep_spec, tmp_path / name, pool=pool)
    # Threads keep the test fast (process workers would import the model again); separate
    # processes are covered by the process pool above.
    with LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=False,
                      protocol="tcp", dashboard_address=None) as cluster:
        with open_pool(scheduler=cluster.scheduler_address) as pool:
            results["dask"] = sweep(sweep_spec, tmp_path / "dask", pool=pool)
        code, out, err = cli_sweep(capsys, tmp_path / "cli", "--scheduler",
                                   cluster.scheduler_address)
    assert (code, err) == (0, "") and "ran 8, 0 already done" in out
    reference = results["in-process"]
    for name in ("processes", "dask"):
        pd.testing.assert_frame_equal(results[name].metrics, reference.metrics, check_exact=True)
        pd.testing.assert_frame_equal(results[name].runs, reference.runs, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cli" / "metrics.parquet"),
                                  reference.metrics, check_exact=True)


def test_cli_rerun_resumes(tmp_path, capsys):
    code, out, _ = cli_sweep(capsys, tmp_path / "s")
    assert code == 0 and "ran 8, 0 already done" in out
    before = pd.read_parquet(tmp_path / "s" / "metrics.parquet")
    code, out, _ = cli_sweep(capsys, tmp_path / "s")
    assert code == 0 and "ran 0, 8 already done" in out
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "s" / "metrics.parquet"), before)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra", [
    ["--grid", "foo"],
    ["--grid", "a.b="],
    ["--grid", "foo.bar=1,2"],
    ["--grid", "learning.rule=logit,nope"],
    ["--set", "learning.rule=nope"],
    ["--seeds", "0"],
    ["--scheduler", "tcp://127.0.0.1:{port}"],
    ["--scheduler", "not-an-address:x"],
    ["--workers", "2", "--scheduler", "tcp://127.0.0.1:{port}"],
])
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch,
                                                                extra):
    monkeypatch.chdir(tmp_path)
    extra = [arg.format(port=closed_port()) for arg in extra]
    code, out, err = cli(capsys, "sweep", DEFAULT, "--quiet", "--out", tmp_path / "out",
                         "--grid", "values.sigma=0.5,1", *extra)
    assert code == 2, err
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("dao-abm: error: ")
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_grid_key_names_the_dotted_path(tmp_path, capsys):
    code, _, err = cli(capsys, "sweep", DEFAULT, "--grid", "learning.rul=logit", "--out",
                       tmp_path / "out")
    assert code == 2 and "learning.rul: unknown key; allowed:" in err
