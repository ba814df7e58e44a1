"""Re-formation speed: every candidate move's counterfactual utility in one round.

A round of 100,000 members in DAOs of at most 12 (Mechanism 1, one item) scores every
(member, neighbouring DAO) move by re-running the round's auction with the member moved:
sub-markets batched by DAO size (``dao_abm/model/counterfactual.py``). The ghost-seat
reference (a full engine run per move) is timed on 3,000 members for comparison.
"""

from __future__ import annotations

import time

import numpy as np

from dao_abm.mechanisms import Groups, preset, utilities
from dao_abm.model.counterfactual import counterfactual_utilities, ghost_utilities
from dao_abm.model.reform import LastRound, candidate_moves

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {"reform_moves_per_s": (">=", 2.5e5)}

MAX_DAO_SIZE = 12
NEIGHBOURS = 4  # random edges per member


def last_round(n: int, rng: np.random.Generator) -> tuple[LastRound, np.ndarray]:
    """Members in DAOs of 1..MAX_DAO_SIZE with lognormal values bid truthfully; random
    edges, ``NEIGHBOURS`` per member."""
    sizes = rng.integers(1, MAX_DAO_SIZE + 1, size=n)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= sizes.sum() - n
    labels = rng.permutation(np.repeat(np.arange(sizes.size), sizes))
    values = rng.lognormal(0.0, 0.6, size=n)
    mech = preset("dao-vickrey")
    outcome = mech.run(values, Groups.from_labels(labels))
    edges = np.stack([np.repeat(np.arange(n), NEIGHBOURS), rng.integers(0, n, n * NEIGHBOURS)],
                     axis=1)
    return LastRound(labels, values, values, utilities(values, outcome), mech, "single"), edges


def seconds(call) -> float:
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def measure() -> dict[str, float]:
    rng = np.random.default_rng(0)
    last, edges = last_round(100_000, rng)
    movers, targets = candidate_moves(last.labels, edges, MAX_DAO_SIZE)
    fast = seconds(lambda: counterfactual_utilities(last, movers, targets))
    small, small_edges = last_round(3_000, rng)
    m_small, t_small = candidate_moves(small.labels, small_edges, MAX_DAO_SIZE)
    ghost = seconds(lambda: ghost_utilities(small, m_small, t_small))
    return {
        "reform_candidate_moves": float(movers.size),
        "reform_moves_per_s": movers.size / fast,
        "reform_ghost_moves_per_s_3000": m_small.size / ghost,
    }


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key}: {value:,.0f}")
