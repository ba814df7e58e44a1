"""Drawing positions for an affinity graph: members clustered around their DAO.

A force layout of the member graph costs seconds for a few hundred members, so DAOs are laid
out by a spring layout of the DAO graph (DAOs linked by their members' edges, weighted by the
number of edges) and each DAO's members fill a small disc around its position (a sunflower
pattern). Used by run figures and by the browser view.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

GOLDEN_ANGLE = np.pi * (3.0 - np.sqrt(5.0))


def dao_layout(graph: nx.Graph, labels: np.ndarray, seed: int = 0) -> dict[int, np.ndarray]:
    """Node positions: DAOs by a spring layout of the DAO graph, members on a disc around
    their DAO with an area proportional to the DAO's size."""
    nodes = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    daos, member_dao, counts = np.unique(labels[nodes], return_inverse=True,
                                         return_counts=True)
    centres = _dao_centres(graph, daos, labels, seed)
    radius = 0.5 * np.sqrt(counts / counts.max()) / max(1.0, np.sqrt(daos.size))
    order = np.argsort(member_dao, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(nodes.size)
    rank[order] = np.arange(nodes.size) - starts[member_dao[order]]
    rho = radius[member_dao] * np.sqrt((rank + 0.5) / counts[member_dao])
    theta = rank * GOLDEN_ANGLE
    xy = centres[member_dao] + rho[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    return dict(zip(nodes.tolist(), xy, strict=True))


def _dao_centres(graph: nx.Graph, daos: np.ndarray, labels: np.ndarray,
                 seed: int) -> np.ndarray:
    """``(n_daos, 2)`` spring layout of the DAO graph: DAOs linked with weight
    ``log(1 + member edges between them)``, and all tied to a hidden hub (weight 0.5) so
    that DAOs without links stay near the others instead of being pushed to the edge."""
    edges = np.array(list(graph.edges), dtype=np.int64).reshape(-1, 2)
    a, b = (np.searchsorted(daos, labels[edges[:, i]]) for i in (0, 1))
    between = a != b
    pairs, count = np.unique(np.sort(np.stack([a[between], b[between]], axis=1), axis=1),
                             axis=0, return_counts=True)
    quotient = nx.Graph()
    quotient.add_weighted_edges_from(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(),
                                         np.log1p(count).tolist(), strict=True))
    hub = -1
    quotient.add_weighted_edges_from((hub, i, 0.5) for i in range(daos.size))
    # networkx lays out graphs of 500+ nodes with a slow per-node loop: few iterations there.
    iterations = 200 if daos.size < 500 else 10
    centre = nx.spring_layout(quotient, seed=seed, iterations=iterations)
    return np.array([centre[i] for i in range(daos.size)]).reshape(-1, 2)
