"""The contract every two-level mechanism keeps, checked for every composition of the
registries (aggregation x upper mechanism x cost sharing) and every valuation class.

A new rule registered in any registry is picked up here without editing this file.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dao_abm.mechanisms import (
    AGGREGATIONS,
    COST_SHARING,
    PRESETS,
    UPPER_MECHANISMS,
    VALUATIONS,
    Groups,
    Outcome,
    TwoLevelMechanism,
    bundle_bids,
    preset,
    resolve,
)

COMPOSITIONS = [
    TwoLevelMechanism(*parts)
    for parts in itertools.product(
        AGGREGATIONS.names(), UPPER_MECHANISMS.names(), COST_SHARING.names()
    )
]
REGISTRIES = {"aggregation": AGGREGATIONS, "upper": UPPER_MECHANISMS,
              "cost_sharing": COST_SHARING}

#: Group sizes with singletons, shuffled members, batch (2, 3), three items; bids in halves
#: from 0 to 4 so that zeros and ties (between members and between groups) are common.
SIZES = [3, 1, 2, 1, 4]
BATCH = (2, 3)
N_ITEMS = 3


def make_instance(valuation: str) -> tuple[np.ndarray, Groups]:
    rng = np.random.default_rng(20240611)
    labels = rng.permutation(np.repeat(np.arange(len(SIZES)), SIZES))
    shape = (*BATCH, labels.size) if valuation == "single" else (*BATCH, labels.size, N_ITEMS)
    return rng.integers(0, 9, size=shape) / 2, Groups.from_labels(labels)


@pytest.fixture(params=COMPOSITIONS, ids=lambda m: m.name)
def mechanism(request) -> TwoLevelMechanism:
    return request.param


@pytest.fixture(params=VALUATIONS)
def valuation(request) -> str:
    return request.param


class Case(NamedTuple):
    mechanism: TwoLevelMechanism
    bids: np.ndarray
    groups: Groups
    valuation: str
    outcome: Outcome

    @property
    def bundled(self) -> bool:
        return UPPER_MECHANISMS[self.mechanism.upper].bundled

    def lot_member_bids(self) -> np.ndarray:
        """``(*B, L, n)`` each member's bid for each lot."""
        item_bids = self.bids[..., None] if self.valuation == "single" else self.bids
        if self.bundled:
            return bundle_bids(item_bids, self.valuation)[..., None, :]
        return np.moveaxis(item_bids, -1, -2)


@pytest.fixture
def case(mechanism, valuation) -> Case:
    bids, groups = make_instance(valuation)
    return Case(mechanism, bids, groups, valuation, mechanism.run(bids, groups, valuation))


