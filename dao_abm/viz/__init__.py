"""The browser view (``dao-abm viz``): Mesa's SolaraViz page over ``DaoAuctionModel``.

SolaraViz re-creates the model on Reset as ``type(model)(**params)`` from its controls, so
the page runs ``VizModel``: a ``DaoAuctionModel`` built from the scenario (a fixed parameter)
and the controls (mechanism preset, learning rule, population size, seed, and the page's own
overrides), or, side by side, ``live.PairModel`` with the same controls.
``app.py`` is the page that ``solara run`` serves; it reads the scenario path, the ``--set``
overrides and the ``--compare`` axis from the environment variables below, which the CLI sets.

This module imports no Solara, so the CLI can validate a scenario before starting a server.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dao_abm.errors import DaoAbmError
from dao_abm.learning import LEARNING_RULES
from dao_abm.mechanisms import PRESETS
from dao_abm.scenario import (
    Scenario,
    bundled_folder,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from dao_abm.scenario.schema import MechanismSpec
from dao_abm.viz.live import LiveModel, Run, page_scenario

if TYPE_CHECKING:
    from dao_abm.experiments.grid import Axis

#: The page ``solara run`` serves.
APP_PATH = Path(__file__).with_name("app.py")
#: The default scenario: the bundled ``models/default.toml``.
DEFAULT_SCENARIO = bundled_folder() / "default.toml"
#: Environment variables the CLI passes to the page: the scenario file, and the ``--set``
#: overrides as a JSON list of ``key=value`` strings.
ENV_SCENARIO = "DAO_ABM_VIZ_SCENARIO"
ENV_OVERRIDES = "DAO_ABM_VIZ_SET"
#: ``KEY=A,B``: two runs side by side (``dao-abm viz --compare``); unset for one run.
ENV_COMPARE = "DAO_ABM_VIZ_COMPARE"
#: The controls and the scenario keys they set (for the command line the page shows).
CONTROL_KEYS = {"preset": "mechanism.preset", "rule": "learning.rule",
                "n_members": "population.n_members", "seed": "seed"}

#: The learning rules the page offers: the registry (a live view, so rules registered from
#: outside the package appear too).
RULES = LEARNING_RULES.names


def server_env(scenario: str | Path, overrides: list[str] | tuple[str, ...],
               compare: str | None = None) -> dict[str, str]:
    """The environment variables that hand a scenario, its overrides and the side-by-side
    axis (if any) to the page."""
    env = {ENV_SCENARIO: str(Path(scenario).resolve()), ENV_OVERRIDES: json.dumps(list(overrides))}
    return env | ({ENV_COMPARE: compare} if compare else {})


def scenario_from_env(environ: Mapping[str, str] = os.environ) -> Scenario:
    """The scenario the CLI named (``DEFAULT_SCENARIO`` when the variables are unset)."""
    path = environ.get(ENV_SCENARIO) or DEFAULT_SCENARIO
    try:
        overrides = json.loads(environ.get(ENV_OVERRIDES) or "[]")
    except json.JSONDecodeError:
        raise DaoAbmError(f"{ENV_OVERRIDES}: expected a JSON list of key=value") from None
    return load_scenario(path, [str(item) for item in overrides])


def viz_scenario(base: Scenario, *, preset: str, rule: str, n_members: int,
                 seed: int) -> Scenario:
    """``base`` with the page's controls applied, validated again.

    Choosing a preset other than the scenario's drops the scenario's part overrides
    (``mechanism.aggregation``, ...), so the dropdown means what it says; likewise choosing
    another learning rule drops the scenario's ``learning.params`` and ``learning.feedback``
    (they belong to its rule), and falls back to ``learning.strategy = "shading"`` when the
    new rule does not learn bid functions.
    """
    mechanism = base.mechanism
    if preset != mechanism.preset:
        mechanism = MechanismSpec(preset=preset)
    scenario = dataclasses.replace(
        base,
        seed=seed,
        mechanism=mechanism,
        learning=dataclasses.replace(base.learning, rule=rule),
        population=dataclasses.replace(base.population, n_members=int(n_members)),
    )
    data = scenario_to_dict(scenario)
    if rule != base.learning.rule:
        del data["learning"]["params"], data["learning"]["feedback"]
        if rule in LEARNING_RULES and not LEARNING_RULES[rule].functions:
            data["learning"]["strategy"] = "shading"
    return scenario_from_dict(data, source=base.name)


def parse_seed(seed: Any) -> int:
    """The seed typed in the page's text box, as a non-negative integer."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise DaoAbmError(f"seed: expected a non-negative integer, got {seed!r}") from None
    if value < 0:
        raise DaoAbmError(f"seed: expected a non-negative integer, got {seed!r}")
    return value


class VizModel(LiveModel):
    """``DaoAuctionModel`` (with the page's history) built from keyword parameters, as
    SolaraViz's Reset needs.

    Args:
        scenario: the base scenario (a fixed parameter of the page).
        preset: mechanism preset, one of ``PRESETS``.
        rule: learning rule, one of ``RULES``.
        n_members: members formed into DAOs.
        seed: the one seed (an integer, or its text as typed in the page).
        overrides: the page's ``key=value`` overrides, separated by ``;``. Controls or
            overrides that do not validate leave ``error`` set and the base scenario run.
    """

    def __init__(self, scenario: Scenario, preset: str, rule: str, n_members: int,
                 seed: int | str = 0, overrides: str = "") -> None:
        self.base = scenario
        self.controls = {"preset": preset, "rule": rule, "n_members": n_members, "seed": seed}
        spec, self.error = page_scenario(scenario, self.controls, overrides)
        super().__init__(spec)
        self.overrides = "" if self.error else overrides
        self.runs = [Run(spec.name, self)]


def model_params(scenario: Scenario, compare: Axis | None = None) -> dict[str, Any]:
    """SolaraViz ``model_params``: the scenario (fixed), the side-by-side axis (fixed, when
    given) and the controls, set to the scenario's values.

    The population slider is left out (fixed) when the scenario fixes the members: a
    members CSV, or DAO sizes that must sum to ``n_members``.
    """
    n = scenario.population.n_members
    fixed_size = bool(scenario.population.members_csv) or scenario.daos.method == "sizes"
    top = max(2000, n)
    members: Any = n if fixed_size else {
        "type": "SliderInt", "label": "Members", "value": n,
        "min": min(20, n), "max": top, "step": max(1, top // 200),
    }
    return {
        "scenario": scenario,
        "preset": {"type": "Select", "label": "Mechanism preset",
                   "value": scenario.mechanism.preset, "values": list(PRESETS)},
        "rule": {"type": "Select", "label": "Learning rule",
                 "value": scenario.learning.rule, "values": RULES()},
        "n_members": members,
        "seed": {"type": "InputText", "label": "Seed", "value": str(scenario.seed)},
        "overrides": {"type": "InputText", "label": "Overrides (key=value; ...)", "value": ""},
    } | ({"compare": compare} if compare is not None else {})


def initial_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the first model: fixed values and the controls' defaults."""
    return {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}


__all__ = [
    "APP_PATH",
    "CONTROL_KEYS",
    "DEFAULT_SCENARIO",
    "ENV_COMPARE",
    "ENV_OVERRIDES",
    "ENV_SCENARIO",
    "RULES",
    "VizModel",
    "initial_params",
    "model_params",
    "parse_seed",
    "scenario_from_env",
    "server_env",
    "viz_scenario",
]
