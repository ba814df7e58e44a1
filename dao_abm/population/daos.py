"""DAOs as group labels: found as communities of the affinity graph, or given by sizes.

A population's DAOs are a label array ``group`` of shape (n_members,): int64, compact
(0..k-1, every label used). Labels from :func:`form_daos` are ordered by the smallest
member index of each DAO, so equal partitions give equal arrays.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator

import networkx as nx
import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.population.graphs import check_int, check_real

Communities = Iterable[Collection[int]]


def _louvain(graph: nx.Graph, seed: int) -> Communities:
    """Louvain modularity communities (edge attribute "weight" used when present)."""
    return nx.community.louvain_communities(graph, seed=seed)


def _label_propagation(graph: nx.Graph, seed: int) -> Communities:
    """Asynchronous label propagation (Raghavan, Albert & Kumara 2007)."""
    return nx.community.asyn_lpa_communities(graph, seed=seed)


def _components(graph: nx.Graph, seed: int) -> Communities:
    """Connected components."""
    return nx.connected_components(graph)


def _singletons(graph: nx.Graph, seed: int) -> Communities:
    """Every member alone."""
    return ([node] for node in graph.nodes)


DaoMethod = Callable[[nx.Graph, int], Communities]
DAO_METHODS: dict[str, DaoMethod] = {
    "louvain": _louvain,
    "label-propagation": _label_propagation,
    "components": _components,
    "singletons": _singletons,
}


def form_daos(
    graph: nx.Graph,
    *,
    method: str,
    max_size: int | None,
    rng: np.random.Generator,
    singletons: float = 0.0,
) -> np.ndarray:
    """Group members into DAOs: communities of the affinity graph, capped at ``max_size``.

    First ``round(singletons * n)`` members, chosen uniformly with ``rng``, become DAOs of
    one; the others are grouped by ``method`` on the graph they induce. A community larger
    than ``max_size`` is cut into ``ceil(size / max_size)`` pieces whose sizes differ by at
    most one (no tiny leftover DAO) by breadth-first peeling: each piece is grown by BFS
    inside the community from its smallest remaining member, so it is connected unless the
    remainder of the community has fragmented (typically only the last pieces; e.g. 1 of
    10 pieces on a 20x20 grid with max_size 40, more on hub-dominated graphs, where a hub
    takes its neighbours and strands the rest). Priorities: the cap, then balanced sizes,
    then connectivity. This costs O(edges), where Kernighan-Lin bisection costs O(size^2)
    per pass, so 20,000-member graphs split in well under a second; forcing every piece to
    be connected instead leaves many singletons on scale-free and SBM graphs.

    Args:
        graph: undirected graph on nodes 0..n-1.
        method: a key of :data:`DAO_METHODS`.
        max_size: the cap ℓ >= 1 on DAO size, or None for no cap.
        rng: random generator (singletons, and the networkx seed).
        singletons: fraction of members in [0, 1] who bid alone.

    Returns:
        Compact int64 labels of shape (n,), ordered by each DAO's smallest member.

    Raises:
        DaoAbmError: unknown method, bad ``max_size``/``singletons``, or a graph that is
            empty, directed or not on nodes 0..n-1.
    """
    n = _check_graph(graph)
    find = _method(method)
    if max_size is not None:
        max_size = check_int("max_size", max_size, 1)
    singletons = check_real("singletons", singletons, 0, 1)
    alone = rng.choice(n, size=round(singletons * n), replace=False)
    seed = int(rng.integers(2**31))
    rest = graph
    if alone.size:
        rest = graph.copy()
        rest.remove_nodes_from(alone.tolist())
    labels = np.empty(n, dtype=np.int64)
    label = 0
    for community in find(rest, seed):
        for piece in _split(rest, sorted(community), max_size):
            labels[piece] = label
            label += 1
    labels[alone] = np.arange(label, label + alone.size)
    return compact_labels(labels)


def _method(method: str) -> DaoMethod:
    if method not in DAO_METHODS:
        raise DaoAbmError(f"unknown DAO method {method!r}; valid choices: {', '.join(DAO_METHODS)}")
    return DAO_METHODS[method]


def _check_graph(graph: nx.Graph) -> int:
    if not isinstance(graph, nx.Graph) or graph.is_directed():
        raise DaoAbmError("form_daos needs an undirected networkx graph")
    n = graph.number_of_nodes()
    if n == 0:
        raise DaoAbmError("form_daos: the graph has no nodes")
    if set(graph.nodes) != set(range(n)):
        raise DaoAbmError(
            "form_daos: graph nodes must be 0..n-1 (use read_graph, which relabels them)"
        )
    return n


def _split(graph: nx.Graph, members: list[int], max_size: int | None) -> list[list[int]]:
    """Cut sorted ``members`` into near-equal pieces of at most ``max_size`` by BFS peeling."""
    if max_size is None or len(members) <= max_size:
        return [members]
    n_pieces = math.ceil(len(members) / max_size)
    base, extra = divmod(len(members), n_pieces)
    remaining = set(members)
    starts = iter(members)
    pieces = []
    for i in range(n_pieces):
        size = base + (i < extra)
        piece: list[int] = []
        while len(piece) < size:
            start = next(s for s in starts if s in remaining)
            piece.extend(_bfs_take(graph, start, size - len(piece), remaining))
        pieces.append(piece)
    return pieces


def _bfs_take(graph: nx.Graph, start: int, want: int, remaining: set[int]) -> list[int]:
    """Take up to ``want`` nodes of ``remaining`` in BFS order from ``start`` (removing them)."""
    remaining.discard(start)
    taken, queue = [start], deque([start])
    while queue and len(taken) < want:
        for neighbor in graph.adj[queue.popleft()]:
            if neighbor in remaining:
                remaining.discard(neighbor)
                taken.append(neighbor)
                queue.append(neighbor)
                if len(taken) == want:
                    break
    return taken


def compact_labels(labels: np.ndarray) -> np.ndarray:
    """Relabel any group labels to 0..k-1, ordered by each group's smallest member index.

    Args:
        labels: group label of each member, shape (n,), any sortable dtype.

    Returns:
        int64 array of shape (n,).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DaoAbmError(f"labels must be 1-D, got shape {labels.shape}")
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.reshape(-1)]


