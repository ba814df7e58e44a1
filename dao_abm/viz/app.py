"""The Solara page ``dao-abm viz`` serves (``solara run dao_abm/viz/app.py``).

Mesa's ``SolaraViz`` supplies the sidebar: Reset, Play/Pause, Step, the step counter, the
play interval (1 ms by default: play runs as fast as the model steps) and the render
interval (steps per redraw), and the controls built from ``model_params`` (mechanism preset,
learning rule, population size, seed, the page's overrides). The main area is this module's
``Dashboard``: a summary, the command line that reproduces the page, and three views
(Overview, Dynamics, DAO members) of which only the open one is drawn; with ``sessions > 1`` a
fourth, Sessions: fan charts of the headline metrics across sessions (the other views show
session 0, the single run).

Every browser session gets its own model, and reads the scenario named by the environment
when it opens: a scenario that cannot be read shows its error on the page (and in the
terminal), never a blank page.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from html import escape
from pathlib import Path

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from dao_abm.errors import DaoAbmError
from dao_abm.scenario import Scenario, bundled_folder
from dao_abm.viz import (
    CONTROL_KEYS,
    ENV_COMPARE,
    ENV_SCENARIO,
    VizModel,
    initial_params,
    model_params,
    scenario_from_env,
)
from dao_abm.viz import rounds as one_round
from dao_abm.viz.components import FigureStyle, summary_html
from dao_abm.viz.history import BUCKET_ROWS
from dao_abm.viz.live import PairModel, parse_compare, parse_overrides, report
from dao_abm.viz.series import FANS, LINES
from dao_abm.viz.views import (
    BidsChart,
    Distribution,
    GraphChart,
    HeatBySize,
    LinesChart,
    MembersHistory,
    MembersNow,
)

TABS = ("Overview", "Dynamics", "DAO members")
#: The view shown when the scenario runs several sessions.
SESSIONS_TAB = "Sessions"
GRID_CSS = """
.dao-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr));
  gap: 12px; width: 100%; }
