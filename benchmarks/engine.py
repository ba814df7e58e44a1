"""Engine speed: one auction over a million members, and one batch of 1,024 profiles.

Both figures are compared with ``np.sort`` of the same number of float64 values on the same
run, so that the targets hold across machines: Mechanism 1 needs every group's bids sorted,
so a sort of all bids is the natural yardstick.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from dao_abm.mechanisms import Groups, preset

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {
    "auction_over_sort": ("<=", 3.0),
    "batch_member_profiles_per_s": (">=", 15e6),
}

N_MEMBERS = 1_000_000
BATCH_PROFILES = 1_024
BATCH_MEMBERS = 17_437
MAX_DAO_SIZE = 50
REPEATS = 7
BATCH_REPEATS = 5


def dao_sizes(n_members: int, rng: np.random.Generator) -> np.ndarray:
    """Sizes uniform on 1..MAX_DAO_SIZE, the last one cut so that they sum to n_members."""
    draws = rng.integers(1, MAX_DAO_SIZE + 1, size=n_members // 10 + 1)  # mean sum 2.5n
    total = np.cumsum(draws)
    k = int(np.searchsorted(total, n_members)) + 1  # the first k sizes reach n_members
    if k > draws.size:
        raise RuntimeError("too few DAO sizes drawn")
    sizes = draws[:k].copy()
    sizes[-1] -= total[k - 1] - n_members
    return sizes


def shuffled_groups(n_members: int, rng: np.random.Generator) -> Groups:
    """DAOs of sizes 1..50 whose members are scattered over the member array."""
    sizes = dao_sizes(n_members, rng)
    return Groups.from_labels(rng.permutation(np.repeat(np.arange(sizes.size), sizes)))


def best_ms(call: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls, in milliseconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def measure() -> dict[str, float]:
    rng = np.random.default_rng(2024)
    mechanism = preset("dao-vickrey")

    # One auction: Groups is built once, outside the timing (it is reused across auctions).
    start = time.perf_counter()
    groups = shuffled_groups(N_MEMBERS, rng)
    build_ms = (time.perf_counter() - start) * 1e3
    bids = rng.random(N_MEMBERS)
    auction_ms = best_ms(lambda: mechanism.run(bids, groups), REPEATS)
    sort_ms = best_ms(lambda: np.sort(bids), REPEATS)

    # A batch of profiles in one run call.
    batch_groups = shuffled_groups(BATCH_MEMBERS, rng)
    batch_bids = rng.random((BATCH_PROFILES, BATCH_MEMBERS))
    batch_ms = best_ms(lambda: mechanism.run(batch_bids, batch_groups), BATCH_REPEATS)
    sort_batch_ms = best_ms(lambda: np.sort(batch_bids, axis=-1), BATCH_REPEATS)

    return {
        "n_daos_1m": float(groups.n_groups),
        "groups_build_1m_ms": build_ms,
        "auction_1m_ms": auction_ms,
        "sort_1m_ms": sort_ms,
        "auction_over_sort": auction_ms / sort_ms,
        "batch_ms": batch_ms,
        "batch_member_profiles_per_s": BATCH_PROFILES * BATCH_MEMBERS / (batch_ms / 1e3),
        "sort_batch_ms": sort_batch_ms,
        "batch_over_sort": batch_ms / sort_batch_ms,
    }
