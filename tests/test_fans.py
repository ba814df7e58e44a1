"""Fan charts across sessions: the quantiles (against numpy on hand-made ensembles), the live
page's ensemble (session 0 is the page's model, the others the sessions ``dao-abm run`` would
run), the chart's points and CSV, and the run folder's ``figures/fans.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dao_abm.ensemble.fans import QUANTILE_COLUMNS, QUANTILES, fan_quantiles, fan_table
from dao_abm.ensemble.sessions import SessionEnsemble
from dao_abm.scenario import load_scenario
from dao_abm.viz import VizModel, initial_params, model_params
from dao_abm.viz.live import Run, parse_compare
from dao_abm.viz.series import FANS, fan_points

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = ["population.n_members=60", "daos.max_size=6"]


def test_quantiles_by_hand():
    q, n = fan_quantiles(np.array([[0.0, 1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_allclose(q[0], [0.2, 1.0, 2.0, 3.0, 3.8])  # linear interpolation
    assert n.tolist() == [5]


def test_quantiles_match_numpy_over_the_finite_sessions():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4, 9))  # (rounds, metrics, sessions)
    x[0, 0, [1, 4]] = np.nan  # epsilon not measured in two sessions
    x[1, 2, 3] = np.inf  # a session with zero welfare: OPT/welfare is infinite
    x[2, 1, :] = np.nan  # no session measured
    q, n = fan_quantiles(x)
    assert q.shape == (6, 4, 5) and n.shape == (6, 4)
    for idx in np.ndindex(6, 4):
        kept = x[idx][np.isfinite(x[idx])]
        assert n[idx] == kept.size
        if kept.size:
            np.testing.assert_allclose(q[idx], np.quantile(kept, QUANTILES), rtol=1e-12)
        else:
            assert np.isnan(q[idx]).all()
    assert n[0, 0] == 7 and n[1, 2] == 8 and n[2, 1] == 0


def test_fan_table_of_a_tidy_metrics_frame():
    sessions, rounds = 5, [2, 4, 6]
    rng = np.random.default_rng(0)
    truthful = rng.uniform(size=(len(rounds), sessions))
    frame = pd.DataFrame({
        "session": np.tile(np.arange(sessions), len(rounds)),
        "round": np.repeat(rounds, sessions),
        "truthful_share": truthful.ravel(),
        "max_gain": np.where(np.repeat(rounds, sessions) == 4, np.nan, 0.5),
    }).sample(frac=1.0, random_state=1)  # row order does not matter
    table = fan_table(frame)
    assert table.columns.tolist() == ["metric", "round", "n", *QUANTILE_COLUMNS]
    share = table[table["metric"] == "truthful_share"]
    assert share["round"].tolist() == rounds and (share["n"] == sessions).all()
    np.testing.assert_allclose(share[list(QUANTILE_COLUMNS)].to_numpy(),
                               np.quantile(truthful, QUANTILES, axis=1).T)
    gain = table[table["metric"] == "max_gain"].set_index("round")
    assert gain.loc[4, "n"] == 0 and np.isnan(gain.loc[4, "median"])
    assert gain.loc[6, "median"] == 0.5


@pytest.fixture(scope="module")
def fans_model():
    """The page's model with 4 sessions, recording every 2nd round, after 6 Steps."""
    spec = load_scenario(MODELS / "default.toml", [*SMALL, "sessions=4", "metrics.every=2"])
    model = VizModel(**initial_params(model_params(spec)))
    for _ in range(6):
        model.step()
    return spec, model


