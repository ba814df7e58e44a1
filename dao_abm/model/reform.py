"""DAO re-formation between rounds: members move to a connected DAO they would have done
better in.

A member's candidate DAOs are those of its graph neighbours (other than its own, and with
room: size < ℓ). Each candidate is scored by ``daos.reform_rule``:

- ``counterfactual`` (default): the utility the member would have had last round in that
  DAO — last round's auction re-run with the member moved (same bid) and every other bid
  and membership fixed (``counterfactual_utilities``).
- ``mean-utility``: the mean utility the candidate DAO's members got last round. A cheap
  proxy, not what the member would have got: in a single-item auction only the winning DAO
  has positive mean utility, so losers pile into the winner up to the size cap.

With probability ``rate`` a member moves to its best-scoring candidate when that score
beats its own last utility. A DAO takes at most its free room in movers (chosen at random),
so ℓ is never exceeded. Individual bidders (no graph edges) never move. Everything is
vectorized over the candidate list; the counterfactual is one engine call per memory chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms import Groups, TwoLevelMechanism, utilities
from dao_abm.population import compact_labels

#: Most member bids (candidates × bidders × items) one counterfactual engine call holds.
CHUNK = 2_000_000


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


def counterfactual_utilities(last: LastRound, movers: np.ndarray, targets: np.ndarray
                             ) -> np.ndarray:
    """``(C,)`` each mover's utility had it been in its target DAO last round (with its
    bids; every DAO keeping its index, which decides ties between group bids).

    Every candidate move is one profile on a batch axis of a single engine run (per memory
    chunk). The membership is fixed across the batch: every DAO gets one extra *ghost*
    seat. In profile c the ghost seat of ``targets[c]`` holds the mover's bids and values
    and the mover's own seat bids 0; all other ghost seats bid 0. The ghost's utility is the
    mover's counterfactual utility. Bidding 0 is the same as being absent for every rule
    here (WTP, sum and max aggregation ignore zeros; zeros win nothing under max-equal-split
    at a positive price and pay nothing otherwise); ``equal-split-all`` divides by the group
    size, which for the target DAO is exactly its size with the mover. One difference:
    a DAO the mover empties stays as a group bidding 0. That matters only for ties: when
    the top group bids tie at 0, and under VCG with unit-demand values over several items,
    whose assignment may choose differently among equally good allocations when a DAO is
    added (checked against brute force in ``tests/test_reform.py``).
    """
    n, k = last.labels.size, int(last.labels.max()) + 1
    groups = Groups.from_labels(np.concatenate([last.labels, np.arange(k)]))
    per_profile = (n + k) * (last.bids[0].size)
    step = max(1, CHUNK // per_profile)
    out = np.empty(movers.size)
    for lo in range(0, movers.size, step):  # memory chunks, not members
        who, where = movers[lo:lo + step], targets[lo:lo + step]
        bids, values = _ghost_profiles(last.bids, who, where, k), \
            _ghost_profiles(last.values, who, where, k)
        outcome = last.mechanism.run(bids, groups, last.valuation, validate=False)
        out[lo:lo + step] = utilities(values, outcome)[np.arange(who.size), n + where]
    return out


def _ghost_profiles(x: np.ndarray, movers: np.ndarray, targets: np.ndarray, k: int
                    ) -> np.ndarray:
    """``(C, n + k[, m])``: ``x`` with each mover's entry moved to its target's ghost seat."""
    n, rows = x.shape[0], np.arange(movers.size)
    out = np.zeros((movers.size, n + k, *x.shape[1:]))
    out[:, :n] = x
    out[rows, n + targets] = x[movers]
    out[rows, movers] = 0.0
    return out


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
