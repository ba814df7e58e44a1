"""Revision protocols: who may change strategy in a round."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dao_abm.learning import PROTOCOLS, revising_members
from dao_abm.mechanisms import Groups

GROUPS = Groups.from_labels(np.array([2, 0, 0, 1, 2, 2, 1, 3]))


def masks(protocol, rounds, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    return np.array([revising_members(protocol, GROUPS.n_members, groups=GROUPS,
                                      round_index=t, rng=rng, **kwargs) for t in range(rounds)])


def test_simultaneous_is_everyone():
    assert masks("simultaneous", 3).all()


def test_sequential_visits_each_member_once_per_sweep():
    n = GROUPS.n_members
    m = masks("sequential", 3 * n)
    assert (m.sum(axis=1) == 1).all()
    turns = m.argmax(axis=1).reshape(3, n)
    for sweep in turns:
        assert sorted(sweep) == list(range(n))
    assert not (turns[0] == turns[1]).all() or not (turns[1] == turns[2]).all()


def test_sequential_order_is_seeded_and_does_not_touch_the_stream():
    assert_array_equal(masks("sequential", 20, seed=4), masks("sequential", 20, seed=4))
    assert not np.array_equal(masks("sequential", 8, seed=4), masks("sequential", 8, seed=5))
    rng = np.random.default_rng(9)
    before = rng.bit_generator.state
    revising_members("sequential", 8, groups=GROUPS, round_index=3, rng=rng)
    assert rng.bit_generator.state == before


def test_dao_protocol_cycles_through_whole_daos():
    m = masks("dao", 2 * GROUPS.n_groups)
    chosen = []
    for row in m:
        labels = np.unique(GROUPS.labels[row])
        assert labels.size == 1
        assert_array_equal(row, GROUPS.labels == labels[0])
        chosen.append(int(labels[0]))
    k = GROUPS.n_groups
    assert sorted(chosen[:k]) == sorted(chosen[k:]) == list(range(k))


def test_inertia_revises_a_fraction():
    rng = np.random.default_rng(1)
    groups = Groups.from_sizes([1] * 20_000)
    mask = revising_members("inertia", 20_000, groups=groups, round_index=0, rng=rng,
                            fraction=0.3)
    assert abs(mask.mean() - 0.3) < 0.02
    with pytest.raises(ValueError, match="fraction"):
        revising_members("inertia", 3, groups=groups, round_index=0, rng=rng, fraction=2)


def test_unknown_protocol():
    with pytest.raises(ValueError, match="simultaneous"):
        masks("round-robin", 1)
    assert PROTOCOLS == ("simultaneous", "sequential", "inertia", "dao")
