"""The browser view without a browser: the model the page builds from its controls, the
figures, the Solara components and the whole SolaraViz page rendered in-process (solara's
test renderer), and ``dao-abm viz`` rejecting bad input before it starts a server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from dao_abm.cli import main, viz_cmd
from dao_abm.errors import DaoAbmError
from dao_abm.learning import LEARNING_RULES
from dao_abm.scenario import load_scenario
from dao_abm.viz import (
    ENV_OVERRIDES,
    ENV_SCENARIO,
    RULES,
    VizModel,
    initial_params,
    model_params,
    parse_seed,
    scenario_from_env,
    server_env,
    viz_scenario,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # solara's hook check on Mesa

MODELS = Path(__file__).resolve().parents[1] / "models"
SMALL = ["population.n_members=60"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small():
    return load_scenario(MODELS / "default.toml", SMALL)


def make_model(scenario, **controls):
    return VizModel(**(initial_params(model_params(scenario)) | controls))


# --- the model the page builds from its controls -------------------------------------------

def test_controls_rebuild_the_scenario(small):
    spec = viz_scenario(small, preset="split-the-bill", rule="logit", n_members=80, seed=3)
    assert (spec.mechanism.preset, spec.learning.rule, spec.seed) == ("split-the-bill", "logit", 3)
    assert spec.population.n_members == 80
    assert spec.graph == small.graph and spec.daos == small.daos


def test_another_preset_drops_the_scenarios_part_overrides():
    base = load_scenario(MODELS / "default.toml", [*SMALL, 'mechanism.upper="first-price"'])
    same = viz_scenario(base, preset="dao-vickrey", rule="best-response", n_members=60, seed=0)
    other = viz_scenario(base, preset="crowdfund", rule="best-response", n_members=60, seed=0)
    assert same.mechanism.upper == "first-price"
    assert other.mechanism.upper == ""


def test_controls_are_validated(small):
    with pytest.raises(DaoAbmError, match=r"learning\.rule"):
        viz_scenario(small, preset="dao-vickrey", rule="guess", n_members=60, seed=0)
    with pytest.raises(DaoAbmError, match="n_members"):
        viz_scenario(small, preset="dao-vickrey", rule="logit", n_members=0, seed=0)


@pytest.mark.parametrize(("text", "seed"), [("7", 7), (" 42 ", 42), (3, 3)])
def test_seed_text(text, seed):
    assert parse_seed(text) == seed


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.5"])
def test_bad_seed_text(text):
    with pytest.raises(DaoAbmError, match="seed"):
        parse_seed(text)


def test_model_params_offer_the_four_controls(small):
    params = model_params(small)
    assert params["scenario"] is small
    assert params["preset"]["type"] == "Select" and "split-the-bill" in params["preset"]["values"]
    assert params["rule"]["values"] == RULES() == LEARNING_RULES.names()
    assert params["n_members"]["type"] == "SliderInt" and params["n_members"]["value"] == 60
    assert params["seed"] == {"type": "InputText", "label": "Seed", "value": "7"}
    assert params["overrides"]["type"] == "InputText" and params["overrides"]["value"] == ""


def test_population_slider_is_fixed_when_sizes_fix_it():
    spec = load_scenario(MODELS / "default.toml", [
        "population.n_members=6", 'graph.kind="none"', 'daos.method="sizes"',
        "daos.sizes=[3, 2, 1]"])
    assert model_params(spec)["n_members"] == 6
    assert make_model(spec).groups.n_groups == 3


def test_mesa_accepts_the_params_and_reset_rebuilds_the_model(small):
    from mesa.visualization.solara_viz import _check_model_params

    params = model_params(small)
    _check_model_params(VizModel.__init__, params)
    model = VizModel(**initial_params(params))
    model.step()
    again = type(model)(**initial_params(params))  # what SolaraViz's Reset does
    again.step()
    assert model.scenario.seed == again.scenario.seed == 7
    pd.testing.assert_frame_equal(model.datacollector.get_model_vars_dataframe(),
                                  again.datacollector.get_model_vars_dataframe())


def test_scenario_travels_through_the_environment(tmp_path):
    env = server_env(MODELS / "default.toml", ["population.n_members=70", "learning.rule=hedge"])
    assert Path(env[ENV_SCENARIO]).is_absolute()
    spec = scenario_from_env(env)
    assert spec.population.n_members == 70 and spec.learning.rule == "hedge"
    assert scenario_from_env({}).name == "default"
    with pytest.raises(DaoAbmError, match=ENV_OVERRIDES):
        scenario_from_env({ENV_OVERRIDES: "not json"})


# --- figures -----------------------------------------------------------------------------------

def test_graph_sample_takes_whole_daos():
    from dao_abm.viz.components import graph_sample

    graph = nx.path_graph(100)
    labels = np.repeat(np.arange(10), 10)
    assert graph_sample(graph, labels, limit=100) is graph
    sample = graph_sample(graph, labels, limit=35)
    nodes = np.array(sample.nodes)
    assert len(nodes) == 30
    assert all((labels == dao).sum() == (labels[nodes] == dao).sum() for dao in labels[nodes])


def test_dao_layout_places_every_member_near_its_dao():
    from dao_abm.layout import dao_layout

    graph = nx.disjoint_union(nx.complete_graph(5), nx.complete_graph(5))
    graph.add_edge(0, 5)
    graph.add_node(10)  # an isolated member, a DAO of its own
    labels = np.array([0] * 5 + [1] * 5 + [2])
    pos = dao_layout(graph, labels)
    xy = np.array([pos[i] for i in range(11)])
    assert np.isfinite(xy).all() and len({tuple(p) for p in xy.round(9)}) == 11
    spread = np.abs(xy).max()
    within = max(np.ptp(xy[:5], axis=0).max(), np.ptp(xy[5:10], axis=0).max())
    between = np.linalg.norm(xy[:5].mean(axis=0) - xy[5:10].mean(axis=0))
    assert within < between and spread <= 1.5


def test_bids_and_graph_charts_of_a_small_model(small):
    import json

    from dao_abm.viz import rounds

    model = make_model(small)
    model.step()
    bids = rounds.bids_option(model)
    assert "round 1" in bids["title"]["text"] and bids["title"]["subtext"] == ""
    points = [p for s in bids["series"] if s["type"] == "scatter" for p in s["data"]]
    assert len(points) == 60
    assert sorted(p[0] for p in points) == pytest.approx(sorted(model.values))
    graph = rounds.graph_option(model)
    nodes = graph["series"][1]["data"]
    assert len(nodes) == 60 and {n["value"][2] for n in nodes} == set(model.labels.tolist())
    json.dumps(graph, allow_nan=False)  # what LiveChart sends


def test_large_graphs_and_populations_are_sampled(small, monkeypatch):
    from dao_abm.viz import charts, components, rounds

    monkeypatch.setattr(components, "MAX_GRAPH_NODES", 59)
    monkeypatch.setattr(components, "GRAPH_SAMPLE_NODES", 25)
    monkeypatch.setattr(charts, "MAX_POINTS", 40)
    monkeypatch.setattr(rounds, "sample_index",
                        lambda n: charts.sample_index(n, limit=40))
    monkeypatch.setattr(rounds, "sample_note", lambda n: charts.sample_note(n, limit=40))
    model = make_model(small)
    graph = rounds.graph_option(model)
    assert "of 60 members" in graph["title"]["subtext"]
    assert 0 < len(graph["series"][1]["data"]) <= 25
    bids = rounds.bids_option(model)
    assert bids["title"]["subtext"] == "a random sample of 40 of 60 members"
    assert sum(len(s["data"]) for s in bids["series"] if s["type"] == "scatter") == 40


def test_no_graph_no_graph_chart():
    from dao_abm.viz.rounds import graph_option

    spec = load_scenario(MODELS / "default.toml", [
        "population.n_members=6", 'graph.kind="none"', 'daos.method="sizes"',
        "daos.sizes=[3, 3]"])
    assert graph_option(make_model(spec)) is None


# --- Solara: components and the whole page ---------------------------------------------------

def chart_widgets(rc) -> dict:
    """The page's LiveChart widgets by view name."""
    import ipyvuetify as v

    return {w.view: w for w in rc.find(v.VuetifyTemplate).widgets if hasattr(w, "update")}


