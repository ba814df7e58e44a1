"""Affinity graphs among members: random generators and a reader for user files.

Every graph has nodes 0..n-1 (member indices). Generators take ``rng`` as a keyword; the
ones delegated to networkx receive ``seed=int(rng.integers(2**31))``. Bad input raises
:class:`~dao_abm.errors.DaoAbmError` (a ``ValueError``) with a one-line message.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from pathlib import Path
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.population.members_csv import read_table


def check_int(name: str, value: object, low: int, high: float = math.inf) -> int:
    """Return ``value`` as int if it is an integer in [low, high], else raise DaoAbmError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DaoAbmError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise DaoAbmError(f"{name} must be in [{low}, {high}], got {value}")
    return int(value)


def check_real(name: str, value: object, low: float, high: float = math.inf) -> float:
    """Return ``value`` as float if it is a finite number in [low, high], else raise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DaoAbmError(f"{name} must be a number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise DaoAbmError(f"{name} must be a finite number in [{low}, {high}], got {value}")
    return float(value)


def _nx_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


def _bernoulli_cells(n_cells: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Indices in [0, n_cells) each kept independently with probability p, increasing.

    Uses geometric skips, so the cost is O(n_cells * p) rather than O(n_cells).
    """
    if p <= 0.0 or n_cells <= 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n_cells, dtype=np.int64)
    batch = int(n_cells * p * 1.05) + 64
    chunks, last = [], -1
    while last < n_cells:
        positions = last + np.cumsum(rng.geometric(p, size=batch))
        chunks.append(positions)
        last = int(positions[-1])
    cells = np.concatenate(chunks)
    return cells[cells < n_cells]


