"""The models the page steps: one run, or two side by side on common random numbers.

SolaraViz re-creates its model on Reset as ``type(model)(**params)``, so both page models take
the page's controls as keyword arguments: the mechanism preset, learning rule, population
size, seed, and the page's own ``--set``-style overrides (``key=value`` separated by ``;``).
A control or override that does not validate is reported (on the page, and as a
``dao-abm: error:`` line in the server's terminal) and the run falls back to the scenario
without the page's overrides, so the page is never left blank.

Side by side (``dao-abm viz --compare KEY=A,B``) is the live form of ``dao-abm compare``:
the two scenarios are the cells of ``dao_abm.experiments.grid.expand`` over one axis with one
seed (for ``mechanism.preset`` the cells of ``compare_cells``, mechanism overrides dropped
as ``run_compare`` drops them), so both models draw the same population, graph and values
from the same seed, and they step in lockstep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from dataclasses import dataclass

import mesa
import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.experiments.compare import compare_cells
from dao_abm.experiments.grid import Axis, expand, parse_axis
from dao_abm.model.model import DaoAuctionModel
from dao_abm.scenario import Scenario, scenario_from_dict, scenario_to_dict
from dao_abm.scenario.load import apply_override
from dao_abm.scenario.schema import MechanismSpec
from dao_abm.viz.history import History
from dao_abm.viz.sessions import PageSessions


class LiveModel(DaoAuctionModel):
    """``DaoAuctionModel`` that also keeps the page's per-round ``History`` and, with
    ``sessions > 1``, steps the other sessions beside it (``fans``)."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        super().__init__(scenario, seed)
        self.history = History(self.labels)
        self.digest = population_digest(self.labels, self.values)
        #: Sessions 1..S-1 and the fan charts' data when ``sessions > 1`` (this is session 0).
        self.fans = PageSessions(self, seed) if scenario.sessions > 1 else None

    def step(self) -> None:
        """One round (of every session), then the page's records of it."""
        super().step()
        self.history.record(self.steps, self.bids, self.values, self.labels,
                            self.groups.sizes, self.access)
        if self.fans is not None:
            self.fans.step(self)


@dataclass(frozen=True, eq=False)
class Run:
    """One model on the page and its label (the compared value side by side)."""

    label: str
    model: LiveModel


def report(message: str) -> str:
    """Print ``dao-abm: error: message`` to the server's terminal; returns ``message``."""
    print(f"dao-abm: error: {message}", file=sys.stderr, flush=True)
    return message


def parse_overrides(text: str) -> list[str]:
    """The page's overrides box: ``key=value`` items separated by ``;`` or new lines."""
    return [item.strip() for item in str(text or "").replace("\n", ";").split(";")
            if item.strip()]


def with_overrides(base: Scenario, overrides: list[str]) -> Scenario:
    """``base`` with ``--set``-style overrides applied, validated again."""
    if not overrides:
        return base
    data = scenario_to_dict(base)
    for item in overrides:
        apply_override(data, item)
    return scenario_from_dict(data, source=f"{base.name} (page overrides)")


def page_scenario(base: Scenario, controls: dict, overrides: str) -> tuple[Scenario, str | None]:
    """The scenario the controls and overrides ask for, and None; or, when they do not
    validate, ``base`` and the error (reported to the terminal)."""
    from dao_abm.viz import parse_seed, viz_scenario

    try:
        scenario = viz_scenario(base, **(controls | {"seed": parse_seed(controls["seed"])}))
        return with_overrides(scenario, parse_overrides(overrides)), None
    except DaoAbmError as exc:
        return base, report(f"page overrides not applied: {exc}")


def side_by_side_cells(base: Scenario, axis: Axis) -> list[Scenario]:
    """The two scenarios compared: ``base`` with ``axis.key`` set to each value, same seed."""
    if len(axis.values) != 2:
        raise DaoAbmError(f"--compare {axis.key}: give exactly two values, e.g. "
                          f"--compare mechanism.preset=crowdfund,dao-vickrey")
    if axis.key == "mechanism.preset":
        plain = dataclasses.replace(base, mechanism=MechanismSpec(preset=base.mechanism.preset))
        cells = compare_cells(plain, [str(v) for v in axis.values], 1)
    else:
        cells = expand(base, [axis], 1, source=base.name)
    return [cell.scenario for cell in cells]


def parse_compare(text: str) -> Axis:
    """``--compare KEY=A,B`` as a grid axis of exactly two values."""
    axis = parse_axis(text)
    if len(axis.values) != 2:
        raise DaoAbmError(f"--compare {text!r}: give exactly two values (KEY=A,B)")
    return axis


def population_digest(labels: np.ndarray, values: np.ndarray) -> str:
    """8 hex digits over the DAO labels and values a model starts from: side by side, both
    runs show the same digest because they face the same population."""
    digest = hashlib.sha256(np.ascontiguousarray(labels).tobytes())
    digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:8]


class PairModel(mesa.Model):
    """Two ``LiveModel`` s on common random numbers, stepped in lockstep.

    Args:
        scenario: the base scenario; compare: the axis of two values; the rest are the
            page's controls (see ``VizModel``).
    """

    def __init__(self, scenario: Scenario, compare: Axis, preset: str, rule: str,
                 n_members: int, seed: int | str = 0, overrides: str = "") -> None:
        super().__init__()
        self.base = scenario
        self.controls = {"preset": preset, "rule": rule, "n_members": n_members, "seed": seed}
        base, self.error = page_scenario(scenario, self.controls, overrides)
        self.axis = compare
        self.overrides = "" if self.error else overrides
        self.scenario = base
        self.runs = [Run(f"{compare.key}={value}", LiveModel(cell)) for value, cell in
                     zip(compare.values, side_by_side_cells(base, compare), strict=True)]

    def step(self) -> None:
        """One round of each run."""
        for run in self.runs:
            run.model.step()
