"""DAO re-formation between rounds: members move to a connected DAO they would have done
better in.

A member's candidate DAOs are those of its graph neighbours (other than its own, and with
room: size < ℓ). Each candidate is scored by ``daos.reform_rule``:

- ``counterfactual`` (default): the utility the member would have had last round in that
  DAO — last round's auction re-run with the member moved (same bid) and every other bid
  and membership fixed (``counterfactual.py``).
- ``mean-utility``: the mean utility the candidate DAO's members got last round. A cheap
  proxy, not what the member would have got: in a single-item auction only the winning DAO
  has positive mean utility, so losers pile into the winner up to the size cap.

With probability ``rate`` a member moves to its best-scoring candidate when that score
beats its own last utility. A DAO takes at most its free room in movers (chosen at random),
so ℓ is never exceeded. Individual bidders (no graph edges) never move. Everything is
vectorized over the candidate list; the counterfactual is batched over candidate moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms import TwoLevelMechanism
from dao_abm.model.counterfactual import counterfactual_utilities
from dao_abm.population import compact_labels


@dataclass(frozen=True, eq=False)
class LastRound:
    """What re-formation looks back on.

    Attributes:
        labels: ``(n,)`` the DAOs that bid.
        values, bids: ``(n,)`` ("single") or ``(n, m)``: last round's values and bids.
        utility: ``(n,)`` each bidder's realized utility.
        mechanism, valuation: the auction that was run.
    """

    labels: np.ndarray
    values: np.ndarray
    bids: np.ndarray
    utility: np.ndarray
    mechanism: TwoLevelMechanism
    valuation: str


def edge_array(graph) -> np.ndarray:
    """``(2E, 2)`` directed edges (both directions) of an undirected graph."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    return np.concatenate([edges, edges[:, ::-1]])


def candidate_moves(labels: np.ndarray, edges: np.ndarray, max_size: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (member, DAO) pairs a member may move to: a neighbour's DAO, not its own,
    with room under ``max_size`` (0: no limit). Returns ``movers`` and ``targets``, ``(C,)``
    each, sorted by member."""
    src, target = edges[:, 0], labels[edges[:, 1]]
    keep = target != labels[src]
    if max_size:
        keep &= np.bincount(labels)[target] < max_size
    pairs = np.unique(np.stack([src[keep], target[keep]], axis=1), axis=0).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def mean_utility_scores(last: LastRound, movers: np.ndarray, targets: np.ndarray
                        ) -> np.ndarray:
    """``(C,)`` the mean utility of each target DAO's members last round (the proxy)."""
    sizes = np.bincount(last.labels)
    mean = np.bincount(last.labels, weights=last.utility) / sizes
    return mean[targets]


#: ``daos.reform_rule`` -> how a member scores a candidate DAO (see the module docstring).
REFORM_SCORES: dict[str, Callable[[LastRound, np.ndarray, np.ndarray], np.ndarray]] = {
    "counterfactual": counterfactual_utilities,
    "mean-utility": mean_utility_scores,
}


def reform_daos(
    last: LastRound,
    edges: np.ndarray,
    *,
    rule: str,
    max_size: int,
    rate: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """New compact labels after one re-formation opportunity (see module docstring).

    Args:
        last: last round's DAOs, values, bids, utilities and auction.
        edges: ``(E, 2)`` directed member-to-member edges (from ``edge_array``).
        rule: a name in ``REFORM_SCORES``.
        max_size: ℓ (0: no limit).
        rate: probability that a member with a better option takes it.
    """
    labels, utility = last.labels, last.utility
    movers, targets = candidate_moves(labels, edges, max_size)
    score = REFORM_SCORES[rule](last, movers, targets)
    order = np.lexsort((-score, movers))  # best candidate first, per member
    first = np.ones(order.size, dtype=bool)
    first[1:] = movers[order][1:] != movers[order][:-1]
    best = order[first]
    movers, to = movers[best], targets[best]
    keep = (score[best] > utility[movers] + 1e-12) & (rng.random(movers.size) < rate)
    movers, to = movers[keep], to[keep]
    if max_size:
        room = max_size - np.bincount(labels, minlength=int(labels.max()) + 1)[to]
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
