"""Sessions: session 0 is the single run, sessions are independent of each other and of
how they are grouped, metrics stream every k rounds, and Ctrl-C leaves a valid folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dao_abm.cli import main
from dao_abm.ensemble.sessions import SessionEnsemble
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = ["population.n_members=80", "daos.max_size=6", "rounds=12", "metrics.every=3",
         "metrics.agent_interval=0"]


def scenario(*overrides: str, name: str = "default"):
    return load_scenario(MODELS / f"{name}.toml", [*SMALL, *overrides])


def ensemble_metrics(spec, sessions=None) -> pd.DataFrame:
    ensemble = SessionEnsemble.build(spec, sessions=sessions)
    frames = []
    for _ in range(spec.rounds // spec.metrics.every):
        ensemble.advance(spec.metrics.every, True)
        frames.append(ensemble.metrics())
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("overrides", [(), ("values.redraw=true", "learning.samples=16"),
                                       ("learning.rule='hedge'",)])
def test_session_0_is_the_single_run(overrides) -> None:
    single = run_model(scenario(*overrides)).metrics
    assert single["round"].tolist() == [3, 6, 9, 12]
    ensemble = ensemble_metrics(scenario("sessions=3", *overrides))
    zero = ensemble[ensemble["session"] == 0].drop(columns="session").reset_index(drop=True)
    pd.testing.assert_frame_equal(zero, single, check_dtype=False)
    other = ensemble[ensemble["session"] == 1]
    # mean bid/value: bids start random in every session (default.toml's tie policy "keep"
    # leaves "changed" at 0 in most recorded rounds, in every session)
    assert not np.array_equal(other["mean_bid_ratio"].to_numpy(),
                              zero["mean_bid_ratio"].to_numpy())


@pytest.mark.parametrize("overrides", [(), ("learning.tie_policy='truthful'",),
                                       ("learning.protocol='dao'", "metrics.epsilon_every=2",
                                        "learning.tie_policy='truthful'")])
def test_batched_rounds_equal_the_per_session_loop(overrides) -> None:
    """One kernel call for all sessions' revisions (and one for a recorded round's own-bid
    deviations) gives every session's numbers bit for bit, strategies included."""
    spec = scenario("sessions=4", *overrides)
    batched, looped = SessionEnsemble.build(spec), SessionEnsemble.build(spec)
    assert batched.batched
    looped.batched = False
    start = [s.strategies.copy() for s in batched.sessions]
    for _ in range(4):
        batched.advance(3, True)
        looped.advance(3, True)
        pd.testing.assert_frame_equal(batched.metrics(), looped.metrics(),
                                      check_exact=True)
    for a, b in zip(batched.sessions, looped.sessions, strict=True):
        assert np.array_equal(a.strategies, b.strategies)
        assert a.learning_rng.random() == b.learning_rng.random()  # streams in step
    moved = [(a.strategies != b).mean() for a, b in zip(batched.sessions, start, strict=True)]
    assert max(moved) > 0  # members did revise (few under "keep": most random bids are best)


def test_rules_the_kernel_does_not_cover_are_stepped_one_by_one() -> None:
    for change in ("learning.tie_policy='random'", "learning.rule='hedge'",
                   "values.redraw=true"):
        assert not SessionEnsemble.build(scenario("sessions=2", change)).batched, change


def test_sessions_do_not_depend_on_order_or_sharding() -> None:
    spec = scenario("sessions=4", "values.redraw=true", "learning.samples=16")
    whole = ensemble_metrics(spec).set_index(["session", "round"]).sort_index()
    shards = pd.concat([ensemble_metrics(spec, sessions=[3, 1]),
                        ensemble_metrics(spec, sessions=[2]),
                        ensemble_metrics(spec, sessions=[0])])
    pd.testing.assert_frame_equal(shards.set_index(["session", "round"]).sort_index(), whole)
    assert whole.loc[1, "revenue"].tolist() != whole.loc[2, "revenue"].tolist()


def test_ensemble_run_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "e"
    code = main(["run", str(MODELS / "default.toml"), "--out", str(folder), "-q",
                 *(f"--set={s}" for s in SMALL), "--set", "sessions=5",
                 "--set", "metrics.agent_interval=6"])
    out = capsys.readouterr().out
    assert code == 0 and "5 sessions" in out
    metrics = pd.read_csv(folder / "metrics.csv")
    assert len(metrics) == 5 * 4 and sorted(metrics["session"].unique()) == [0, 1, 2, 3, 4]
    assert sorted(metrics["round"].unique()) == [3, 6, 9, 12]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["sessions"] == 5 and not summary["interrupted"]
    last = metrics[metrics["round"] == 12]["revenue"]
    final = summary["metrics"]["revenue"]["final"]
    assert final["mean"] == pytest.approx(last.mean())
    average = metrics.groupby("session")["truthful_share"].mean()
    interval = summary["metrics"]["truthful_share"]["time_average"]
    assert interval["mean"] == pytest.approx(average.mean())
    half = 2.776 * average.std(ddof=1) / np.sqrt(5)  # t_{0.975, 4}
    assert interval["high"] - interval["mean"] == pytest.approx(half, rel=1e-3)
    assert interval["low"] < interval["mean"] < interval["high"]
    assert 0 <= summary["converged_share"] <= 1
    agents = pd.read_csv(folder / "agents.csv")
    assert len(agents) == 5 * 2 * 80 and sorted(agents["round"].unique()) == [6, 12]
    assert {p.name for p in (folder / "figures").iterdir()} >= {"welfare_ratio.png"}


