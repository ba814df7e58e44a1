"""The live page's data without a browser: what it remembers per round (``History``), the two
runs side by side, the page's overrides, the data behind each chart and its CSV, and the
command line the page shows."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dao_abm.cli import main
from dao_abm.errors import DaoAbmError
from dao_abm.experiments.grid import Axis
from dao_abm.scenario import load_scenario, scenario_to_dict
from dao_abm.viz import VizModel, initial_params, model_params
from dao_abm.viz.history import RATIO_BINS, History, ratio_histogram, watch_set
from dao_abm.viz.live import PairModel, parse_compare, parse_overrides, side_by_side_cells

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = ["population.n_members=60"]


@pytest.fixture(scope="module")
def small():
    return load_scenario(MODELS / "default.toml", SMALL)


def viz_model(scenario, **controls):
    return VizModel(**(initial_params(model_params(scenario)) | controls))


# --- History -----------------------------------------------------------------------------------

def test_watch_set_takes_the_first_members_of_each_dao():
    labels = np.array([2, 0, 0, 1, 0, 1, 2])
    assert watch_set(labels, per_dao=2, limit=10).tolist() == [0, 1, 2, 3, 5, 6]
    assert watch_set(labels, per_dao=2, limit=3).tolist() == [1, 2, 3]
    assert watch_set(labels, per_dao=1, limit=10).tolist() == [0, 1, 3]


def test_ratio_histogram_by_hand():
    ratios = np.array([0.05, 1.0, 1.0, 2.5])  # bins [0, 0.1), [1.0, 1.1) twice, [1.9, inf)
    labels = np.array([0, 0, 1, 1])
    table = ratio_histogram(ratios, labels, sizes=np.array([2, 2]))
    assert table.shape == (9, RATIO_BINS.size)
    expected = np.zeros(RATIO_BINS.size)
    expected[[0, 10, 19]] = [0.25, 0.5, 0.25]
    np.testing.assert_allclose(table[0], expected)  # all members
    np.testing.assert_allclose(table[2], expected)  # bucket 2-3: both DAOs
    assert np.isnan(table[1]).all() and np.isnan(table[3:]).all()  # empty buckets


def test_history_records_the_watched_members():
    h = History(np.array([0, 0, 1]))
    bids, values = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 3.0])
    h.record(1, bids, values, np.array([0, 0, 1]), np.array([2, 1]),
             np.array([True, False, True]))
    assert h.rounds == [1] and h.bids[0].tolist() == [1.0, 2.0, 3.0]
    assert h.access[0].tolist() == [True, False, True]
    assert h.members_of(1, np.array([0, 0, 1])).tolist() == [2]
    np.testing.assert_allclose(h.hist[0][0][[5, 10]], [1 / 3, 2 / 3])


def test_model_history_grows_a_round_per_step(small):
    model = viz_model(small)
    for _ in range(3):
        model.step()
    h = model.history
    assert h.rounds == [1, 2, 3] and len(h.hist) == 3
    np.testing.assert_allclose([t[0][np.isfinite(t[0])].sum() for t in h.hist], 1.0)
    np.testing.assert_allclose(h.bids[-1], model.bids[h.watched].astype(np.float32))


# --- side by side ------------------------------------------------------------------------------

def test_side_by_side_shares_the_population_and_differs_in_metrics(small):
    axis = parse_compare("mechanism.preset=crowdfund,dao-vickrey")
    pair = PairModel(**(initial_params(model_params(small, axis))))
    a, b = (run.model for run in pair.runs)
    assert [run.label for run in pair.runs] == ["mechanism.preset=crowdfund",
                                                "mechanism.preset=dao-vickrey"]
    assert a.digest == b.digest
    np.testing.assert_array_equal(a.labels, b.labels)
    for _ in range(3):
        pair.step()
        np.testing.assert_array_equal(a.values, b.values)  # same values drawn each round
    assert pair.steps == a.steps == b.steps == 3
    assert a.mechanism.aggregation != b.mechanism.aggregation
    metrics = [r.model.datacollector.get_model_vars_dataframe() for r in pair.runs]
    assert not metrics[0]["welfare"].equals(metrics[1]["welfare"])


def test_side_by_side_on_a_knob_is_two_cells_of_one_seed(small):
    one, two = side_by_side_cells(small, Axis("learning.tie_policy", ("keep", "random")))
    assert (one.learning.tie_policy, two.learning.tie_policy) == ("keep", "random")
    assert one.seed == two.seed == small.seed


@pytest.mark.parametrize("text", ["mechanism.preset=crowdfund", "seed=1,2",
                                  "learning.rule=logit,hedge,fictitious-play", "nokey"])
def test_bad_compare_axis(text):
    with pytest.raises(DaoAbmError, match="--"):
        parse_compare(text)


def test_viz_rejects_a_bad_compare_before_serving(capsys):
    assert main(["viz", "--compare", "learning.rule=logit,bogus"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "learning.rule" in lines[0]
    assert main(["viz", "--compare", "mechanism.preset=crowdfund"]) == 2
    assert "two values" in capsys.readouterr().err


# --- the page's overrides ----------------------------------------------------------------------

def test_page_overrides_apply(small):
    assert parse_overrides("learning.rule=logit; rounds=5\nseed=3;") == [
        "learning.rule=logit", "rounds=5", "seed=3"]
    model = viz_model(small, overrides="learning.rule=logit; learning.params.temperature=0.5")
    assert model.error is None and model.scenario.learning.rule == "logit"


@pytest.mark.parametrize(("overrides", "key"), [
    ("bogus.key=1", "bogus"), ("learning.rule=nope", "learning.rule"),
    ("population.n_members=-3", "n_members"), ("justtext", "expected key=value")])
def test_bad_page_overrides_are_reported_and_the_base_runs(small, capsys, overrides, key):
    model = viz_model(small, overrides=overrides)
    assert key in model.error and model.overrides == ""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dao-abm: error: page overrides not applied")
    assert key in err[0]
    assert scenario_to_dict(model.scenario) == scenario_to_dict(small)
    model.step()  # the base scenario runs


def test_bad_seed_is_reported_too(small, capsys):
    model = viz_model(small, seed="abc")
    assert "seed" in model.error and model.scenario.seed == small.seed
    assert "dao-abm: error:" in capsys.readouterr().err


# --- the data behind the charts ----------------------------------------------------------------

def test_lines_points_and_table_agree(small):
    from dao_abm.viz.series import LINES

    model = viz_model(small)
    for _ in range(4):
        model.step()
    welfare = LINES[0]
    later = welfare.points(model.runs, 2)["series"]
    assert [p[0] for p in later[0]] == [3, 4]
    table = welfare.table(model.runs)
    assert list(table.columns) == ["run", "round", "welfare", "optimal_welfare",
                                   "approximation_ratio"]
    assert table["welfare"].tolist()[2:] == pytest.approx([p[1] for p in later[0]])


def test_charts_read_metric_names_from_the_model(small, monkeypatch):
    from dao_abm.model.model import DaoAuctionModel
    from dao_abm.viz.series import LINES

    columns = [c for c in DaoAuctionModel.columns() if c != "mean_regret"]
    monkeypatch.setattr(DaoAuctionModel, "columns", staticmethod(lambda: columns))
    model = viz_model(small)
    epsilon = LINES[2]
    assert [s["name"] for s in epsilon.option(model.runs)["series"]] == [
        "epsilon (largest gain)", "mean gain"]


def test_heat_maps_hold_the_rounds(small):
    from dao_abm.viz.series import by_size_points, distribution_points, distribution_table

    model = viz_model(small)
    for _ in range(3):
        model.step()
    run = model.runs[0]
    heat = by_size_points(run, 1)
    assert heat["x"] == [2, 3] and {p[0] for p in heat["series"][0]} == {2, 3}
    rows = pd.DataFrame(model.by_size_rows)
    row = rows[(rows["round"] == 3) & (rows["n_members"] > 0)].iloc[0]
    assert [3, 0, pytest.approx(row["mean_bid_ratio"])] in heat["series"][0]
    dist = distribution_points(run, 0, 0)["series"][0]
    shares = pd.DataFrame(dist, columns=["round", "bin", "share"]).groupby("round")["share"]
    np.testing.assert_allclose(shares.sum(), 1.0)
    table = distribution_table(run)
    assert set(table["dao_size"]) >= {"all"} and len(table[table["dao_size"] == "all"]) == 60


def test_members_view_data(small):
    from dao_abm.viz import rounds

    model = viz_model(small)
    model.step()
    model.step()
    dao = rounds.largest_daos(model, 1)[0]
    members = rounds.dao_members(model, dao)
    assert members.size == model.groups.sizes[dao]
    option = rounds.members_option(model, dao)
    shown = sum(len(s["data"]) for s in option["series"] if s["type"] == "scatter")
    assert shown == members.size
    history = rounds.member_history_table(model, dao)
    assert set(history["member"]) == set(members.tolist())  # all watched (<= 40 a DAO)
    assert len(history) == 2 * members.size
    last = history[history["round"] == 2].sort_values("member")
    np.testing.assert_allclose(last["bid"], model.bids[members], rtol=1e-6)
    assert last["has_access"].tolist() == model.access[members].tolist()


# --- the command line the page shows -----------------------------------------------------------

def test_command_line_reproduces_the_page(small, tmp_path):
    from dao_abm.viz.app import Source, command_lines

    model = viz_model(small, preset="split-the-bill", seed="11", overrides="learning.rule=logit")
    model.step()
    path = str(MODELS / "default.toml")
    viz, run = command_lines(Source(path, tuple(SMALL), None), model)
    args = shlex.split(run)
    assert args[:2] == ["dao-abm", "run"] and args[-2:] == ["--rounds", "1"]
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    again = load_scenario(args[2], sets)
    assert scenario_to_dict(again) == scenario_to_dict(model.scenario)
    assert shlex.split(viz)[:3] == ["dao-abm", "viz", args[2]]


def test_command_lines_side_by_side(small):
    from dao_abm.viz.app import Source, command_lines

    compare = "learning.tie_policy=keep,random"
    pair = PairModel(**initial_params(model_params(small, parse_compare(compare))))
    path = str(MODELS / "default.toml")
    viz, *runs = command_lines(Source(path, tuple(SMALL), compare), pair)
    assert viz.endswith(f"--compare {compare}") and len(runs) == 2
    for line, run in zip(runs, pair.runs, strict=True):
        args = shlex.split(line)
        sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
        assert scenario_to_dict(load_scenario(args[2], sets)) == scenario_to_dict(
            run.model.scenario)


def test_command_line_names_a_bundled_scenario_by_name(small, tmp_path, monkeypatch):
    from dao_abm.scenario import bundled_folder
    from dao_abm.viz.app import Source, command_lines

    monkeypatch.chdir(tmp_path)  # elsewhere: the bundled file's path would mean nothing here
    model = viz_model(small, preset="split-the-bill", seed="11", overrides="learning.rule=logit")
    viz, run = command_lines(Source(str(bundled_folder() / "default.toml"), tuple(SMALL), None),
                             model)
    args = shlex.split(run)
    assert shlex.split(viz)[2] == args[2] == "default"
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    assert scenario_to_dict(load_scenario("default", sets)) == scenario_to_dict(model.scenario)