def test_page_sessions_are_the_runs_sessions(fans_model):
    spec, model = fans_model
    fans = model.fans
    assert fans.n_sessions == 4 and fans.rounds == [2, 4, 6]
    # session 0 is the page's model itself
    mine = model.datacollector.get_model_vars_dataframe()
    for j, column in enumerate(fans.columns):
        np.testing.assert_array_equal([v[0, j] for v in fans.values], mine[column].to_numpy())
    # sessions 1..3 are those of dao-abm run (the same scenario, seed and instance)
    ensemble = SessionEnsemble.build(spec, sessions=[1, 2, 3])
    for k in range(3):
        ensemble.advance(2, True)
        rows = ensemble.metrics()[fans.columns].to_numpy(dtype=np.float64)
        np.testing.assert_array_equal(fans.values[k][1:], rows)
        q, n = fan_quantiles(fans.values[k].T)
        np.testing.assert_array_equal(fans.quantiles[k], q)
        np.testing.assert_array_equal(fans.counts[k], n)
    assert not np.array_equal(fans.values[-1][0], fans.values[-1][1])  # sessions differ


def test_fan_chart_points_and_csv(fans_model):
    spec, model = fans_model
    runs = [Run(spec.name, model)]
    view = next(v for v in FANS if v.column == "truthful_share")
    table = view.table(runs)
    assert table["round"].tolist() == [2, 4, 6] and (table["sessions"] == 4).all()
    j = model.fans.columns.index("truthful_share")
    values = np.array([v[:, j] for v in model.fans.values])  # (rounds, sessions)
    np.testing.assert_allclose(table[list(QUANTILE_COLUMNS)].to_numpy(),
                               np.quantile(values, QUANTILES, axis=1).T)
    np.testing.assert_array_equal(table["session_0"], values[:, 0])
    # the series the browser appends: lower edge and width of each band, median, session 0
    # (value first, then the round: ECharts stacks the first dimension)
    lo90, band90, lo50, band50, median, zero = fan_points(model.fans, "truthful_share", 2)
    assert [p[1] for p in median] == [4, 6]  # rounds after start = 2 only
    row = table.iloc[1]
    assert lo90[0] == [pytest.approx(row["q05"]), 4]
    assert band90[0] == pytest.approx([row["q95"] - row["q05"], 4, row["q05"], row["q95"]])
    assert lo50[0][0] == pytest.approx(row["q25"])
    assert band50[0][2:] == pytest.approx([row["q25"], row["q75"]])
    assert median[0][0] == pytest.approx(row["median"]) and zero[0][0] == row["session_0"]
    assert view.points(runs, 6) == {"series": [[]] * 6, "xdim": 1}
    option = view.option(runs)
    assert option["title"]["text"] == "Truthful share across 4 sessions"
    assert [s["fanRole"] for s in option["series"]] == ["lower", "band"] * 2 + ["median",
                                                                                "session"]


def test_one_session_has_no_fans():
    spec = load_scenario(MODELS / "default.toml", SMALL)
    assert VizModel(**initial_params(model_params(spec))).fans is None


def test_run_folder_draws_the_fans(tmp_path):
    from dao_abm.runner import run_scenario

    spec = load_scenario(MODELS / "default.toml",
                         [*SMALL, "sessions=3", "rounds=4", "metrics.agent_interval=0"])
    _, folder = run_scenario(spec, out=tmp_path / "run")
    png = (folder / "figures" / "fans.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_side_by_side_draws_one_fan_per_run():
    from dao_abm.viz.live import PairModel

    spec = load_scenario(MODELS / "default.toml", [*SMALL, "sessions=3"])
    params = initial_params(model_params(spec)) | {"compare": parse_compare(
        "mechanism.preset=crowdfund,dao-vickrey")}
    pair = PairModel(**params)
    pair.step()
    view = FANS[0]
    option = view.option(pair.runs)
    names = [s["name"] for s in option["series"]]
    assert len(names) == 12 and names[4] == "median · crowdfund"
    assert names[10] == "median · dao-vickrey"
    series = view.points(pair.runs, 0)["series"]
    assert [len(points) for points in series] == [1] * 12
    table = view.table(pair.runs)
    assert table["run"].tolist() == ["mechanism.preset=crowdfund", "mechanism.preset=dao-vickrey"]
    assert (table["sessions"] == 3).all()
