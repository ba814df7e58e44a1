"""Mechanism comparisons: common random numbers, interval arithmetic, the CLI's folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from dao_abm.cli import main
from dao_abm.errors import DaoAbmError
from dao_abm.experiments import stats
from dao_abm.experiments.compare import parse_mechanisms, run_compare
from dao_abm.mechanisms import PRESETS
from dao_abm.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default.toml"
SMALL = ["rounds=6", "population.n_members=60", "daos.max_size=6"]


def test_t_interval_by_hand():
    # mean 2.5; s = sqrt(5/3) = 1.290994; s / sqrt(4) = 0.645497; t_{0.975, 3} = 3.182446;
    # half-width 3.182446 * 0.645497 = 2.054260: the interval is [0.445740, 4.554260].
    mean, low, high, n = stats.mean_ci([1.0, 2.0, 3.0, 4.0])
    assert (mean, n) == (2.5, 4)
    assert low == pytest.approx(0.445740, abs=1e-6)
    assert high == pytest.approx(4.554260, abs=1e-6)
    assert scipy_stats.t.ppf(0.975, 3) == pytest.approx(3.182446, abs=1e-6)


def test_one_value_has_no_interval_and_non_finite_values_are_left_out():
    mean, low, high, n = stats.mean_ci([3.0])
    assert (mean, n) == (3.0, 1) and math.isnan(low) and math.isnan(high)
    assert stats.mean_ci([1.0, np.inf, np.nan, 3.0])[3] == 2
    assert stats.mean_ci([])[3] == 0
    assert stats.mean_ci([2.0, 2.0, 2.0])[1:3] == (2.0, 2.0)


def test_grouped_intervals_match_the_scalar_ones():
    frame = pd.DataFrame({"g": list("aaabbc"), "x": [1.0, 2.0, 4.0, 5.0, np.inf, 7.0]})
    ci = stats.grouped_ci(frame, ["g"], "x")
    assert list(ci["g"]) == ["a", "b", "c"]
    for row, values in zip(ci.itertuples(), ([1.0, 2.0, 4.0], [5.0], [7.0]), strict=True):
        mean, low, high, n = stats.mean_ci(values)
        assert (row.mean, row.n) == (pytest.approx(mean), n)
        assert np.allclose([row.low, row.high], [low, high], equal_nan=True)


def test_summary_table_counts_converged_runs():
    runs = pd.DataFrame({"mechanism": ["m"] * 3, "approximation_ratio": [1.0, 2.0, 3.0],
                         "converged_round": pd.array([4, None, 6], dtype="Int64")})
    table = stats.summary_table(runs, ["mechanism"])
    row = table.iloc[0]
    assert (row["runs"], row["converged"], row["converged_round"]) == (3, 2, 5.0)
    assert row["ratio_final"] == 2.0
    assert row["ratio_final_ci_high"] == pytest.approx(2.0 + scipy_stats.t.ppf(0.975, 2)
                                                       / math.sqrt(3))
    text = stats.format_table(table, ["mechanism"])
    assert "OPT/W last" in text and "(2/3)" in text


def test_unknown_mechanism_lists_the_presets():
    assert parse_mechanisms("dao-vickrey, split-the-bill") == ["dao-vickrey", "split-the-bill"]
    with pytest.raises(DaoAbmError, match="choose from: " + ", ".join(PRESETS)):
        parse_mechanisms("dao-vickrey,vickrey")
    with pytest.raises(DaoAbmError, match="given twice"):
        parse_mechanisms("crowdfund,crowdfund")


@pytest.fixture(scope="module")
def comparison():
    base = load_scenario(DEFAULT, [*SMALL, "mechanism.upper=first-price"])
    return run_compare(base, ["dao-vickrey", "split-the-bill"], 3)


def test_common_random_numbers(comparison):
    """Replicate i of every mechanism faces the same population: same OPT in round 1."""
    first = comparison.metrics[comparison.metrics["round"] == 1]
    opt = first.pivot(index="seed", columns="mechanism", values="optimal_welfare")
    assert list(opt.index) == [7, 8, 9]
    assert (opt["dao-vickrey"] == opt["split-the-bill"]).all()
    assert opt["dao-vickrey"].nunique() == 3  # and different seeds draw different ones
    daos = first.pivot(index="seed", columns="mechanism", values="n_daos")
    assert (daos["dao-vickrey"] == daos["split-the-bill"]).all()


def test_mechanisms_are_the_presets_as_named(comparison):
    assert comparison.scenario.mechanism.upper == ""  # the scenario's override is dropped
    assert list(comparison.table["mechanism"]) == ["dao-vickrey", "split-the-bill"]
    assert list(comparison.metrics.columns[:3]) == ["mechanism", "seed", "round"]
    assert len(comparison.metrics) == 2 * 3 * 6 and len(comparison.runs) == 2 * 3


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def small_args() -> list[str]:
    return [a for s in SMALL for a in ("--set", s)]


def test_cli_writes_the_comparison_folder(tmp_path, capsys):
    folder = tmp_path / "cmp"
    code, out, err = cli(capsys, "compare", DEFAULT, "--mechanisms", "dao-vickrey,crowdfund",
                         "--seeds", 2, "--out", folder, "-q", *small_args())
    assert (code, err) == (0, "")
    assert "95% t-interval over 2 seeds" in out and "crowdfund" in out
    assert {p.name for p in folder.iterdir()} == {"comparison.csv", "metrics.parquet",
                                                  "summary.json", "scenario.toml", "figures"}
    assert {p.name for p in (folder / "figures").iterdir()} == {"welfare_ratio.png",
                                                                "truthful_share.png"}
    table = pd.read_csv(folder / "comparison.csv")
    assert list(table["mechanism"]) == ["dao-vickrey", "crowdfund"]
    assert table["ratio_final_ci_low"].notna().all()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["seeds"] == [7, 8] and len(summary["runs"]) == 4
    assert not list(tmp_path.glob(".*tmp"))


def test_cli_one_seed_says_there_is_no_interval(tmp_path, capsys):
    code, out, _ = cli(capsys, "compare", DEFAULT, "-m", "dao-vickrey,split-the-bill", "--seeds",
                       1, "--out", tmp_path / "one", "-q", "--set", "output.figures=false",
                       *small_args())
    assert code == 0 and "1 seed: no confidence intervals" in out
    assert pd.read_csv(tmp_path / "one" / "comparison.csv")["ratio_final_ci_low"].isna().all()


@pytest.mark.parametrize("extra", [
    ["-m", "dao-vickrey,nope"],
    ["-m", ""],
    ["--set", "learning.rule=nope"],
    ["--seeds", "0"],
])
def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "compare", DEFAULT, "-q", *extra)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("dao-abm: error: ")
    assert list(tmp_path.iterdir()) == []


def test_cli_unknown_mechanism_message(capsys):
    code, _, err = cli(capsys, "compare", DEFAULT, "--mechanisms", "dao-vickrey,vickrey")
    assert code == 2
    assert err == ("dao-abm: error: --mechanisms: unknown mechanism 'vickrey'; choose from: "
                   f"{', '.join(PRESETS)}\n")


def test_cli_never_overwrites(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    code, _, err = cli(capsys, "compare", DEFAULT, "--out", tmp_path / "taken")
    assert code == 2 and "already exists" in err


def test_zero_welfare_runs_turn_the_mean_into_a_ratio_of_sums():
    """Group a: OPT (4, 6, 2), welfare (2, 3, 0): the third run's ratio is infinite (null in
    its summary), so the mean of ratios is undefined; ΣOPT/ΣW = 12/5 = 2.4. Group b has
    finite ratios 1.5 and 2.5: their mean, 2.0, with an interval."""
    runs = pd.DataFrame({
        "mechanism": ["a", "a", "a", "b", "b"],
        "approximation_ratio": [2.0, 2.0, None, 1.5, 2.5],
        "optimal_welfare": [4.0, 6.0, 2.0, 3.0, 5.0], "welfare": [2.0, 3.0, 0.0, 2.0, 2.0],
        "mean_approximation_ratio": [2.0, 2.0, None, 1.5, 2.5],
        "mean_optimal_welfare": [4.0, 6.0, 2.0, 3.0, 5.0],
        "mean_welfare": [2.0, 3.0, 0.0, 2.0, 2.0], "zero_welfare_rounds": [0, 1, 7, 0, 0]})
    table = stats.summary_table(runs, ["mechanism"]).set_index("mechanism")
    assert table.loc["a", "ratio_final"] == pytest.approx(2.4)
    assert math.isnan(table.loc["a", "ratio_final_ci_high"])
    assert table.loc["a", "ratio_final_zero_welfare"] == 1
    assert table.loc["a", "zero_welfare_rounds"] == 8
    assert table.loc["b", "ratio_final"] == pytest.approx(2.0)
    assert table.loc["b", "ratio_final_zero_welfare"] == 0
    assert np.isfinite(table.loc["b", "ratio_final_ci_high"])
    text = stats.format_table(table.reset_index(), ["mechanism"])
    assert "2.4*" in text and "1 of 3 had zero welfare" in text
    assert "a: 8 rounds with zero welfare over 3 runs" in text
    every = runs.assign(welfare=0.0, mean_welfare=0.0)
    assert stats.summary_table(every, ["mechanism"])["ratio_final"].tolist() == [math.inf] * 2
    assert "inf*" in stats.format_table(stats.summary_table(every, ["mechanism"]),
                                        ["mechanism"])
