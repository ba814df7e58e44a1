"""Learning speed: one exact best-response round of Mechanism 1 where every member revises.

The population is ``engine.py``'s: one item, DAOs of sizes 1..50 with shuffled labels,
values uniform on [0, 1), bids the values times a factor uniform on [0.8, 1.2]. A round is
one ``best_response`` call (``dao-vickrey``, tie policy "keep", no grid: the exact critical
bid path); the ``Market`` and its slot index are built once beforehand, as the model builds
them once per membership. Each time is compared with ``np.sort`` of as many float64 bids,
measured in the same run (the best response needs every group's bids sorted).

``sort_1m_ms`` belongs to ``engine.py``; the same sort is measured here again, beside the
best-response timing, as ``br_sort_1m_ms``. ``sort_with_owners_*`` is the segmented argsort
alone (the floor of this algorithm's sort step) for reference.
"""

from __future__ import annotations

import numpy as np
from engine import best_ms, shuffled_groups

from dao_abm.deviations import Market
from dao_abm.deviations.slots import sort_with_owners
from dao_abm.learning import best_response

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {
    "br_round_17k_over_sort": ("<=", 5.0),
    "br_round_1m_over_sort": ("<=", 5.0),
}

#: (label, members, repeats): ConstitutionDAO-sized and the million-member scenario.
SIZES = (("17k", 17_437, 60), ("1m", 1_000_000, 7))


def one_size(label: str, n: int, repeats: int, rng: np.random.Generator) -> dict[str, float]:
    market = Market("dao-vickrey", shuffled_groups(n, rng))
    values = rng.random(n)
    bids = values * rng.uniform(0.8, 1.2, n)
    everyone = np.ones(n, dtype=bool)
    index = market.slot_index  # built once per membership, outside the timing

    def round_() -> None:
        best_response(market, values, bids, revising=everyone, rng=rng)

    round_()  # warm up (first-touch allocations)
    br = best_ms(round_, repeats)
    sort = best_ms(lambda: np.sort(bids), repeats)
    owners = best_ms(lambda: sort_with_owners(bids[None], market.groups, index), repeats)
    sort_key = "sort_17k_ms" if label == "17k" else f"br_sort_{label}_ms"
    return {
        f"br_round_{label}_ms": br,
        sort_key: sort,
        f"br_round_{label}_over_sort": br / sort,
        f"sort_with_owners_{label}_ms": owners,
    }


def measure() -> dict[str, float]:
    rng = np.random.default_rng(2024)
    out: dict[str, float] = {}
    for label, n, repeats in SIZES:
        out |= one_size(label, n, repeats, rng)
    return out
