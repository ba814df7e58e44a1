"""Checks that involve more than one key of a scenario."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from dao_abm.deviations import Grid
from dao_abm.errors import DaoAbmError
from dao_abm.learning import LEARNING_RULES
from dao_abm.mechanisms import TwoLevelMechanism, resolve
from dao_abm.mechanisms.upper import UPPER_MECHANISMS
from dao_abm.scenario.schema import Scenario

GRAPHLESS = ("sizes", "random-sizes", "singletons", "csv")


def mechanism_of(scenario: Scenario) -> TwoLevelMechanism:
    """The two-level mechanism a scenario names (DaoAbmError naming the bad key)."""
    spec = scenario.mechanism
    try:
        mechanism = resolve(
            spec.preset,
            aggregation=spec.aggregation or None,
            upper=spec.upper or None,
            cost_sharing=spec.cost_sharing or None,
        )
    except ValueError as exc:
        raise DaoAbmError(f"mechanism: {exc}") from None
    if spec.reserve and mechanism.upper == "vcg":
        raise DaoAbmError("mechanism.reserve: upper mechanism 'vcg' has no reserve price")
    return dataclasses.replace(mechanism, reserve=spec.reserve)


def check_consistency(s: Scenario) -> None:
    """Raise DaoAbmError for keys that are valid alone but not together."""
    mechanism_of(s)
    if s.population.valuation == "single" and s.population.n_items != 1:
        raise DaoAbmError("population.n_items: must be 1 for valuation 'single'")
    if s.values.distribution == "uniform" and s.values.high <= s.values.low:
        raise DaoAbmError("values.high: must be > values.low")
    if (s.mechanism.reserve and s.values.distribution == "uniform"
            and s.mechanism.reserve >= s.values.high):
        raise DaoAbmError(f"mechanism.reserve: must be below values.high = {s.values.high:g} "
                          f"(got {s.mechanism.reserve:g}: nothing would ever sell)")
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
    if s.metrics.agent_interval % s.metrics.every:
        raise DaoAbmError("metrics.agent_interval: must be a multiple of metrics.every "
                          "(agent data is taken on recorded rounds)")
    _check_sessions(s)
    _check_sizes(s)
    _check_individuals(s)
    _check_learning(s)
    check_memory(s)


#: Keys an ensemble (sessions > 1) does not support yet: key -> test that it is in use.
ENSEMBLE_UNSUPPORTED = {
    "daos.reform": lambda s: s.daos.reform,
}


def _check_sessions(s: Scenario) -> None:
    if s.sessions == 1:
        return
    for key, used in ENSEMBLE_UNSUPPORTED.items():
        if used(s):
            raise DaoAbmError(f"sessions: ensembles (sessions > 1) do not support {key} yet; "
                              "run sessions = 1")


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


def _check_learning(s: Scenario) -> None:
    spec = s.learning
    rule = LEARNING_RULES[spec.rule]
    if not isinstance(spec.params, rule.Params):
        raise DaoAbmError(f"learning.params: holds {type(spec.params).__qualname__}, not the "
                          f"parameters of rule {spec.rule!r}")
    if spec.feedback and spec.feedback not in rule.feedback:
        raise DaoAbmError(f"learning.feedback: {spec.feedback!r} is not one of "
                          f"{', '.join(rule.feedback)} (what {spec.rule} learns from)")
    if not spec.grid and spec.grid_high <= spec.grid_low:
        raise DaoAbmError("learning.grid_high: must be > learning.grid_low")
    for i, point in enumerate(spec.grid):
        if point < 0:
            raise DaoAbmError(f"learning.grid[{i}]: {point} must be >= 0")
    if spec.grid_scale == "absolute" and s.values.redraw:
        raise DaoAbmError("learning.grid_scale: 'absolute' bids need values.redraw = false "
                          "(with redrawn values members learn shading factors)")
    _check_functions(s)
    cap = scenario_grid(s).cap
    if spec.initial == "shaded" and cap is not None and spec.initial_alpha > cap:
        raise DaoAbmError(f"learning.initial_alpha: must be <= {cap}, the largest point of the "
                          "relative grid (no bid exceeds it times the value)")


def _check_functions(s: Scenario) -> None:
    """``learning.strategy = "function"``: a rule that learns functions, separable items,
    and a good knot grid (at least 2 finite numbers >= 0, strictly increasing)."""
    spec = s.learning
    if spec.knots:
        from dao_abm.equilibrium.bid_functions import check_grid  # scipy: only when needed
        check_grid(spec.knots, "learning.knots")
    if spec.strategy != "function" or not s.values.redraw:
        return
    rule = LEARNING_RULES[spec.rule]
    if not rule.functions:
        able = ", ".join(n for n in LEARNING_RULES.names() if LEARNING_RULES[n].functions)
        raise DaoAbmError(f"learning.strategy: 'function' is learned by {able}, not by "
                          f"{spec.rule!r}; use learning.strategy = 'shading'")
    mode = spec.feedback or rule.feedback[0]
    if mode == "bandit":
        raise DaoAbmError("learning.strategy: 'function' needs feedback 'full' or 'expected', "
                          "not 'bandit'")
    upper = mechanism_of(s).upper
    if s.population.n_items > 1 and (s.population.valuation != "additive"
                                     or UPPER_MECHANISMS[upper].bundled):
        raise DaoAbmError("learning.strategy: 'function' with several items needs additive "
                          "values sold item by item (one function per item), not valuation "
                          f"{s.population.valuation!r} with upper {upper!r}")


def scenario_grid(s: Scenario) -> Grid:
    """The candidate grid of grid-based rules (``learning.grid*`` keys)."""
    spec = s.learning
    points = spec.grid or np.linspace(spec.grid_low, spec.grid_high, spec.grid_points)
    return Grid(points, spec.grid_scale, spec.grid_value)


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


#: float64 arrays of shape (bidders, items) a run holds at once besides the learner's
#: candidates: values, bids, strategies, utilities, payments, access, group layout, ...
MEMBER_ARRAYS = 12
#: Bytes networkx spends per node and per undirected edge of a plain Graph (fitted to
#: tracemalloc of two stochastic block models, 2,000 and 8,000 nodes, on networkx 3.x).
GRAPH_NODE_BYTES, GRAPH_EDGE_BYTES = 220, 155


def memory_estimate(s: Scenario) -> dict[str, float]:
    """Bytes the run's largest arrays need at once (a lower bound), by part.

    Members read from ``population.members_csv`` are not counted (their number is known
    only once the file is read), nor are graphs read from files.
    """
    if s.population.members_csv:
        return {}
    n = s.population.n_members + len(s.population.individuals)
    m = s.population.n_items if s.population.valuation != "single" else 1
    per_item = MEMBER_ARRAYS + scenario_grid(s).size  # + candidate utilities
    if s.values.redraw:  # sampled value profiles, with their candidate utilities
        per_item += s.learning.samples * 2
    parts = {"member arrays": 8.0 * n * m * per_item}
    if s.graph.kind not in ("none", "file"):
        members = s.population.n_members
        parts["affinity graph"] = (GRAPH_NODE_BYTES * members
                                   + GRAPH_EDGE_BYTES * _expected_edges(s.graph, members))
    return parts


def _expected_edges(g, n: int) -> float:
    """Expected number of edges of the scenario's random graph on ``n`` nodes."""
    pairs = n * (n - 1) / 2
    if g.kind == "sbm":
        return pairs * (g.p_in / g.n_causes + g.p_out * (1 - 1 / g.n_causes))
    if g.kind == "geometric":  # volume of the d-ball of the radius, in the unit cube
        ball = math.pi ** (g.dim / 2) / math.gamma(g.dim / 2 + 1) * g.radius ** g.dim
        return pairs * min(1.0, ball)
    if g.kind == "watts-strogatz":
        return n * g.k / 2
    return n * g.m  # barabasi-albert


def machine_memory() -> float | None:
    """Physical memory of this machine in bytes (None where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(s: Scenario) -> None:
    """Refuse, before anything is allocated, a scenario whose arrays cannot fit in memory."""
    parts = memory_estimate(s)
    total, have = sum(parts.values()), machine_memory()
    if have is None or total <= have:
        return
    detail = ", ".join(f"{name} {_size(b)}" for name, b in parts.items())
    raise DaoAbmError(
        f"population.n_members: {s.population.n_members} members need at least "
        f"{_size(total)} of memory ({detail}) but this machine has {_size(have)}"
    )


def _size(b: float) -> str:
    """Bytes in SI units: ``_size(2.5e9) == "2.5 GB"``."""
    units = ("B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
    power = min(int(math.log10(max(b, 1.0)) // 3), len(units) - 1)
    return f"{b / 1000 ** power:.1f} {units[power]}"