class TestMechanismContract:
    def test_shapes_and_dtypes(self, case):
        outcome = case.outcome
        m = 1 if case.valuation == "single" else N_ITEMS
        n_lots = 1 if case.bundled else m
        n, k = case.groups.n_members, case.groups.n_groups
        assert outcome.valuation == case.valuation
        assert outcome.lots.shape == (n_lots, m) and outcome.lots.dtype == bool
        assert outcome.group_bids.shape == (*BATCH, n_lots, k)
        assert outcome.winner.shape == outcome.price.shape == (*BATCH, n_lots)
        assert outcome.access.shape == outcome.lot_payments.shape == (*BATCH, n_lots, n)
        assert np.issubdtype(outcome.winner.dtype, np.integer)
        assert outcome.access.dtype == bool
        for field in (outcome.group_bids, outcome.price, outcome.lot_payments):
            assert field.dtype == np.float64
        assert outcome.member_payments.shape == (*BATCH, n)
        assert outcome.member_items.shape == (*BATCH, n, m)
        assert outcome.revenue.shape == outcome.budget_residual.shape == BATCH

    def test_finite_and_nonnegative(self, case):
        outcome = case.outcome
        for field in (outcome.group_bids, outcome.price, outcome.lot_payments):
            assert np.isfinite(field).all()
            assert (field >= 0).all()

    def test_access_and_payments_only_in_the_winning_group(self, case):
        outcome = case.outcome
        in_winner = case.groups.labels == outcome.winner[..., None]  # (*B, L, n)
        assert not (outcome.access & ~in_winner).any()
        assert (outcome.lot_payments[~in_winner] == 0).all()

    def test_each_lot_sold_to_at_most_one_group(self, case):
        outcome = case.outcome
        assert ((outcome.winner >= -1) & (outcome.winner < case.groups.n_groups)).all()
        assert (outcome.lots.sum(axis=0) == 1).all()  # lots partition the items
        assert (outcome.group_items.sum(axis=-2) <= 1).all()
        assert (outcome.price[outcome.winner < 0] == 0).all()

    def test_identity_on_groups_of_one(self, case):
        """Section 2: the aggregation is the identity for a group with one member."""
        lot_bids = case.lot_member_bids()
        singletons = np.flatnonzero(case.groups.sizes == 1)
        assert singletons.size > 0
        for j in singletons.tolist():
            member = int(np.flatnonzero(case.groups.labels == j)[0])
            assert_array_equal(case.outcome.group_bids[..., j], lot_bids[..., member])

    def test_deterministic(self, case):
        again = case.mechanism.run(case.bids.copy(), case.groups, case.valuation)
        for field in ("group_bids", "winner", "price", "access", "lot_payments"):
            assert_array_equal(getattr(again, field), getattr(case.outcome, field),
                               err_msg=field)

    def test_memory_layout_does_not_matter(self, case):
        again = case.mechanism.run(np.asfortranarray(case.bids), case.groups, case.valuation)
        for field in ("group_bids", "winner", "price", "access", "lot_payments"):
            assert_array_equal(getattr(again, field), getattr(case.outcome, field),
                               err_msg=field)

    def test_does_not_modify_the_bids(self, case):
        before = case.bids.copy()
        case.mechanism.run(case.bids, case.groups, case.valuation)
        assert_array_equal(case.bids, before)

    @pytest.mark.parametrize("part", list(REGISTRIES))
    def test_unknown_name_lists_the_choices(self, mechanism, part):
        parts = {"aggregation": mechanism.aggregation, "upper": mechanism.upper,
                 "cost_sharing": mechanism.cost_sharing, part: "no-such-rule"}
        with pytest.raises(ValueError, match="no-such-rule") as error:
            TwoLevelMechanism(**parts)
        for name in REGISTRIES[part].names():
            assert name in str(error.value)


# ---------------------------------------------------------------------------------------
# Names and input validation at the boundary.
def test_unknown_preset_lists_the_presets():
    with pytest.raises(ValueError, match="no-such-mechanism") as error:
        preset("no-such-mechanism")
    assert all(name in str(error.value) for name in PRESETS)
    with pytest.raises(ValueError, match="dao-vickrey"):
        resolve("no-such-mechanism")


def test_resolve_overrides_parts_of_a_preset():
    assert resolve() == PRESETS["dao-vickrey"]
    assert resolve("crowdfund", upper="second-price") == TwoLevelMechanism(
        "sum", "second-price", "proportional")
    with pytest.raises(ValueError, match="wtp"):
        resolve(aggregation="median")


def test_unknown_valuation_lists_the_classes():
    with pytest.raises(ValueError, match="unit-demand") as error:
        preset("dao-vickrey").run(np.ones((2, 1)), Groups.from_sizes([2]), "submodular")
    assert all(name in str(error.value) for name in VALUATIONS)


@pytest.mark.parametrize(
    ("bids", "valuation", "message"),
    [
        ([1.0, 2.0], "single", "members"),  # 2 bids, 3 members
        ([1.0, -2.0, 3.0], "single", ">= 0"),
        ([1.0, np.nan, 3.0], "single", "finite"),
        ([1.0, np.inf, 3.0], "single", "finite"),
        ([1.0, 2.0, 3.0], "additive", "axes"),
        (np.ones((3, 0)), "unit-demand", "item"),
        (np.ones((2, 2)), "additive", "members"),
    ],
)
def test_bad_bids_raise(bids, valuation, message):
    with pytest.raises(ValueError, match=message):
        preset("dao-vickrey").run(np.asarray(bids), Groups.from_sizes([2, 1]), valuation)


def test_registering_a_name_twice_raises():
    with pytest.raises(ValueError, match="already registered"):
        AGGREGATIONS.register("wtp")(lambda lot: None)