def test_chart_over_rounds_sends_only_the_new_rounds(small):
    import json

    import solara

    from dao_abm.viz.series import LINES
    from dao_abm.viz.views import LinesChart

    model = make_model(small)
    round_ = solara.reactive(0)

    @solara.component
    def Root():
        LinesChart(LINES[0], model.runs, round_=round_.value)

    _box, rc = solara.render(Root(), handle_error=False)
    widget = chart_widgets(rc)["welfare"]
    assert json.loads(widget.update)["series"] == [[], [], []]
    for k in (1, 2, 3):
        model.step()
        round_.value = k
        update = json.loads(widget.update)
        assert (update["start"], update["end"]) == (k - 1, k)
        welfare = model.datacollector.model_vars["welfare"][-1]
        assert update["series"][0] == [[k, pytest.approx(welfare)]]  # the new round only
    assert json.loads(widget.option)["series"][2]["name"] == "OPT/welfare"
    rc.close()


def test_page_steps_and_resets_with_new_controls(small):
    import json

    import ipyvuetify as v
    import ipywidgets
    import solara

    from dao_abm.viz.app import VizPage

    @solara.component
    def Root():
        with solara.AppLayout() as main:  # hosts SolaraViz's sidebar and app bar
            VizPage(small)
        return main

    _box, rc = solara.render(Root(), handle_error=False)
    charts = chart_widgets(rc)
    assert {"welfare", "truthful", "epsilon", "winner", "graph", "bids"} <= set(charts)
    rc.find(v.Html, children=["Step: 0"]).assert_single()

    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Html, children=["Step: 1"]).assert_single()
    charts = chart_widgets(rc)
    assert all(json.loads(w.update)["end"] == 1 for w in charts.values())
    assert "round 1" in json.loads(charts["bids"].option)["title"]["text"]

    rc.find(v.Select, label="Mechanism preset").widget.v_model = "split-the-bill"
    seed = rc.find(v.TextField, label="Seed").widget
    seed.v_model = "11"
    seed.fire_event("focusout")  # solara.InputText commits on focus out or Enter
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rc.find(v.Html, children=["Step: 0"]).assert_single()
    summary = rc.find(ipywidgets.Widget, attributes={"class": "dao-summary"}).widget
    assert "<b>split-the-bill</b>" in summary.unsafe_innerHTML
    assert "seed 11" in summary.unsafe_innerHTML
    command = rc.find(ipywidgets.Widget, attributes={"class": "dao-command"}).widget
    assert "--set seed=11" in command.unsafe_innerHTML
    assert "--set mechanism.preset=split-the-bill" in command.unsafe_innerHTML
    rc.close()


