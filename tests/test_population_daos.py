"""Tests for dao_abm.population.daos: DAO formation from graphs and from sizes."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dao_abm.errors import DaoAbmError
from dao_abm.population.daos import (
    DAO_METHODS,
    compact_labels,
    dao_sizes,
    daos_from_sizes,
    form_daos,
    iter_daos,
    size_histogram,
)

METHODS = sorted(DAO_METHODS)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_compact_and_ordered(labels: np.ndarray, n: int) -> None:
    assert labels.shape == (n,) and labels.dtype == np.int64
    k = labels.max() + 1
    assert set(labels.tolist()) == set(range(k))
    _, first = np.unique(labels, return_index=True)
    assert (np.diff(first) > 0).all()  # label j's smallest member precedes label j+1's


def partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(members.tolist()) for members in iter_daos(labels)}


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 60))
    p = draw(st.floats(0, 0.5))
    seed = draw(st.integers(0, 2**31 - 1))
    return nx.gnp_random_graph(n, p, seed=seed)


@settings(max_examples=60, deadline=None)
@given(
    graph=graphs(),
    method=st.sampled_from(METHODS),
    max_size=st.none() | st.integers(1, 12),
    singletons=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_form_daos_properties(graph, method, max_size, singletons, seed):
    n = graph.number_of_nodes()
    labels = form_daos(
        graph, method=method, max_size=max_size, rng=rng(seed), singletons=singletons
    )
    assert_compact_and_ordered(labels, n)
    if max_size is not None:
        assert dao_sizes(labels).max() <= max_size
    assert (dao_sizes(labels) == 1).sum() >= round(singletons * n)
    again = form_daos(graph, method=method, max_size=max_size, rng=rng(seed), singletons=singletons)
    np.testing.assert_array_equal(labels, again)
    if method == "components":  # no DAO spans two components
        component = compact_labels(form_daos(graph, method="components", max_size=None, rng=rng()))
        for members in iter_daos(labels):
            assert len(set(component[members].tolist())) == 1


def test_components_finds_three_known_components():
    graph = nx.Graph([(0, 4), (4, 5), (1, 2), (3, 6), (6, 7)])
    labels = form_daos(graph, method="components", max_size=None, rng=rng())
    np.testing.assert_array_equal(labels, [0, 1, 1, 2, 0, 0, 2, 2])


def test_louvain_and_label_propagation_find_cliques():
    graph = nx.disjoint_union(nx.complete_graph(6), nx.complete_graph(5))
    graph.add_edge(0, 6)  # one bridge
    for method in ("louvain", "label-propagation"):
        labels = form_daos(graph, method=method, max_size=10, rng=rng(1))
        assert partition(labels) == {frozenset(range(6)), frozenset(range(6, 11))}


def test_singletons_method_puts_everyone_alone():
    labels = form_daos(nx.complete_graph(7), method="singletons", max_size=3, rng=rng())
    np.testing.assert_array_equal(labels, np.arange(7))


def test_singleton_fraction_is_exact():
    labels = form_daos(
        nx.complete_graph(100), method="components", max_size=None, rng=rng(2), singletons=0.3
    )
    assert size_histogram(labels) == {1: 30, 70: 1}


def test_singletons_depend_on_rng():
    graph = nx.complete_graph(50)
    a = form_daos(graph, method="components", max_size=None, rng=rng(1), singletons=0.2)
    b = form_daos(graph, method="components", max_size=None, rng=rng(2), singletons=0.2)
    assert not np.array_equal(a, b)


def test_split_is_balanced_and_connected_on_a_path():
    labels = form_daos(nx.path_graph(10), method="components", max_size=3, rng=rng())
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1, 2, 2, 3, 3])


def test_split_pieces_connected_on_a_grid():
    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(20, 20))
    labels = form_daos(graph, method="components", max_size=40, rng=rng())
    assert sorted(dao_sizes(labels).tolist()) == [40] * 10
    connected = [nx.is_connected(graph.subgraph(m.tolist())) for m in iter_daos(labels)]
    assert connected[0] and sum(connected) >= 8  # best effort: BFS balls, fragments at the end


def test_split_handles_a_hub():
    graph = nx.star_graph(20)  # hub 0 and leaves 1..20
    labels = form_daos(graph, method="components", max_size=5, rng=rng())
    np.testing.assert_array_equal(dao_sizes(labels), [5, 4, 4, 4, 4])
    assert nx.is_connected(graph.subgraph(np.flatnonzero(labels == 0).tolist()))


def test_large_graph_split_is_fast_enough():
    graph = nx.fast_gnp_random_graph(20_000, 5 / 20_000, seed=3)
    labels = form_daos(graph, method="components", max_size=25, rng=rng())
    assert dao_sizes(labels).max() <= 25
    assert_compact_and_ordered(labels, 20_000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "kmeans"}, "unknown DAO method 'kmeans'; valid choices: louvain, label-"),
        ({"max_size": 0}, "max_size must be in"),
        ({"max_size": 2.5}, "max_size must be an integer"),
        ({"singletons": 1.5}, "singletons must be"),
        ({"singletons": float("nan")}, "singletons must be"),
    ],
)
def test_form_daos_rejects_bad_arguments(kwargs, message):
    arguments = {"method": "components", "max_size": 5, "rng": rng(), **kwargs}
    with pytest.raises(DaoAbmError, match=message):
        form_daos(nx.path_graph(4), **arguments)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (nx.Graph([("a", "b")]), "nodes must be 0..n-1"),
        (nx.Graph([(1, 2)]), "nodes must be 0..n-1"),
        (nx.Graph(), "no nodes"),
        (nx.DiGraph([(0, 1)]), "undirected"),
    ],
)
def test_form_daos_rejects_bad_graphs(graph, message):
    with pytest.raises(DaoAbmError, match=message):
        form_daos(graph, method="components", max_size=None, rng=rng())


def test_daos_from_sizes_contiguous():
    labels = daos_from_sizes([2, 1, 3])
    np.testing.assert_array_equal(labels, [0, 0, 1, 2, 2, 2])
    assert labels.dtype == np.int64


def test_daos_from_sizes_shuffled_keeps_sizes():
    sizes = np.array([5, 1, 3, 3])
    labels = daos_from_sizes(sizes, rng=rng(4), shuffle=True)
    np.testing.assert_array_equal(dao_sizes(labels), sizes)
    assert not np.array_equal(labels, daos_from_sizes(sizes))
    np.testing.assert_array_equal(labels, daos_from_sizes(sizes, rng=rng(4), shuffle=True))


def test_daos_from_sizes_million_members():
    sizes = np.full(100_000, 10)
    labels = daos_from_sizes(sizes, rng=rng(), shuffle=True)
    assert labels.shape == (1_000_000,)
    assert size_histogram(labels) == {10: 100_000}


@pytest.mark.parametrize(
    ("sizes", "kwargs", "message"),
    [
        ([2, 0], {}, "sizes must be >= 1, got 0"),
        ([], {}, "non-empty 1-D array of integers"),
        ([1.5, 2], {}, "non-empty 1-D array of integers"),
        ([[1, 2]], {}, "non-empty 1-D array of integers"),
        ([1, 2], {"shuffle": True}, "needs rng"),
    ],
)
def test_daos_from_sizes_rejects_bad_input(sizes, kwargs, message):
    with pytest.raises(DaoAbmError, match=message):
        daos_from_sizes(sizes, **kwargs)


def test_sizes_histogram_and_iteration():
    labels = np.array([0, 1, 1, 2, 0, 2, 2, 3])
    np.testing.assert_array_equal(dao_sizes(labels), [2, 2, 3, 1])
    assert size_histogram(labels) == {1: 1, 2: 2, 3: 1}
    assert [m.tolist() for m in iter_daos(labels)] == [[0, 4], [1, 2], [3, 5, 6], [7]]
    with pytest.raises(DaoAbmError, match=">= 0"):
        dao_sizes(np.array([0, -1]))
    with pytest.raises(DaoAbmError, match="integer"):
        dao_sizes(np.array([0.0, 1.0]))


def test_compact_labels_orders_by_first_member():
    np.testing.assert_array_equal(compact_labels(np.array([7, 3, 7, 9, 3])), [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(compact_labels(np.array(["b", "a", "b"])), [0, 1, 0])
