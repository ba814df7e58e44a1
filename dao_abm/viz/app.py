"""The Solara page ``dao-abm viz`` serves (``solara run dao_abm/viz/app.py``).

Mesa's ``SolaraViz`` supplies the sidebar (Reset, Play/Pause, Step, the step counter) and
the controls built from ``model_params``: mechanism preset, learning rule, population size
and seed; the scenario file named by ``DAO_ABM_VIZ_SCENARIO`` (with the ``--set`` overrides
in ``DAO_ABM_VIZ_SET``) fixes everything else. The main area shows the affinity graph under
a summary, bids against values, welfare with OPT/welfare, truthful share with mean
bid/value, and Mesa's own plot of epsilon (the largest gain from best-responding).

Every browser session gets its own model: ``Page`` builds it when the session first renders
(a model made at import would be shared by every open tab).
"""

from __future__ import annotations

import solara
from mesa.visualization import SolaraViz, make_plot_component

from dao_abm.scenario import Scenario
from dao_abm.viz import VizModel, initial_params, model_params, scenario_from_env
from dao_abm.viz.components import (
    AffinityGraph,
    BidsAgainstValues,
    TruthfulnessOverRounds,
    WelfareOverRounds,
)


def _epsilon_axes(ax) -> None:
    ax.set_title("Largest gain from best-responding (epsilon)")
    for line in ax.get_lines():  # epsilon may be measured every k rounds only (NaN between)
        line.set_marker(".")
    ax.set_ylim(bottom=0)


EPSILON = make_plot_component({"max_gain": "tab:purple", "mean_gain": "tab:olive"},
                              post_process=_epsilon_axes)
COMPONENTS = [AffinityGraph, BidsAgainstValues, WelfareOverRounds, TruthfulnessOverRounds,
              EPSILON]


@solara.component
def VizPage(scenario: Scenario):
    """SolaraViz over a model of ``scenario``, built once per session."""
    params = solara.use_memo(lambda: model_params(scenario), [scenario])
    model = solara.use_memo(lambda: VizModel(**initial_params(params)), [params])
    return SolaraViz(model, components=COMPONENTS, model_params=params,
                     name=f"dao-abm · {scenario.name}")


#: The scenario the CLI named (validated by the CLI before the server started).
SCENARIO = scenario_from_env()


@solara.component
def Page():
    """The page solara serves."""
    return VizPage(SCENARIO)
