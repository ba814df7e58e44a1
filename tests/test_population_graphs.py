"""Tests for dao_abm.population.graphs: generators, registry and the graph reader."""

import math
import random

import networkx as nx
import numpy as np
import pytest

from dao_abm.errors import DaoAbmError
from dao_abm.population.graphs import (
    GRAPH_GENERATORS,
    barabasi_albert_graph,
    geometric_graph,
    graph_params,
    make_graph,
    read_graph,
    sbm_graph,
    watts_strogatz_graph,
)

PARAMS = {
    "sbm": {"n_causes": 3, "p_in": 0.3, "p_out": 0.02},
    "geometric": {"radius": 0.2},
    "watts-strogatz": {"k": 4, "p": 0.2},
    "barabasi-albert": {"m": 2},
}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def edge_set(graph: nx.Graph) -> set[tuple[int, int]]:
    return {(min(u, v), max(u, v)) for u, v in graph.edges}


def test_registry_matches_params_table():
    assert set(GRAPH_GENERATORS) == set(PARAMS)
    assert graph_params("sbm") == ("n_causes", "p_in", "p_out")
    assert graph_params("geometric") == ("radius", "dim")


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_make_graph_nodes_reproducible_and_seed_dependent(kind):
    a = make_graph(kind, 60, rng=rng(1), **PARAMS[kind])
    b = make_graph(kind, 60, rng=rng(1), **PARAMS[kind])
    c = make_graph(kind, 60, rng=rng(2), **PARAMS[kind])
    assert list(a.nodes) == list(range(60))
    assert edge_set(a) == edge_set(b)
    assert edge_set(a) != edge_set(c)
    assert nx.number_of_selfloops(a) == 0


