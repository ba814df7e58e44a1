"""Sweep grids: ``key=v1,v2`` expressions, their Cartesian product, and cells.

The one rule for combining parameters: a sweep runs the **full Cartesian product** of the
values of every ``--grid`` key (a grid, not a zip), in the order the keys are given, the last
key varying fastest. Every grid point runs once per seed ``scenario.seed + i`` for ``i`` in
``0 .. n_seeds - 1``, where ``scenario.seed`` is the seed of the scenario as loaded (after
``--set``). One grid point with one seed is a **cell**: one simulation run, the unit of work
and of storage, named by ``cell_id``.

Values are TOML literals, as with ``--set``: ``learning.rule=logit,hedge`` gives two strings,
``population.n_members=100,200`` two integers, ``daos.sizes=[2,2],[3,1]`` two lists. A value
that is not valid TOML is taken as a bare string. Commas inside brackets or quotes do not
split values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dao_abm import __version__
from dao_abm.errors import DaoAbmError
from dao_abm.scenario import Scenario, scenario_from_dict, scenario_to_dict
from dao_abm.scenario.load import set_dotted

#: Scenario fields that cannot change a run's numbers, left out of the cell id so that
#: renaming a scenario or switching figures off does not invalidate finished cells.
NOT_HASHED = ("name", "description", "output")
EXAMPLE = "e.g. --grid learning.rule=logit,hedge"


@dataclass(frozen=True)
class Axis:
    """One ``--grid`` key and its values (parsed TOML literals, in the order given)."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class Cell:
    """One grid point with one seed: one simulation run.

    Attributes:
        cell_id: ``cell_id(scenario)``, a stable hash of the resolved scenario (seed included).
        point: index of the grid point in the Cartesian product (0-based).
        params: the grid key -> value of this point.
        seed: the run's seed (``scenario.seed``).
        scenario: the validated scenario the run uses.
    """

    cell_id: str
    point: int
    params: Mapping[str, Any]
    seed: int
    scenario: Scenario


def parse_axis(expr: str) -> Axis:
    """``"learning.rule=logit,hedge"`` -> ``Axis("learning.rule", ("logit", "hedge"))``.

    Raises:
        DaoAbmError: no ``=``, an empty key, no values, an empty value, a repeated value, or
            the key ``seed`` (seeds come from ``--seeds``).
    """
    key, sep, raw = expr.partition("=")
    key = key.strip()
    if not sep or not key:
        raise DaoAbmError(f"--grid {expr!r}: expected key=v1,v2,... ({EXAMPLE})")
    if key == "seed":
        raise DaoAbmError("--grid seed: use --seeds N (run i uses seed scenario.seed + i)")
    if key.split(".")[0] in NOT_HASHED:
        raise DaoAbmError(f"--grid {key}: does not change a run's numbers; not a sweep key")
    if not raw.strip():
        raise DaoAbmError(f"--grid {expr!r}: no values after '=' ({EXAMPLE})")
    values: list[Any] = []
    for piece in split_values(raw):
        if not piece:
            raise DaoAbmError(f"--grid {expr!r}: empty value between commas")
        value = parse_value(piece)
        if any(_same(value, seen) for seen in values):
            raise DaoAbmError(f"--grid {expr!r}: value {piece} given twice")
        values.append(value)
    return Axis(key, tuple(values))


def parse_grid(exprs: Sequence[str]) -> list[Axis]:
    """Parse every ``--grid`` expression; a key may appear only once."""
    axes = [parse_axis(expr) for expr in exprs]
    keys = [axis.key for axis in axes]
    for key in keys:
        if keys.count(key) > 1:
            raise DaoAbmError(f"--grid {key}: given more than once; list all its values in one")
    return axes


def split_values(raw: str) -> list[str]:
    """Split at commas outside brackets, braces and quotes; strip each piece."""
    pieces, current, depth, quote = [], [], 0, ""
    for char in raw:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    pieces.append("".join(current).strip())
    return pieces


def parse_value(text: str) -> Any:
    """A TOML literal (``1``, ``0.5``, ``true``, ``"a"``, ``[1, 2]``), else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _same(a: Any, b: Any) -> bool:
    """Equal values of one kind (1 and 1.0 are the same number; 1 and true are not)."""
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return a == b and (numbers or type(a) is type(b))


def expand(base: Scenario, axes: Sequence[Axis], n_seeds: int, *, source: str = "scenario",
           base_dir: Path | None = None) -> list[Cell]:
    """Every cell of the grid, validated up front (grid point-major, then seed).

    Args:
        base: the scenario as loaded; its seed is seed 0 of every grid point.
        axes: the grid; no axes gives one grid point, the base scenario itself.
        n_seeds: seeds per grid point (>= 1).
        source: names the scenario in error messages (usually its path).
        base_dir: folder that relative paths among the grid values are relative to.

    Raises:
        DaoAbmError: ``n_seeds < 1``, or the first grid point whose scenario fails
            validation (the scenario's own dotted-path message).
    """
    if n_seeds < 1:
        raise DaoAbmError(f"--seeds {n_seeds}: must be >= 1")
    keys = [axis.key for axis in axes]
    cells = []
    for point, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        params = dict(zip(keys, combo, strict=True))
        scenario = with_params(base, params, source=source, base_dir=base_dir)
        for i in range(n_seeds):
            run = dataclasses.replace(scenario, seed=base.seed + i)
            cells.append(Cell(cell_id(run), point, params, run.seed, run))
    return cells


def with_params(base: Scenario, params: Mapping[str, Any], *, source: str = "scenario",
                base_dir: Path | None = None) -> Scenario:
    """``base`` with dotted keys set to ``params``' values, validated again."""
    data = scenario_to_dict(base)
    for key, value in params.items():
        set_dotted(data, key, value, where=f"{source}: --grid")
    return scenario_from_dict(data, source=source, base=base_dir)


def cell_id(scenario: Scenario) -> str:
    """16 hex digits of SHA-256 over the resolved scenario (seed included, ``NOT_HASHED``
    left out) and the dao-abm version: equal ids mean equal runs."""
    data = {k: v for k, v in scenario_to_dict(scenario).items() if k not in NOT_HASHED}
    data["dao_abm_version"] = __version__
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sweep_id(cells: Sequence[Cell]) -> str:
    """10 hex digits naming a whole sweep (its cell ids, in order)."""
    return hashlib.sha256(" ".join(c.cell_id for c in cells).encode()).hexdigest()[:10]