def sbm_graph(
    n: int, *, n_causes: int, p_in: float, p_out: float, rng: np.random.Generator
) -> tuple[nx.Graph, np.ndarray]:
    """Stochastic block model: members who share a cause link with probability ``p_in``.

    Members are split as evenly as possible into contiguous blocks (member i has cause
    ``causes[i]``, non-decreasing); each pair is linked independently with probability
    ``p_in`` (same cause) or ``p_out``. Vectorized geometric skipping: O(n + edges) time,
    unlike ``nx.stochastic_block_model`` whose diagonal blocks cost O(block size^2).

    Args:
        n: number of members >= 1.
        n_causes: number of causes in [1, n].
        p_in: edge probability within a cause, in [0, 1].
        p_out: edge probability across causes, in [0, 1].
        rng: random generator.

    Returns:
        The graph (node attribute ``"cause"``) and ``causes``, int64 of shape (n,).
    """
    n = check_int("n", n, 1)
    n_causes = check_int("n_causes", n_causes, 1, n)
    p_in, p_out = check_real("p_in", p_in, 0, 1), check_real("p_out", p_out, 0, 1)
    sizes = np.full(n_causes, n // n_causes) + (np.arange(n_causes) < n % n_causes)
    causes = np.repeat(np.arange(n_causes, dtype=np.int64), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rows, cols = [], []
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        r, c = np.divmod(_bernoulli_cells(size * size, p_in, rng), size)
        keep = r < c
        rows.append(start + r[keep])
        cols.append(start + c[keep])
    r, c = np.divmod(_bernoulli_cells(n * n, p_out, rng), n)
    keep = (r < c) & (causes[r] != causes[c])
    rows.append(r[keep])
    cols.append(c[keep])
    graph = nx.Graph(name="sbm")
    graph.add_nodes_from((i, {"cause": cause}) for i, cause in enumerate(causes.tolist()))
    edges = np.stack([np.concatenate(rows), np.concatenate(cols)], axis=1)
    graph.add_edges_from(edges.tolist())
    return graph, causes


def _sbm_only(
    n: int, *, n_causes: int, p_in: float, p_out: float, rng: np.random.Generator
) -> nx.Graph:
    """:func:`sbm_graph` without the causes array (they stay in node attribute "cause")."""
    return sbm_graph(n, n_causes=n_causes, p_in=p_in, p_out=p_out, rng=rng)[0]


def geometric_graph(n: int, *, radius: float, dim: int = 2, rng: np.random.Generator) -> nx.Graph:
    """Random geometric graph: members at uniform points of [0, 1]^dim (their interests).

    Members closer than ``radius`` (Euclidean) are linked. Node attribute ``"pos"`` holds
    the point as a list of ``dim`` floats, drawn from ``rng``.
    """
    n = check_int("n", n, 1)
    radius = check_real("radius", radius, 0)
    dim = check_int("dim", dim, 1)
    points = rng.random((n, dim))
    pos = dict(enumerate(points.tolist()))
    return nx.random_geometric_graph(n, radius, dim=dim, pos=pos, seed=_nx_seed(rng))


def watts_strogatz_graph(n: int, *, k: int, p: float, rng: np.random.Generator) -> nx.Graph:
    """Small world: ring lattice linking each member to its ``k`` nearest, rewired w.p. ``p``."""
    n = check_int("n", n, 1)
    k = check_int("k", k, 0, n - 1)
    p = check_real("p", p, 0, 1)
    return nx.watts_strogatz_graph(n, k, p, seed=_nx_seed(rng))


def barabasi_albert_graph(n: int, *, m: int, rng: np.random.Generator) -> nx.Graph:
    """Preferential attachment: each new member links to ``m`` existing ones (1 <= m < n)."""
    n = check_int("n", n, 2)
    m = check_int("m", m, 1, n - 1)
    return nx.barabasi_albert_graph(n, m, seed=_nx_seed(rng))


GraphGenerator = Callable[..., nx.Graph]
GRAPH_GENERATORS: dict[str, GraphGenerator] = {
    "sbm": _sbm_only,
    "geometric": geometric_graph,
    "watts-strogatz": watts_strogatz_graph,
    "barabasi-albert": barabasi_albert_graph,
}


def graph_params(kind: str) -> tuple[str, ...]:
    """Names of the keyword parameters of generator ``kind`` (besides ``n`` and ``rng``)."""
    signature = inspect.signature(_generator(kind))
    return tuple(name for name in signature.parameters if name not in ("n", "rng"))


def _generator(kind: str) -> GraphGenerator:
    if kind not in GRAPH_GENERATORS:
        raise DaoAbmError(
            f"unknown graph kind {kind!r}; valid choices: {', '.join(GRAPH_GENERATORS)}"
        )
    return GRAPH_GENERATORS[kind]


def make_graph(kind: str, n: int, *, rng: np.random.Generator, **params: object) -> nx.Graph:
    """Build a graph by registry name, e.g. ``make_graph("sbm", 100, n_causes=4, ...)``.

    Args:
        kind: a key of :data:`GRAPH_GENERATORS`.
        n: number of members.
        rng: random generator.
        **params: the generator's keyword parameters (see :func:`graph_params`).

    Returns:
        Graph on nodes 0..n-1 (for "sbm" the causes are the node attribute ``"cause"``).

    Raises:
        DaoAbmError: unknown kind, unknown or missing parameter, or a bad value.
    """
    generator = _generator(kind)
    signature = inspect.signature(generator)
    allowed = graph_params(kind)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise DaoAbmError(
            f"unknown parameter(s) {', '.join(unknown)} for graph {kind!r}; "
            f"valid: {', '.join(allowed)}"
        )
    required = [a for a in allowed if signature.parameters[a].default is inspect.Parameter.empty]
    missing = [a for a in required if a not in params]
    if missing:
        raise DaoAbmError(f"missing parameter(s) {', '.join(missing)} for graph {kind!r}")
    return generator(n, rng=rng, **params)


GRAPH_SUFFIXES = (".edgelist", ".txt", ".csv", ".graphml")


def read_graph(path: str | os.PathLike[str]) -> nx.Graph:
    """Read an undirected affinity graph and relabel its nodes 0..n-1.

    Formats, by suffix: ``.edgelist``/``.txt``: one edge ``u v`` per line (whitespace
    separated; further tokens ignored; a line with one token is an isolated node; ``#``
    starts a comment); ``.csv``: a header line, then the two endpoints in the first two
    columns (further columns ignored); ``.graphml``: GraphML (directed and multi-graphs are
    made simple undirected; node and edge attributes are kept).

    Nodes are numbered in sorted order of their original labels (numerically if every
    label is an integer, else as strings); the original label is stored in the node
    attribute ``"label"`` (int or str), replacing any GraphML attribute of that name.

    Raises:
        DaoAbmError: missing file, unknown suffix, unparsable file, or no nodes.
    """
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise DaoAbmError(
            f"{name}: unknown graph format {suffix!r}; valid: {', '.join(GRAPH_SUFFIXES)}"
        )
    if not Path(name).is_file():
        raise DaoAbmError(f"{name}: file not found")
    if suffix == ".graphml":
        graph = _read_graphml(name)
    elif suffix == ".csv":
        graph = _read_csv_edges(name)
    else:
        graph = _read_edgelist(name)
    if graph.number_of_nodes() == 0:
        raise DaoAbmError(f"{name}: empty graph (no nodes)")
    return _relabel_sorted(graph)


def _read_graphml(name: str) -> nx.Graph:
    try:
        return nx.Graph(nx.read_graphml(name))
    except (ParseError, nx.NetworkXError, ValueError, KeyError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DaoAbmError(f"{name}: cannot parse GraphML: {detail}") from None


def _read_csv_edges(name: str) -> nx.Graph:
    table = read_table(name)
    if len(table.columns) < 2:
        raise DaoAbmError(f"{name} line 1: need two columns (the edge endpoints)")
    u_col, v_col = table.columns[:2]
    if _is_int(u_col) and _is_int(v_col):
        raise DaoAbmError(
            f"{name} line 1: looks like an edge, not a header; add a line such as 'source,target'"
        )
    for col in (u_col, v_col):
        blank = table[col] == ""
        if blank.any():
            raise DaoAbmError(f"{name} line {blank.idxmax()}: missing endpoint in {col!r}")
    graph = nx.Graph()
    graph.add_edges_from(zip(table[u_col], table[v_col], strict=True))
    return graph


def _read_edgelist(name: str) -> nx.Graph:
    graph = nx.Graph()
    try:
        with open(name, encoding="utf-8") as handle:
            for line in handle:
                tokens = line.split("#", 1)[0].split()
                if len(tokens) == 1:
                    graph.add_node(tokens[0])
                elif tokens:
                    graph.add_edge(tokens[0], tokens[1])
    except (OSError, UnicodeDecodeError) as exc:
        raise DaoAbmError(f"{name}: cannot read edge list: {exc}") from None
    return graph


def _is_int(text: str) -> bool:
    return text[1:].isdecimal() if text[:1] in ("+", "-") else text.isdecimal()


def _relabel_sorted(graph: nx.Graph) -> nx.Graph:
    """Copy of ``graph`` on nodes 0..n-1 in sorted label order; attribute "label" = old id."""
    labels = [str(node) for node in graph.nodes]
    keys: list[int | str] = list(labels)
    if all(map(_is_int, labels)):
        as_int = [int(label) for label in labels]
        if len(set(as_int)) == len(as_int):  # "01" and "1" would collide
            keys = list(as_int)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    nodes = list(graph.nodes)
    index = {nodes[old]: new for new, old in enumerate(order)}
    result = nx.Graph()
    result.graph.update(graph.graph)
    result.add_nodes_from(
        (new, {**graph.nodes[nodes[old]], "label": keys[old]}) for new, old in enumerate(order)
    )
    result.add_edges_from((index[u], index[v], data) for u, v, data in graph.edges(data=True))
    return result