.dao-command { font-family: monospace; font-size: 0.8rem; white-space: pre-wrap;
  background: #f5f5f5; padding: 4px 8px; border-radius: 4px; }
"""


@dataclass(frozen=True)
class Source:
    """Where the page's scenario came from: the file, the CLI's ``--set`` overrides, and the
    side-by-side axis as typed (``KEY=A,B``) or None."""

    path: str
    overrides: tuple[str, ...]
    compare: str | None


def load_source() -> tuple[Scenario, Source]:
    """The scenario named by the environment, validated (DaoAbmError otherwise)."""
    import json

    from dao_abm.viz import DEFAULT_SCENARIO, ENV_OVERRIDES

    scenario = scenario_from_env()
    overrides = tuple(json.loads(os.environ.get(ENV_OVERRIDES) or "[]"))
    path = os.environ.get(ENV_SCENARIO) or str(DEFAULT_SCENARIO)
    return scenario, Source(path, overrides, os.environ.get(ENV_COMPARE) or None)


def command_lines(source: Source, model) -> list[str]:
    """The commands that reproduce the page: ``dao-abm viz`` with the controls and the page's
    overrides as ``--set``, and the ``dao-abm run`` (one per run) of the rounds shown."""
    base = model.base
    sets = list(source.overrides)
    for name, key in CONTROL_KEYS.items():
        value = getattr(model, "controls", {}).get(name)
        if value is not None and str(value) != str(_current(base, key)):
            sets.append(f"{key}={value}")
    sets += parse_overrides(model.overrides)
    path = _shown_path(source.path)
    flags = [arg for item in sets for arg in ("--set", item)]
    viz = ["dao-abm", "viz", path, *flags]
    if source.compare:
        viz += ["--compare", source.compare]
    lines = [shlex.join(viz)]
    rounds = ["--rounds", str(model.steps)] if model.steps else []
    for run in model.runs:
        extra = [] if len(model.runs) == 1 else ["--set", run.label]
        lines.append(shlex.join(["dao-abm", "run", path, *flags, *extra, *rounds]))
    return lines


def _current(scenario: Scenario, key: str):
    node = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _shown_path(path: str) -> str:
    """``path`` relative to the current folder, else a bundled scenario's name, else as is."""
    resolved = Path(path).resolve()
    if resolved.is_relative_to(Path.cwd()):
        return str(resolved.relative_to(Path.cwd()))
    if resolved.parent == bundled_folder().resolve() and resolved.suffix == ".toml":
        return resolved.stem
    return path


@solara.component
def Summary(model, round_: int):
    """Each run's mechanism, population (with its digest), round and last metrics."""
    for run in model.runs:
        head = f"<b>{run.label}</b> · population {run.model.digest}<br>"
        solara.HTML(unsafe_innerHTML=head + summary_html(run.model), classes=["dao-summary"])


@solara.component
def Dashboard(model: solara.Reactive, source: Source):
    """The main area: summary, command line, and the open view."""
    update_counter.get()
    live = model.value
    runs = live.runs
    tab = solara.use_reactive(TABS[0])
    dao = solara.use_reactive(None)
    row = solara.use_reactive(BUCKET_ROWS[0])
    two = len(runs) > 1
    fans = runs[0].model.fans
    tabs = [*TABS, SESSIONS_TAB] if fans is not None else list(TABS)
    shown = tab.value if tab.value in tabs else TABS[0]

    def select(d: int) -> None:
        dao.set(int(d))
        tab.set(TABS[2])

    FigureStyle()
    solara.Style(GRID_CSS)
    if live.error:
        solara.Error(f"dao-abm: error: {live.error}. Showing the scenario without the page's "
                     "overrides.", classes=["dao-error"])
    k = live.steps
    Summary(live, k)
    solara.HTML(tag="div", unsafe_innerHTML="<br>".join(map(escape, command_lines(source, live))),
                classes=["dao-command"])
    solara.ToggleButtonsSingle(value=shown, on_value=tab.set, values=tabs,
                               classes=["dao-tabs"])
    suffix = (lambda run: f" · {run.label.split('=', 1)[-1]}") if two else (lambda run: "")
    chosen = dao.value if dao.value is not None else default_dao(runs[0].model)
    if shown == TABS[1]:
        with solara.Row(style={"max-width": "320px"}):
            solara.Select("DAO size (distribution)", value=row, values=list(BUCKET_ROWS))
    elif shown == TABS[2]:
        DaoPicker(runs[0], dao, chosen, k)
    elif shown == SESSIONS_TAB:
        solara.Text(sessions_note(fans), classes=["dao-sessions-note"])
    with solara.Div(classes=["dao-grid"]):
        if shown == TABS[0]:
            for view in LINES:
                LinesChart(view, runs, round_=k)
            for i, run in enumerate(runs):
                if run.model.graph is not None or i == 0:
                    GraphChart(run, on_dao=select, round_=k)
                BidsChart(run, suffix(run), round_=k)
        elif shown == TABS[1]:
            for run in runs:
                HeatBySize(run, suffix(run), round_=k)
                Distribution(run, row.value, suffix(run), round_=k)
        elif shown == SESSIONS_TAB:
            for view in FANS:
                if view.column in fans.columns:
                    LinesChart(view, runs, round_=k)
        else:
            for run in runs:
                MembersHistory(run, chosen, round_=k)
                MembersNow(run, chosen, round_=k)


def sessions_note(fans) -> str:
    """What the Sessions view shows."""
    every = fans.ensemble.scenario.metrics.every
    rounds = "each round" if every == 1 else f"every {every} rounds (metrics.every)"
    return (f"{fans.n_sessions} sessions on one population, each on its own child seed: "
            f"the median across sessions, the bands holding 50% and 90% of them, and "
            f"session 0 (dashed), recorded {rounds}. The other views show session 0, the "
            "single run.")


def default_dao(model) -> int:
    """The DAO shown before one is picked: the last round's winner, else the largest."""
    winner = int(model.last.get("winner_dao", -1)) if model.last else -1
    return winner if winner >= 0 else one_round.largest_daos(model, 1)[0]


@solara.component
def DaoPicker(run, dao: solara.Reactive, chosen: int, round_: int):
    """Pick a DAO from the largest ones (or click one in the affinity graph); who is in it
    and who has access this round."""
    model = run.model
    sizes = model.groups.sizes
    daos = one_round.largest_daos(model)
    if chosen not in daos:
        daos = [chosen, *daos]
    names = {d: f"DAO {d} ({int(sizes[d]) if d < sizes.size else 0} members)" for d in daos}
    members = one_round.dao_members(model, chosen)
    access = int(model.access[members].sum())
    watched = len(model.history.members_of(chosen, model.labels))
    with solara.Row(style={"align-items": "center"}, classes=["dao-picker"]):
        with solara.Div(style={"width": "320px"}):
            solara.Select("DAO", value=names[chosen], values=list(names.values()),
                          on_value=lambda text: dao.set(int(text.split()[1])))
        solara.Text(f"DAO {chosen}: {members.size:,} members, {access:,} with access in round "
                    f"{round_}; bids and values over rounds kept for {watched} of them "
                    "(the watched members).", classes=["dao-members-note"])


@solara.component
def VizPage(scenario: Scenario, source: Source | None = None):
    """SolaraViz (sidebar, controls) over one model, or two side by side; the Dashboard."""
    if source is None:
        source = Source(f"{scenario.name}.toml", (), None)
    axis = solara.use_memo(lambda: parse_compare(source.compare) if source.compare else None,
                           [source.compare])
    params = solara.use_memo(lambda: model_params(scenario, axis), [scenario, axis])
    kind = PairModel if axis is not None else VizModel
    first = solara.use_memo(lambda: kind(**initial_params(params)), [params])
    model = solara.use_reactive(first)
    title = f"dao-abm · {scenario.name}" + (f" · {source.compare}" if source.compare else "")
    SolaraViz(model, components=[], model_params=params, name=title, play_interval=1)
    Dashboard(model, source)


@solara.component
def Page():
    """The page solara serves: the scenario read when the session opens."""
    loaded = solara.use_memo(_load, [])
    if isinstance(loaded, str):
        solara.Error(f"dao-abm: error: {loaded}", classes=["dao-error"])
        solara.Markdown("Fix the scenario (or the `--set` / `--compare` options) and reload "
                        "this page.")
        return
    VizPage(*loaded)


def _load() -> tuple[Scenario, Source] | str:
    try:
        scenario, source = load_source()
        if source.compare:
            parse_compare(source.compare)
        return scenario, source
    except (DaoAbmError, ValueError) as exc:
        return report(str(exc))
