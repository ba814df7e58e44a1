"""DAO re-formation between rounds: members move to a connected DAO that did better.

A member looks at the DAOs of its graph neighbours and scores each by the mean utility its
members got last round. With probability ``rate`` it moves to the best-scoring one when that
score beats its own last utility and the DAO has room (size < ℓ). A DAO takes at most its
free room in movers (chosen at random), so ℓ is never exceeded. Individual bidders never
move. All of it is vectorized over the edge list.
"""

from __future__ import annotations

import numpy as np

from dao_abm.population import compact_labels


def edge_array(graph) -> np.ndarray:
    """``(2E, 2)`` directed edges (both directions) of an undirected graph."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    return np.concatenate([edges, edges[:, ::-1]])


def reform_daos(
    labels: np.ndarray,
    edges: np.ndarray,
    utility: np.ndarray,
    *,
    max_size: int,
    rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """New compact labels after one re-formation opportunity (see module docstring).

    Args:
        labels: ``(n,)`` current DAO of every bidder.
        edges: ``(E, 2)`` directed member-to-member edges (from ``edge_array``).
        utility: ``(n,)`` last round's utility of every bidder.
        max_size: ℓ (0: no limit).
        rate: probability that a member with a better option takes it.
    """
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    mean_utility = np.bincount(labels, weights=utility, minlength=k) / np.maximum(sizes, 1)
    src, dst = edges[:, 0], edges[:, 1]
    target = labels[dst]
    score = np.where(target != labels[src], mean_utility[target], -np.inf)
    if max_size:
        score = np.where(sizes[target] < max_size, score, -np.inf)
    order = np.lexsort((-score, src))  # best neighbour DAO first, per member
    first = np.ones(order.size, dtype=bool)
    first[1:] = src[order][1:] != src[order][:-1]
    best = order[first]
    movers = src[best]
    to = target[best]
    keep = (score[best] > utility[movers] + 1e-12) & (rng.random(movers.size) < rate)
    movers, to = movers[keep], to[keep]
    if max_size:
        room = max_size - sizes[to]
        rank = _rank_within(to, rng)
        movers, to = movers[rank < room], to[rank < room]
    new = labels.copy()
    new[movers] = to
    return compact_labels(new)


def _rank_within(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rank of each entry among the entries with the same key."""
    order = np.lexsort((rng.random(keys.size), keys))
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, keys.size]))
    rank = np.empty(keys.size, dtype=np.int64)
    rank[order] = np.arange(keys.size) - run_start
    return rank
