"""Load, override and validate scenarios; write them back.

Every problem raises ``DaoAbmError`` with the dotted path of the key and what is allowed,
e.g. ``default.toml: learning.rule: 'bestresponse' is not one of best-response, logit, ...``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any, get_type_hints

import tomli_w

from dao_abm.errors import DaoAbmError
from dao_abm.fields import check_value, describe
from dao_abm.scenario import schema
from dao_abm.scenario.bundled import bundled_names, scenario_file
from dao_abm.scenario.checks import check_consistency

PATH_KEYS = {"population.members_csv", "values.amounts_csv", "graph.path"}


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> schema.Scenario:
    """Read a TOML scenario, apply ``key=value`` overrides, validate, resolve relative paths.

    ``path`` is a file, or the name of a bundled scenario (``"default"``; see
    ``dao_abm.scenario.bundled``).
    """
    path = scenario_file(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        bare = len(path.parts) == 1 and not path.suffix
        raise DaoAbmError(f"{path}: no such scenario file" + (
            f" or bundled scenario ({', '.join(bundled_names())})" if bare else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DaoAbmError(f"{path}: cannot read scenario ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DaoAbmError(f"{path}: invalid TOML ({exc})") from None
    data.setdefault("name", path.stem)
    for item in overrides:
        apply_override(data, item)
    return scenario_from_dict(data, source=str(path), base=path.parent)


def apply_override(data: dict[str, Any], item: str) -> None:
    """``learning.rule=logit`` -> data["learning"]["rule"] = "logit" (value parsed as TOML)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise DaoAbmError(f"--set {item!r}: expected key=value, e.g. learning.rule=logit")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    set_dotted(data, key, value, where="--set")


def set_dotted(data: dict[str, Any], key: str, value: Any, *, where: str) -> None:
    """``data["a"]["b"] = value`` for ``key = "a.b"``, creating tables on the way."""
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise DaoAbmError(f"{where} {key}: {part} is not a table")
    node[leaf] = value


def scenario_from_dict(
    data: dict[str, Any], *, source: str = "scenario", base: Path | None = None
) -> schema.Scenario:
    """Validate a nested dict (as parsed from TOML) into a ``Scenario``."""
    try:
        scenario = _build(schema.Scenario, data, "")
        if base is not None:
            scenario = _resolve_paths(scenario, base)
        check_consistency(scenario)
    except DaoAbmError as exc:
        raise DaoAbmError(f"{source}: {exc}") from None
    return scenario


def _build(cls: type, data: Any, prefix: str, owner: str = "") -> Any:
    if not isinstance(data, dict):
        raise DaoAbmError(f"{prefix.rstrip('.') or 'scenario'}: expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = get_type_hints(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise DaoAbmError(
            f"{prefix}{unknown[0]}: unknown key{owner}; allowed: {', '.join(fields) or 'none'}"
        )
    values = {}
    for name, value in data.items():
        kind = hints[name]
        if "params_of" in fields[name].metadata:
            continue
        if dataclasses.is_dataclass(kind):
            values[name] = _build(kind, value, f"{prefix}{name}.")
        else:
            values[name] = _check(f"{prefix}{name}", value, kind, fields[name].metadata)
    for name, f in fields.items():
        if "params_of" in f.metadata:  # a rule's own parameters, read from its registry
            of = f.metadata["params_of"]
            rule = values.get(of, fields[of].default)
            params = f.metadata["registry"][rule].Params
            values[name] = _build(params, data.get(name, {}), f"{prefix}{name}.",
                                  f" for {of} {rule!r}")
    return cls(**values)


def _check(key: str, value: Any, kind: type, rules: Any) -> Any:
    value = _coerce(key, value, kind)
    if kind is list:
        item = rules.get("items", float)
        value = [_coerce(f"{key}[{i}]", v, item, allow_list=item is float) for i, v in
                 enumerate(value)]
        return value
    try:
        return check_value(key, value, rules)
    except ValueError as exc:
        raise DaoAbmError(str(exc)) from None


def _coerce(key: str, value: Any, kind: type, allow_list: bool = False) -> Any:
    if allow_list and isinstance(value, list):
        return [_coerce(f"{key}[{i}]", v, float) for i, v in enumerate(value)]
    if kind is bool:
        if not isinstance(value, bool):
            raise DaoAbmError(f"{key}: expected true or false, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DaoAbmError(f"{key}: expected an integer, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DaoAbmError(f"{key}: expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise DaoAbmError(f"{key}: expected a finite number, got {value!r}")
        if key.startswith("population.individuals") and value < 0:
            raise DaoAbmError(f"{key}: values must be >= 0, got {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise DaoAbmError(f"{key}: expected a string, got {value!r}")
    elif kind is list and not isinstance(value, list):
        raise DaoAbmError(f"{key}: expected a list, got {value!r}")
    return value


def _resolve_paths(scenario: schema.Scenario, base: Path) -> schema.Scenario:
    for dotted in PATH_KEYS:
        table, key = dotted.split(".")
        part = getattr(scenario, table)
        raw = getattr(part, key)
        if raw and not Path(raw).is_absolute():
            part = dataclasses.replace(part, **{key: str((base / raw).resolve())})
            scenario = dataclasses.replace(scenario, **{table: part})
    return scenario


def scenario_to_dict(scenario: schema.Scenario) -> dict[str, Any]:
    """Plain nested dict of every key (defaults included): the resolved scenario."""
    return dataclasses.asdict(scenario)


def write_scenario(scenario: schema.Scenario, path: Path) -> None:
    """Write the resolved scenario as TOML (atomically: temp file, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(tomli_w.dumps(scenario_to_dict(scenario)), encoding="utf-8")
    tmp.replace(path)


def describe_keys() -> list[tuple[str, str, str]]:
    """(dotted key, default, doc) for every key: the reference table in the README. A
    table of rule parameters lists every registered rule's parameters."""
    return _describe(schema.Scenario, "")


def _describe(cls: type, prefix: str) -> list[tuple[str, str, str]]:
    rows = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]) and "params_of" not in f.metadata:
            rows += _describe(hints[f.name], f"{key}.")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if "params_of" in f.metadata:
            rows.append((key, "{}", describe(f.metadata)))
            registry = f.metadata["registry"]
            for name in registry.names():
                rows += _describe(registry[name].Params, f"{key}.")
            continue
        rows.append((key, repr(default), describe(f.metadata)))
    return rows
