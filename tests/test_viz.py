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
from matplotlib.figure import Figure

from dao_abm.cli import main, viz_cmd
from dao_abm.errors import DaoAbmError
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
    spec = viz_scenario(small, preset="free-rider", rule="logit", n_members=80, seed=3)
    assert (spec.mechanism.preset, spec.learning.rule, spec.seed) == ("free-rider", "logit", 3)
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
    assert params["preset"]["type"] == "Select" and "free-rider" in params["preset"]["values"]
    assert params["rule"]["values"] == list(RULES)
    assert params["n_members"]["type"] == "SliderInt" and params["n_members"]["value"] == 60
    assert params["seed"] == {"type": "InputText", "label": "Seed", "value": "7"}


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
    from dao_abm.viz.components import dao_layout

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


def test_figures_of_a_small_model(small):
    from dao_abm.viz import components as c

    model = make_model(small)
    graph = c.graph_figure(model)
    assert isinstance(graph, Figure) and "Affinity graph" in graph.axes[0].get_title()
    welfare0 = c.to_png(c.welfare_figure(model))
    assert welfare0.startswith(PNG)
    model.step()
    assert c.to_png(c.welfare_figure(model)) != welfare0
    assert "round 1" in c.bids_figure(model).axes[0].get_title()
    assert len(c.truthfulness_figure(model).axes[0].get_lines()) >= 2
    assert "round <b>1</b>" in c.summary_html(model)
    assert "OPT/welfare" in c.summary_html(model)


def test_large_graphs_and_populations_are_sampled(small, monkeypatch):
    from dao_abm.viz import components as c

    monkeypatch.setattr(c, "MAX_GRAPH_NODES", 59)
    monkeypatch.setattr(c, "GRAPH_SAMPLE_NODES", 25)
    monkeypatch.setattr(c, "MAX_SCATTER_POINTS", 40)
    model = make_model(small)
    assert "of 60 members" in c.graph_figure(model).axes[0].get_title()
    assert 0 < c.shown_graph(model.graph, model.labels).number_of_nodes() <= 25
    bids = c.bids_figure(model)
    assert "40 of 60 members" in bids.axes[0].get_title()
    assert len(bids.axes[0].collections[0].get_offsets()) == 40


def test_no_graph_no_graph_figure():
    from dao_abm.viz.components import graph_figure

    spec = load_scenario(MODELS / "default.toml", [
        "population.n_members=6", 'graph.kind="none"', 'daos.method="sizes"',
        "daos.sizes=[3, 3]"])
    assert graph_figure(make_model(spec)) is None


# --- Solara: components and the whole page ---------------------------------------------------

def test_component_redraws_when_the_model_steps(small):
    import ipywidgets
    import solara
    from mesa.visualization.utils import force_update

    from dao_abm.viz.components import WelfareOverRounds

    model = make_model(small)
    _box, rc = solara.render(WelfareOverRounds(model), handle_error=False)
    before = rc.find(ipywidgets.Image).widget.value
    model.step()
    force_update()
    assert rc.find(ipywidgets.Image).widget.value != before
    rc.close()


def test_page_steps_and_resets_with_new_controls(small):
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
    images = {w._dom_classes[-1]: w for w in rc.find(ipywidgets.Image).widgets
              if w._dom_classes}
    assert {"dao-graph", "dao-bids", "dao-welfare", "dao-truthful"} <= set(images)
    before = {name: w.value for name, w in images.items()}
    rc.find(v.Html, children=["Step: 0"]).assert_single()

    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Html, children=["Step: 1"]).assert_single()
    after = {w._dom_classes[-1]: w.value for w in rc.find(ipywidgets.Image).widgets
             if w._dom_classes}
    assert after["dao-welfare"] != before["dao-welfare"]
    assert after["dao-truthful"] != before["dao-truthful"]

    rc.find(v.Select, label="Mechanism preset").widget.v_model = "free-rider"
    seed = rc.find(v.TextField, label="Seed").widget
    seed.v_model = "11"
    seed.fire_event("focusout")  # solara.InputText commits on focus out or Enter
    rc.find(v.Btn, children=["Reset"]).widget.click()
    rc.find(v.Html, children=["Step: 0"]).assert_single()
    summary = rc.find(ipywidgets.Widget, attributes={"class": "dao-summary"}).widget
    assert "<b>free-rider</b>" in summary.unsafe_innerHTML
    assert "seed 11" in summary.unsafe_innerHTML
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
