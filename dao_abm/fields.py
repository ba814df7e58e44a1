"""Documented, bounded dataclass fields: one home for "a setting, its default, its bounds and
what it means", shared by the scenario schema and the learning rules' parameters.

``spec(default, doc, **rules)`` makes the field; ``check_value(key, value, rules)`` enforces
its bounds and choices with a one-line message naming the dotted ``key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any


def spec(default: object, doc: str, **rules: object) -> Any:
    """A dataclass field with its documentation and validation rules: ``choices`` (a tuple,
    or a callable returning the allowed names, read when checked), ``min``, ``max``, ``gt``
    (strict lower bound), ``lt`` (strict upper bound), ``items`` (list element type)."""
    factory = (lambda d=default: list(d)) if isinstance(default, list) else None
    meta = {"doc": doc, **rules}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def choices_of(rules: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The allowed values of a field, or None when any value of its type is allowed."""
    choices = rules.get("choices")
    if choices is None:
        return None
    return tuple(choices() if isinstance(choices, Callable) else choices)


def check_value(key: str, value: Any, rules: Mapping[str, Any]) -> Any:
    """Raise ``ValueError`` ("key: value must be ...") unless ``value`` obeys ``rules``."""
    choices = choices_of(rules)
    if choices is not None and value not in choices:
        raise ValueError(f"{key}: {value!r} is not one of {', '.join(choices)}")
    if "min" in rules and value < rules["min"]:
        raise ValueError(f"{key}: {value!r} must be >= {rules['min']}")
    if "max" in rules and value > rules["max"]:
        raise ValueError(f"{key}: {value!r} must be <= {rules['max']}")
    if "gt" in rules and value <= rules["gt"]:
        raise ValueError(f"{key}: {value!r} must be > {rules['gt']}")
    if "lt" in rules and value >= rules["lt"]:
        raise ValueError(f"{key}: {value!r} must be < {rules['lt']}")
    return value


def describe(rules: Mapping[str, Any]) -> str:
    """A field's documentation with its choices or bounds, for reference tables."""
    doc = rules.get("doc", "")
    choices = choices_of(rules)
    if choices is not None:
        doc += f"; one of {', '.join(choices)}"
    return doc
