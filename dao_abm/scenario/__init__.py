"""Scenarios: TOML files in models/ (bundled with the package, see ``bundled``), validated into
frozen dataclasses."""

from dao_abm.scenario.bundled import bundled_folder, bundled_names, scenario_file
from dao_abm.scenario.checks import mechanism_of
from dao_abm.scenario.load import (
    apply_override,
    describe_keys,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)
from dao_abm.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "apply_override",
    "bundled_folder",
    "bundled_names",
    "describe_keys",
    "load_scenario",
    "mechanism_of",
    "scenario_file",
    "scenario_from_dict",
    "scenario_to_dict",
    "write_scenario",
]
