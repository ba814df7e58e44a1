"""Who revises in a round: the revision protocol.

- "simultaneous": every member revises against the same profile.
- "sequential": one member per round, in a random order that is redrawn every sweep of n
  rounds; round t revises member ``perm_w[t mod n]`` of sweep ``w = t // n``.
- "inertia": each member revises independently with probability ``fraction``.
- "dao": one DAO per round, cycling through a random order of the k DAOs per sweep.

The function is stateless. The order of sweep w is drawn from a generator seeded by the
``SeedSequence`` behind ``rng`` and w, so every call in a sweep sees the same permutation,
equal seeds give equal orders, and ``rng``'s own stream is not advanced by the cyclic
protocols (only "inertia" draws from it).
"""

from __future__ import annotations

import numpy as np

from dao_abm.mechanisms import Groups

PROTOCOLS = ("simultaneous", "sequential", "inertia", "dao")
#: Extra spawn-key word that keeps sweep orders apart from ``rng.spawn`` children.
_SWEEP_KEY = 0x5EED5


def revising_members(
    protocol: str,
    n: int,
    *,
    groups: Groups,
    round_index: int,
    rng: np.random.Generator,
    fraction: float = 0.1,
) -> np.ndarray:
    """``(n,)`` bool: the members who may change strategy in round ``round_index``.

    Args:
        protocol: one of ``PROTOCOLS``.
        n: number of members (``groups.n_members``).
        groups: the DAOs (used by "dao").
        round_index: 0-based round number.
        rng: the model's generator.
        fraction: revision probability for "inertia", in [0, 1].
    """
    if protocol == "simultaneous":
        return np.ones(n, dtype=bool)
    if protocol == "inertia":
        if not 0 <= fraction <= 1:
            raise ValueError(f"the inertia fraction must be in [0, 1], got {fraction}")
        return rng.random(n) < fraction
    if protocol == "sequential":
        mask = np.zeros(n, dtype=bool)
        mask[_in_turn(rng, n, round_index)] = True
        return mask
    if protocol == "dao":
        return groups.labels == _in_turn(rng, groups.n_groups, round_index)
    raise ValueError(
        f"unknown revision protocol {protocol!r}; choose one of: {', '.join(PROTOCOLS)}"
    )


def _in_turn(rng: np.random.Generator, size: int, round_index: int) -> int:
    """Whose turn it is: entry ``round_index mod size`` of this sweep's permutation."""
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if getattr(seq, "entropy", None) is None:
        raise ValueError("cyclic protocols need a generator built from a seed (default_rng)")
    sweep, turn = divmod(int(round_index), size)
    order_seq = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _SWEEP_KEY, sweep))
    return int(np.random.default_rng(order_seq).permutation(size)[turn])