def test_generators_leave_global_random_state_alone():
    random.seed(5)
    np.random.seed(5)  # noqa: NPY002 (checking the legacy global state)
    py_state, np_state = random.getstate(), np.random.get_state()[1].copy()  # noqa: NPY002
    for kind, params in PARAMS.items():
        make_graph(kind, 50, rng=rng(), **params)
    assert random.getstate() == py_state
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_sbm_causes_balanced_and_stored_on_nodes():
    graph, causes = sbm_graph(10, n_causes=3, p_in=0.5, p_out=0.1, rng=rng())
    np.testing.assert_array_equal(causes, [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert causes.dtype == np.int64
    assert [graph.nodes[i]["cause"] for i in range(10)] == causes.tolist()


def test_sbm_without_cross_edges_keeps_causes_apart():
    graph, causes = sbm_graph(300, n_causes=4, p_in=0.2, p_out=0.0, rng=rng(3))
    assert graph.number_of_edges() > 0
    assert all(causes[u] == causes[v] for u, v in graph.edges)


def test_sbm_p_in_one_gives_cliques():
    graph, _ = sbm_graph(11, n_causes=3, p_in=1.0, p_out=0.0, rng=rng())
    assert graph.number_of_edges() == 6 + 6 + 3  # blocks of 4, 4, 3
    assert nx.number_connected_components(graph) == 3


def test_sbm_edge_counts_match_probabilities():
    graph, causes = sbm_graph(400, n_causes=4, p_in=0.2, p_out=0.02, rng=rng(4))
    inside = sum(causes[u] == causes[v] for u, v in graph.edges)
    across = graph.number_of_edges() - inside
    # expected 4 * C(100, 2) * 0.2 = 3960 (sd 56) and 60000 * 0.02 = 1200 (sd 34)
    assert abs(inside - 3960) < 5 * 56
    assert abs(across - 1200) < 5 * 34


def test_geometric_links_exactly_the_close_pairs():
    graph = geometric_graph(150, radius=0.15, dim=2, rng=rng(5))
    pos = np.array([graph.nodes[i]["pos"] for i in range(150)])
    assert pos.shape == (150, 2) and (pos >= 0).all() and (pos <= 1).all()
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    close = {(i, j) for i in range(150) for j in range(i + 1, 150) if dist[i, j] <= 0.15}
    assert edge_set(graph) == close


def test_geometric_dim_three():
    graph = geometric_graph(20, radius=0.5, dim=3, rng=rng())
    assert len(graph.nodes[0]["pos"]) == 3


def test_watts_strogatz_and_barabasi_albert_edge_counts():
    assert watts_strogatz_graph(100, k=6, p=0.3, rng=rng()).number_of_edges() == 300
    assert barabasi_albert_graph(100, m=3, rng=rng()).number_of_edges() == 97 * 3


def test_unknown_kind_lists_choices():
    with pytest.raises(DaoAbmError, match="unknown graph kind 'grid'") as info:
        make_graph("grid", 10, rng=rng())
    for kind in PARAMS:
        assert kind in str(info.value)


def test_unknown_and_missing_params_rejected():
    with pytest.raises(DaoAbmError, match=r"unknown parameter\(s\) q for graph 'sbm'.*p_out"):
        make_graph("sbm", 10, rng=rng(), q=1, **PARAMS["sbm"])
    with pytest.raises(DaoAbmError, match=r"missing parameter\(s\) p_out"):
        make_graph("sbm", 10, rng=rng(), n_causes=2, p_in=0.5)


@pytest.mark.parametrize(
    ("kind", "n", "params", "message"),
    [
        ("sbm", 10, {"n_causes": 0, "p_in": 0.5, "p_out": 0.1}, "n_causes"),
        ("sbm", 10, {"n_causes": 11, "p_in": 0.5, "p_out": 0.1}, "n_causes"),
        ("sbm", 10, {"n_causes": 2, "p_in": 1.5, "p_out": 0.1}, "p_in"),
        ("sbm", 10, {"n_causes": 2, "p_in": 0.5, "p_out": math.nan}, "p_out"),
        ("sbm", 0, {"n_causes": 1, "p_in": 0.5, "p_out": 0.1}, "n must"),
        ("geometric", 10, {"radius": -0.1}, "radius"),
        ("geometric", 10, {"radius": 0.1, "dim": 0}, "dim"),
        ("watts-strogatz", 10, {"k": 10, "p": 0.1}, "k must"),
        ("watts-strogatz", 10, {"k": 2, "p": -0.1}, "p must"),
        ("barabasi-albert", 10, {"m": 10}, "m must"),
        ("barabasi-albert", 10, {"m": 2.0}, "m must be an integer"),
    ],
)
def test_bad_generator_values(kind, n, params, message):
    with pytest.raises(DaoAbmError, match=message):
        make_graph(kind, n, rng=rng(), **params)


def test_sbm_twenty_thousand_members_is_sparse_and_fast():
    graph, _ = sbm_graph(20_000, n_causes=20, p_in=0.005, p_out=0.0001, rng=rng(7))
    # expected 20 * C(1000, 2) * 0.005 + (C(20000, 2) - 20 * C(1000, 2)) * 1e-4 = 49950 + 19000
    assert abs(graph.number_of_edges() - 68_950) < 1_500


# ---------------------------------------------------------------- read_graph


def test_read_edgelist_round_trip_with_string_labels(tmp_path):
    original = nx.Graph([("bob", "ann"), ("ann", "cy"), ("dee", "eve")])
    path = tmp_path / "g.edgelist"
    nx.write_edgelist(original, path)  # writes "bob ann {}" lines
    graph = read_graph(path)
    assert list(graph.nodes) == [0, 1, 2, 3, 4]
    labels = [graph.nodes[i]["label"] for i in range(5)]
    assert labels == ["ann", "bob", "cy", "dee", "eve"]
    named = {frozenset((labels[u], labels[v])) for u, v in graph.edges}
    assert named == {frozenset(e) for e in original.edges}


def test_read_txt_sorts_integer_labels_numerically(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("# comment\n10 2\n2 9  # trailing\n\n7\n")
    graph = read_graph(path)
    assert [graph.nodes[i]["label"] for i in range(4)] == [2, 7, 9, 10]
    assert edge_set(graph) == {(0, 3), (0, 2)}
    assert graph.degree[1] == 0  # "7" alone on a line is an isolated node


def test_read_graphml_round_trip_keeps_isolates_and_attributes(tmp_path):
    original = nx.Graph()
    original.add_node("x", cause=1)
    original.add_edge("z", "y", weight=2.5)
    path = tmp_path / "g.graphml"
    nx.write_graphml(original, path)
    graph = read_graph(path)
    assert [graph.nodes[i]["label"] for i in range(3)] == ["x", "y", "z"]
    assert graph.nodes[0]["cause"] == 1
    assert edge_set(graph) == {(1, 2)}
    assert graph.edges[1, 2]["weight"] == 2.5


def test_read_graphml_directed_becomes_undirected(tmp_path):
    path = tmp_path / "d.graphml"
    nx.write_graphml(nx.DiGraph([(0, 1), (1, 0), (1, 2)]), path)
    graph = read_graph(path)
    assert not graph.is_directed()
    assert edge_set(graph) == {(0, 1), (1, 2)}


def test_read_csv_edges_with_header(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("source,target,weight\n3,1,0.5\n1,2,1\n")
    graph = read_graph(path)
    assert [graph.nodes[i]["label"] for i in range(3)] == [1, 2, 3]
    assert edge_set(graph) == {(0, 2), (0, 1)}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("g.txt", "", r"g\.txt: empty graph"),
        ("g.edgelist", "# only a comment\n", r"g\.edgelist: empty graph"),
        ("g.graphml", "<graphml><graph", r"g\.graphml: cannot parse GraphML"),
        ("g.csv", "1,2\n2,3\n", r"g\.csv line 1: looks like an edge, not a header"),
        ("g.csv", "source,target\n1,\n", r"g\.csv line 2: missing endpoint in 'target'"),
        ("g.csv", "", r"g\.csv: empty file"),
        ("g.csv", "u\n1\n", r"g\.csv line 1: need two columns"),
        ("g.gml", "graph [ ]", r"g\.gml: unknown graph format '\.gml'; valid: \.edgelist"),
    ],
)
def test_read_graph_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DaoAbmError, match=message):
        read_graph(path)


def test_read_graph_missing_file(tmp_path):
    with pytest.raises(DaoAbmError, match=r"none\.txt: file not found"):
        read_graph(tmp_path / "none.txt")