# --- the command line ---------------------------------------------------------------------------

def error_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_missing_scenario_is_one_line_and_status_2(capsys, tmp_path):
    assert main(["viz", str(tmp_path / "nope.toml")]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("dao-abm: error:")
    assert "no such scenario file" in lines[0]


def test_bad_override_is_one_line_and_status_2(capsys):
    assert main(["viz", "--set", "learning.rule=bogus"]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "learning.rule" in lines[0]


def test_bad_port_and_taken_port_are_one_line_and_status_2(capsys):
    assert main(["viz", "--port", "70000"]) == 2
    assert len(error_lines(capsys)) == 1
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["viz", "--port", str(port)]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and f"--port {port}" in lines[0]


def test_viz_serves_the_page_on_localhost(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(viz_cmd, "serve", lambda command, env: calls.append((command, env)) or 0)
    assert main(["viz", "--port", "0", "--set", "population.n_members=60"]) == 0
    (command, env), = calls
    host = command[command.index("--host") + 1]
    port = int(command[command.index("--port") + 1])
    assert command[1:4] == ["-m", "solara", "run"] and command[4].endswith("app.py")
    assert host == "127.0.0.1" and port > 0 and "--no-open" in command
    assert env[ENV_SCENARIO].endswith("default.toml")
    assert json.loads(env[ENV_OVERRIDES]) == ["population.n_members=60"]
    assert f"http://127.0.0.1:{port}/" in capsys.readouterr().out
