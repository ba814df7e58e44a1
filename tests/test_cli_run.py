"""``dao-abm run``: the run folder, the summary, and bad scenarios (exit 2, nothing written)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dao_abm.cli import main

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = ["--set", "population.n_members=80", "--set", "daos.max_size=6", "--rounds", "12"]


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_a_complete_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "r1"
    code, out, _ = run(["run", str(MODELS / "default.toml"), "--out", str(folder), "-q",
                        "--seed", "3", "--set", "metrics.agent_interval=4", *SMALL], capsys)
    assert code == 0 and str(folder) in out and "OPT/welfare" in out
    names = {p.name for p in folder.iterdir()}
    assert {"scenario.toml", "run.json", "metrics.csv", "by_size.csv", "agents.csv",
            "summary.json", "figures"} <= names
    figures = {p.name for p in (folder / "figures").iterdir()}
    assert {"welfare_ratio.png", "truthfulness.png", "bids_vs_values.png",
            "affinity_graph.png"} <= figures
    metrics = pd.read_csv(folder / "metrics.csv")
    assert len(metrics) == 12 and metrics["round"].tolist() == list(range(1, 13))
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["rounds"] == 12
    assert summary["welfare"] == pytest.approx(metrics["welfare"].iloc[-1])
    assert "converged_round" in summary and "last_change_round" in summary
    meta = json.loads((folder / "run.json").read_text())
    assert meta["seed"] == 3 and meta["dao_abm_version"]
    assert meta["epsilon_kind"] == summary["epsilon_kind"] == "exact"  # dao-vickrey, fixed
    assert "seed = 3" in (folder / "scenario.toml").read_text()
    agents = pd.read_csv(folder / "agents.csv")
    assert sorted(agents["round"].unique()) == [4, 8, 12]
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.mark.parametrize(("overrides", "kind"), [
    (["--set", "mechanism.preset='crowdfund'"], "exact"),
    (["--set", "mechanism.upper='first-price'"],
     "lower-bound: grid of 73 candidates per item"),
    (["--set", "values.redraw=true", "--set", "values.distribution='uniform'",
      "--set", "learning.samples=16", "--set", "learning.strategy='shading'"],
     "lower-bound: grid of 42 shading factors, mean utility over 16 sampled value profiles"),
    (["--set", "values.redraw=true", "--set", "values.distribution='uniform'",
      "--set", "learning.samples=16"],
     "lower-bound: ex-ante gain of the best of 65 bids and the own bid at each of 17 knots, "
     "knots weighted by the sampled values, 16 sampled value profiles"),
])
def test_run_says_which_epsilon(tmp_path: Path, capsys, overrides, kind) -> None:
    """summary.json and run.json name the kind of max_gain / mean_gain."""
    folder = tmp_path / "r"
    code, _, err = run(["run", str(MODELS / "default.toml"), "--out", str(folder), "-q",
                        "--set", "output.figures=false", *SMALL[:4], "--rounds", "2",
                        *overrides], capsys)
    assert code == 0, err
    for name in ("summary.json", "run.json"):
        assert json.loads((folder / name).read_text())["epsilon_kind"] == kind


def test_runs_never_overwrite(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "r"
    assert run(["run", str(MODELS / "theorem_3_4.toml"), "--out", str(folder), "-q"],
               capsys)[0] == 0
    before = (folder / "metrics.csv").read_bytes()
    code, _, err = run(["run", str(MODELS / "theorem_3_4.toml"), "--out", str(folder), "-q"],
                       capsys)
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    assert (folder / "metrics.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "learning.rule=sarsa"], "learning.rule: 'sarsa' is not one of"),
        (["--set", "values.sigma=-2"], "values.sigma: -2.0 must be >= 0"),
        (["--set", "population.n_members=nan"], "population.n_members: expected an integer"),
        (["--set", "graph.colour=1"], "graph.colour: unknown key"),
        (["--set", "mechanism.preset=vickrey"], "unknown mechanism 'vickrey'"),
        (["--set", "oops"], "expected key=value"),
        (["--rounds", "0"], "rounds"),
        (["--set", "daos.reform_rule='proxy'"], "daos.reform_rule: 'proxy' is not one of"),
        (["--set", "population.n_members=100000000000"], "but this machine has"),
    ],
)
def test_bad_scenarios_exit_2_and_write_nothing(tmp_path: Path, capsys, args, message) -> None:
    folder = tmp_path / "out"
    code, _, err = run(["run", str(MODELS / "default.toml"), "--out", str(folder), *args],
                         capsys)
    assert code == 2 and message in err
    assert err.startswith("dao-abm: error: ") and err.count("\n") == 1
    assert not folder.exists() and list(tmp_path.iterdir()) == []


def test_unreadable_scenario_files(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[learning\nrule = 1\n")
    for path, message in [(tmp_path / "missing.toml", "no such scenario file"),
                          (broken, "invalid TOML")]:
        code, _, err = run(["run", str(path)], capsys)
        assert code == 2 and message in err and err.count("\n") == 1


def test_missing_members_csv_names_the_file(tmp_path: Path, capsys) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[population]\nmembers_csv = "nope.csv"\n[graph]\nkind = "none"\n'
                        '[daos]\nmethod = "singletons"\n')
    code, _, err = run(["run", str(scenario), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "nope.csv" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dao_abm.cli", "run", str(tmp_path / "x.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"dao-abm: error: {tmp_path / 'x.toml'}: no such scenario file"]