def daos_from_sizes(
    sizes: Iterable[int] | np.ndarray,
    *,
    rng: np.random.Generator | None = None,
    shuffle: bool = False,
) -> np.ndarray:
    """Labels for a population given by DAO sizes, without a graph (million-member runs).

    Args:
        sizes: positive ints, shape (k,); DAO j has ``sizes[j]`` members.
        rng: random generator; required when ``shuffle``.
        shuffle: if False, members are contiguous by DAO (0..sizes[0]-1 in DAO 0, ...);
            if True, members are randomly permuted. Either way label j has ``sizes[j]``
            members, so ``dao_sizes(labels) == sizes`` (with shuffle the labels are not
            ordered by smallest member).

    Returns:
        int64 labels of shape (sum(sizes),).
    """
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise DaoAbmError("sizes must be a non-empty 1-D array of integers")
    if (sizes < 1).any():
        raise DaoAbmError(f"DAO sizes must be >= 1, got {int(sizes.min())}")
    labels = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    if shuffle:
        if rng is None:
            raise DaoAbmError("daos_from_sizes: shuffle=True needs rng")
        labels = rng.permutation(labels)
    return labels


def dao_sizes(labels: np.ndarray) -> np.ndarray:
    """Members per DAO: int64 array of shape (k,) for labels of shape (n,) in 0..k-1."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DaoAbmError("labels must be a 1-D integer array")
    if labels.size and labels.min() < 0:
        raise DaoAbmError(f"labels must be >= 0, got {int(labels.min())}")
    return np.bincount(labels).astype(np.int64)


def size_histogram(labels: np.ndarray) -> dict[int, int]:
    """Number of DAOs of each size, ``{size: count}`` in increasing size (unused labels
    are not counted)."""
    sizes = dao_sizes(labels)
    values, counts = np.unique(sizes[sizes > 0], return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def iter_daos(labels: np.ndarray) -> Iterator[np.ndarray]:
    """Member indices of each DAO in label order, each sorted, shape (size_j,)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.cumsum(dao_sizes(labels))[:-1]
    yield from np.split(order, bounds)
