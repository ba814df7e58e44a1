"""Checks that involve more than one key of a scenario."""

from __future__ import annotations

from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import TwoLevelMechanism, resolve
from dao_abm.scenario.schema import Scenario

GRAPHLESS = ("sizes", "random-sizes", "singletons", "csv")


def mechanism_of(scenario: Scenario) -> TwoLevelMechanism:
    """The two-level mechanism a scenario names (DaoAbmError naming the bad key)."""
    spec = scenario.mechanism
    try:
        return resolve(
            spec.preset,
            aggregation=spec.aggregation or None,
            upper=spec.upper or None,
            cost_sharing=spec.cost_sharing or None,
        )
    except ValueError as exc:
        raise DaoAbmError(f"mechanism: {exc}") from None


def check_consistency(s: Scenario) -> None:
    """Raise DaoAbmError for keys that are valid alone but not together."""
    mechanism_of(s)
    if s.population.valuation == "single" and s.population.n_items != 1:
        raise DaoAbmError("population.n_items: must be 1 for valuation 'single'")
    if s.values.distribution == "uniform" and s.values.high <= s.values.low:
        raise DaoAbmError("values.high: must be > values.low")
    if s.values.distribution == "empirical" and not s.values.amounts_csv:
        raise DaoAbmError("values.amounts_csv: required for distribution 'empirical'")
    if s.graph.kind == "file" and not s.graph.path:
        raise DaoAbmError("graph.path: required for graph kind 'file'")
    if s.daos.method == "csv" and not s.population.members_csv:
        raise DaoAbmError("daos.method: 'csv' needs population.members_csv with a dao column")
    if s.daos.method == "random-sizes" and not s.daos.min_size <= s.daos.max_size:
        raise DaoAbmError("daos.max_size: method 'random-sizes' needs min_size <= max_size")
    if s.graph.kind == "none" and s.daos.method not in GRAPHLESS:
        raise DaoAbmError(
            f"daos.method: {s.daos.method!r} needs an affinity graph; with graph.kind = 'none' "
            f"use one of {', '.join(GRAPHLESS)}"
        )
    if s.daos.reform and s.graph.kind == "none":
        raise DaoAbmError("daos.reform: re-formation moves members along the graph; "
                          "graph.kind must not be 'none'")
    _check_sizes(s)
    _check_individuals(s)


def _check_sizes(s: Scenario) -> None:
    if s.daos.method != "sizes":
        return
    sizes = s.daos.sizes
    if not sizes:
        raise DaoAbmError("daos.sizes: required (non-empty) for method 'sizes'")
    for i, size in enumerate(sizes):
        if size < 1:
            raise DaoAbmError(f"daos.sizes[{i}]: {size} must be >= 1")
    if not s.population.members_csv and sum(sizes) != s.population.n_members:
        raise DaoAbmError(
            f"daos.sizes: sizes sum to {sum(sizes)} but population.n_members is "
            f"{s.population.n_members}"
        )


def _check_individuals(s: Scenario) -> None:
    m = s.population.n_items
    for i, value in enumerate(s.population.individuals):
        key = f"population.individuals[{i}]"
        if isinstance(value, list):
            if len(value) != m:
                raise DaoAbmError(f"{key}: has {len(value)} item values, expected {m}")
            if any(v < 0 for v in value):
                raise DaoAbmError(f"{key}: values must be >= 0")
        elif m != 1:
            raise DaoAbmError(f"{key}: expected a list of {m} item values")