def test_ensembles_refuse_what_they_do_not_support(tmp_path: Path, capsys) -> None:
    code = main(["run", str(MODELS / "default.toml"), "--out", str(tmp_path / "x"),
                 "--set", "sessions=2", "--set", "daos.reform=true"])
    err = capsys.readouterr().err
    assert code == 2 and "daos.reform" in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_ctrl_c_leaves_a_shorter_valid_folder(tmp_path: Path) -> None:
    folder = tmp_path / "stopped"
    command = [sys.executable, "-m", "dao_abm.cli", "run", str(MODELS / "default.toml"),
               "--out", str(folder), "-q", "--set", "population.n_members=60",
               "--set", "daos.max_size=6", "--set", "sessions=2", "--rounds", "1000000",
               "--set", "output.figures=false"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".stopped*/metrics.csv")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "interrupted" in out
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["interrupted"] and 0 < summary["rounds_played"] < 1_000_000
    metrics = pd.read_csv(folder / "metrics.csv")
    assert len(metrics) >= 2 and set(metrics["session"]) == {0, 1}
    assert json.loads((folder / "run.json").read_text())["interrupted"]


def _never_changing(tmp_path: Path, *sets: str) -> list[str]:
    """Two bidders of value 1 under first price on the grid {1, 1.5} (plus the value, so
    the generic session loop runs, not the kernel), Q-learning with α = 1, γ = 0, Q₀ = 0 and
    no exploration: a bid of 1 always earns 0 (it loses, or wins and pays 1) and 1.5 earns
    0 or -0.5, so the greedy profile (first maximizer: the bid 1) never changes and the
    run has converged from round K on."""
    path = tmp_path / "never.toml"
    path.write_text('''rounds = 6
[population]
n_members = 2
[values]
distribution = "lognormal"
sigma = 0.0
[graph]
kind = "none"
[daos]
method = "singletons"
[mechanism]
preset = "dao-vickrey"
upper = "first-price"
[learning]
rule = "q-learning"
protocol = "simultaneous"
grid_scale = "absolute"
grid = [1.0, 1.5]
grid_value = true
[learning.params]
alpha = 1.0
gamma = 0.0
exploration = 0.0
q_init = "zero"
[output]
figures = false
''')
    return ["run", str(path), "-q", *(f"--set={s}" for s in sets)]


@pytest.mark.parametrize(("k", "share", "first"), [(4, 1.0, 4), (6, 1.0, 6), (7, 0.0, None)])
def test_q_learning_convergence_in_the_session_loop(tmp_path: Path, k, share, first) -> None:
    """The ``converged`` column is q-learning's own criterion, per session and round (the
    greedy profile unchanged for ``converge_rounds`` = K rounds, the initial one counting),
    and summary.json's share and round use it: single run and three sessions alike."""
    args = _never_changing(tmp_path, f"learning.params.converge_rounds={k}")
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--out", str(tmp_path / "three"), "--set=sessions=3"]) == 0
    one = pd.read_csv(tmp_path / "one" / "metrics.csv")
    assert one["converged"].tolist() == [float(r >= k) for r in range(1, 7)]
    assert json.loads((tmp_path / "one" / "summary.json").read_text())[
        "converged_round"] == first
    three = pd.read_csv(tmp_path / "three" / "metrics.csv")
    assert three.groupby("session")["converged"].apply(list).tolist() == [
        one["converged"].tolist()] * 3
    summary = json.loads((tmp_path / "three" / "summary.json").read_text())
    assert summary["converged_share"] == share
    assert summary["converged_round"]["mean"] == first


def test_rules_without_a_criterion_report_no_convergence_column_values(tmp_path) -> None:
    """Hedge has no convergence criterion of its own: ``converged`` is empty and the run
    falls back to ``metrics.window``."""
    args = _never_changing(tmp_path, "learning.rule=hedge", "learning.params={}")
    assert main([*args, "--out", str(tmp_path / "h")]) == 0
    metrics = pd.read_csv(tmp_path / "h" / "metrics.csv")
    assert metrics["converged"].isna().all()


def test_converge_rounds_bad_value_is_one_line_naming_the_key(tmp_path, capsys) -> None:
    args = _never_changing(tmp_path, "learning.params.converge_rounds=0")
    assert main([*args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "learning.params.converge_rounds" in err and err.count("\n") == 1
