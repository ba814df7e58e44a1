"""Build a scenario's population: values, the affinity graph and the DAOs (Mesa-free)."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.population import (
    MemberTable,
    ValueModel,
    daos_from_sizes,
    draw_values,
    form_daos,
    load_amounts_csv,
    load_members,
    make_graph,
    read_graph,
)
from dao_abm.scenario.schema import Scenario

GRAPH_PARAMS = {
    "sbm": ("n_causes", "p_in", "p_out"),
    "geometric": ("radius", "dim"),
    "watts-strogatz": ("k", "p"),
    "barabasi-albert": ("m",),
}


@dataclass(frozen=True, eq=False)
class Population:
    """Everything about the bidders that the model owns as arrays.

    Attributes:
        labels: ``(n,)`` DAO of each bidder (members, then individual bidders).
        values: ``(n,)`` or ``(n, m)`` fixed values, or None when values are redrawn.
        value_model: the distribution values are redrawn from (members only).
        individual_values: ``(n_ind,)`` or ``(n_ind, m)`` values of individual bidders,
            which never change.
        graph: the affinity graph over the members, or None.
        item_axis: True when bids carry an item axis (valuation other than "single").
    """

    labels: np.ndarray
    values: np.ndarray | None
    value_model: ValueModel
    individual_values: np.ndarray
    graph: nx.Graph | None
    item_axis: bool
    n_items: int

    @property
    def n_bidders(self) -> int:
        return int(self.labels.size)

    @property
    def n_members(self) -> int:
        return self.n_bidders - int(self.individual_values.shape[0])

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...] = ()) -> np.ndarray:
        """Fresh values ``(*size, n[, m])`` for every bidder (members drawn, individuals fixed)."""
        members = draw_values(self.value_model, self.n_members,
                              self.n_items if self.item_axis else None, rng=rng, size=size)
        fixed = np.broadcast_to(self.individual_values,
                                (*members.shape[:-2 if self.item_axis else -1],
                                 *self.individual_values.shape))
        return np.concatenate([members, fixed], axis=-2 if self.item_axis else -1)


def build_population(scenario: Scenario, rng: np.random.Generator) -> Population:
    """Draw values, build the graph and form DAOs, in that order, from ``rng``."""
    pop = scenario.population
    item_axis = pop.valuation != "single"
    table = load_members(pop.members_csv) if pop.members_csv else None
    graph = _graph(scenario, table, rng)
    n = graph.number_of_nodes() if graph is not None else (
        table.n_members if table is not None else pop.n_members)
    if table is not None and table.n_members != n:
        raise DaoAbmError(f"graph.path: the graph has {n} nodes but "
                          f"{pop.members_csv} has {table.n_members} members")
    value_model = _value_model(scenario, table, n, rng)
    values = None
    if not scenario.values.redraw:
        values = _table_values(table, pop.n_items, item_axis) if table is not None else \
            draw_values(value_model, n, pop.n_items if item_axis else None, rng=rng)
    labels = _labels(scenario, graph, table, n, rng)
    individuals = _individuals(scenario, item_axis)
    labels = np.concatenate([labels, labels.max() + 1 + np.arange(individuals.shape[0])])
    if values is not None:
        values = np.concatenate([values, individuals], axis=0)
    return Population(labels, values, value_model, individuals, graph, item_axis, pop.n_items)


def _graph(scenario: Scenario, table: MemberTable | None, rng) -> nx.Graph | None:
    spec = scenario.graph
    if spec.kind == "none":
        return None
    if spec.kind == "file":
        return read_graph(spec.path)
    n = table.n_members if table is not None else scenario.population.n_members
    params = {key: getattr(spec, key) for key in GRAPH_PARAMS[spec.kind]}
    graph = make_graph(spec.kind, n, rng=rng, **params)
    return graph[0] if isinstance(graph, tuple) else graph


def _value_model(scenario: Scenario, table: MemberTable | None, n: int, rng) -> ValueModel:
    spec = scenario.values
    scale = None
    if spec.heterogeneity > 0:
        scale = rng.lognormal(0.0, spec.heterogeneity, size=n)
    if table is not None and spec.redraw:
        base = table.values if table.values.ndim == 1 else table.values.mean(axis=1)
        scale = base if scale is None else base * scale
    common = {"member_scale": scale}
    if spec.distribution == "uniform":
        return ValueModel("uniform", low=spec.low, high=spec.high, **common)
    if spec.distribution == "lognormal":
        return ValueModel("lognormal", mean=spec.mean, sigma=spec.sigma, **common)
    if spec.distribution == "pareto":
        return ValueModel("pareto", alpha=spec.alpha, scale=spec.scale, **common)
    return ValueModel("empirical", amounts=load_amounts_csv(spec.amounts_csv), **common)


def _table_values(table: MemberTable, n_items: int, item_axis: bool) -> np.ndarray:
    values = table.values
    m = 1 if values.ndim == 1 else values.shape[1]
    if m != n_items:
        raise DaoAbmError(f"population.n_items: is {n_items} but the members CSV has {m} "
                          "value column(s)")
    if item_axis and values.ndim == 1:
        return values[:, None]
    return values if item_axis else values.reshape(-1)


def _labels(scenario: Scenario, graph, table, n: int, rng) -> np.ndarray:
    spec = scenario.daos
    if spec.method == "sizes":
        return daos_from_sizes(spec.sizes)
    if spec.method == "random-sizes":
        return daos_from_sizes(_random_sizes(n, spec.min_size, spec.max_size, rng))
    if spec.method == "csv":
        if table is None or table.dao is None:
            raise DaoAbmError("daos.method: 'csv' needs a dao column in population.members_csv")
        return table.dao
    if spec.method == "singletons" or graph is None:
        return np.arange(n)
    return form_daos(graph, method=spec.method, max_size=spec.max_size or None, rng=rng,
                     singletons=spec.singletons)


def _random_sizes(n: int, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """DAO sizes uniform on [low, high] until they cover n members (the last one cut)."""
    sizes = rng.integers(low, high + 1, size=n // low + 1)
    cover = np.searchsorted(np.cumsum(sizes), n)
    sizes = sizes[: cover + 1].copy()
    sizes[-1] -= sizes.sum() - n
    return sizes


def _individuals(scenario: Scenario, item_axis: bool) -> np.ndarray:
    raw = scenario.population.individuals
    m = scenario.population.n_items
    if not raw:
        return np.zeros((0, m) if item_axis else (0,))
    values = np.array([v if isinstance(v, list) else [v] * m for v in raw], dtype=np.float64)
    return values if item_axis else values[:, 0]
