"""Properties of the engine on random instances (hypothesis; generators in strategies.py).

Budget balance, individual rationality, equal treatment (Section 2); monotonicity and
truthfulness of Mechanism 1 (Theorem 3.1); the H_ℓ bound (Theorems 3.2 and 4.1, Lemma 3.3);
and the engine's own contracts: a batch equals its rows, member order does not matter.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from strategies import Instance, batch_shapes, instances

from dao_abm.mechanisms import (
    AGGREGATIONS,
    COST_SHARING,
    PRESETS,
    UPPER_MECHANISMS,
    VALUATIONS,
    Groups,
    TwoLevelMechanism,
    optimal_welfare,
    preset,
    utilities,
    welfare,
)

ALL = [
    TwoLevelMechanism(a, u, c)
    for a, u, c in itertools.product(
        AGGREGATIONS.names(), UPPER_MECHANISMS.names(), COST_SHARING.names()
    )
]
#: max-equal-split covers any price <= WTP, so it balances whenever the group bid is at most
#: WTP (aggregations wtp and max); the other rules always balance.
BALANCED = [m for m in ALL if not (m.aggregation == "sum" and m.cost_sharing == "max-equal-split")]
SHORTFALL = [m for m in ALL if m not in BALANCED]


def tolerance(inst: Instance) -> float:
    return 1e-9 * max(1.0, float(np.abs(inst.bids).max(initial=0.0)))


def harmonic(n: int) -> float:
    return float(sum(1 / i for i in range(1, n + 1)))


def value_matrix(bids: np.ndarray, valuation: str) -> np.ndarray:
    """Bids as ``(*B, n, m)``."""
    return bids[..., None] if valuation == "single" else bids


# ---------------------------------------------------------------------------------------
# Budget balance and individual rationality (Section 2; Theorems 3.1 and 4.1).
@given(st.sampled_from(BALANCED), instances(batch=batch_shapes(1)))
def test_budget_balance(mechanism, inst):
    outcome = mechanism.run(inst.bids, inst.groups, inst.valuation)
    assert np.abs(outcome.budget_residual).max() <= tolerance(inst)


@given(st.sampled_from(SHORTFALL), instances(batch=batch_shapes(1)))
def test_sum_with_max_equal_split_never_overcharges(mechanism, inst):
    outcome = mechanism.run(inst.bids, inst.groups, inst.valuation)
    assert outcome.budget_residual.min() >= -tolerance(inst)


@pytest.mark.parametrize(
    ("name", "valuations"),
    [
        ("dao-vickrey", ("single", "additive")),
        ("grand-bundle", ("single", "additive", "unit-demand")),
    ],
)
@given(data=st.data())
def test_individual_rationality(name, valuations, data):
    inst = data.draw(instances(valuations, batch=batch_shapes(1)))
    outcome = preset(name).run(inst.bids, inst.groups, inst.valuation)
    assert utilities(inst.bids, outcome).min() >= -tolerance(inst)


# ---------------------------------------------------------------------------------------
# Equal treatment (Section 2): two members of a group with the same bids get the same
# access and pay the same.
@pytest.mark.parametrize("name", list(PRESETS))
@given(data=st.data())
@settings(max_examples=40)
def test_equal_treatment(name, data):
    inst = data.draw(instances(min_groups=1, max_size=4, batch=batch_shapes(1)))
    labels = inst.groups.labels
    pairs = [(a, b) for a in range(labels.size) for b in range(labels.size)
             if a != b and labels[a] == labels[b]]
    if not pairs:
        return
    a, b = data.draw(st.sampled_from(pairs))
    bids = inst.bids.copy()
    if inst.valuation == "single":
        bids[..., b] = bids[..., a]
    else:
        bids[..., b, :] = bids[..., a, :]
    outcome = preset(name).run(bids, inst.groups, inst.valuation)
    assert_array_equal(outcome.access[..., a], outcome.access[..., b])
    assert_allclose(outcome.lot_payments[..., a], outcome.lot_payments[..., b],
                    rtol=1e-12, atol=tolerance(inst))


# ---------------------------------------------------------------------------------------
# Mechanism 1 (Theorem 3.1): a pure-Python reference, monotonicity, no profitable deviation.
def mechanism_1(bids: list[float], labels: list[int]) -> tuple[list[bool], list[float]]:
    """Mechanism 1 line by line, with the lowest group index winning ties."""
    k = max(labels) + 1
    members = [[i for i in range(len(bids)) if labels[i] == j] for j in range(k)]
    ranked = [sorted((bids[i] for i in g), reverse=True) for g in members]
    wtp = [max((r + 1) * b for r, b in enumerate(ranks)) for ranks in ranked]
    winner = max(range(k), key=lambda j: (wtp[j], -j))
    price = max((wtp[j] for j in range(k) if j != winner), default=0.0)
    top = ranked[winner]
    t = max(r + 1 for r in range(len(top)) if (r + 1) * top[r] >= price)
    access = [labels[i] == winner and bids[i] >= top[t - 1] for i in range(len(bids))]
    return access, [price / t if a else 0.0 for a in access]


@given(instances(("single",), max_groups=5, max_size=6))
def test_dao_vickrey_matches_mechanism_1(inst):
    outcome = preset("dao-vickrey").run(inst.bids, inst.groups)
    access, payments = mechanism_1(inst.bids.tolist(), inst.groups.labels.tolist())
    assert_array_equal(outcome.access[0], access)
    assert_allclose(outcome.lot_payments[0], payments, rtol=1e-12, atol=1e-12)


@given(instances(("single",), max_groups=5, max_size=5), st.data())
def test_dao_vickrey_allocation_is_monotone(inst, data):
    i = data.draw(st.integers(0, inst.groups.n_members - 1))
    raise_by = data.draw(st.floats(0, 100, allow_subnormal=False))
    before = preset("dao-vickrey").run(inst.bids, inst.groups)
    bids = inst.bids.copy()
    bids[i] += raise_by
    after = preset("dao-vickrey").run(bids, inst.groups)
    assert after.access[0, i] or not before.access[0, i]


@pytest.mark.parametrize("valuation", ["single", "additive"])
@given(data=st.data())
@settings(max_examples=50)
def test_dao_vickrey_no_profitable_deviation(valuation, data):
    """Truthful bids maximize a member's utility against a grid of lies (one batch run).

    Off ties only: when the member's group ties the best other WTP for the lot and loses
    it to a lower index, a member can gain by raising its bid (it pays p/t, less than the
    bid that breaks the tie). Theorem 3.1 breaks ties "arbitrarily"; Theorem 3.4's proof
    sets such measure-zero profiles aside. ``test_wtp_tie_invites_a_deviation`` pins it.
    """
    inst = data.draw(instances((valuation,), max_groups=4, max_size=4, max_items=2))
    values = inst.bids
    i = data.draw(st.integers(0, inst.groups.n_members - 1))
    mechanism = preset("dao-vickrey")
    truthful_run = mechanism.run(values, inst.groups, valuation)
    own = inst.groups.labels[i]
    others = np.delete(truthful_run.group_bids, own, axis=-1)
    assume(others.size == 0 or not (others.max(-1) == truthful_run.group_bids[..., own]).any())
    grid = np.linspace(0, 2 * values.max() + 1, 41)
    lies = np.broadcast_to(values, (grid.size, *values.shape)).copy()
    if valuation == "single":
        lies[:, i] = grid
    else:
        item = data.draw(st.integers(0, values.shape[-1] - 1))
        lies[:, i, item] = grid
    truthful = utilities(values, truthful_run)[i]
    lied = utilities(values, mechanism.run(lies, inst.groups, valuation))[:, i]
    assert lied.max() <= truthful + tolerance(inst)


def test_wtp_tie_invites_a_deviation():
    """G0 = [0.5] ties G1 = [0.5, 0.25, 0] at WTP 0.5 and wins on index. G1's top member
    (value 0.5) gets 0; bidding 0.6 wins G1 the item at 0.5, shared by two: utility 0.25."""
    groups = Groups.from_sizes([1, 3])
    values = np.array([0.5, 0.5, 0.25, 0.0])
    mechanism = preset("dao-vickrey")
    assert utilities(values, mechanism.run(values, groups))[1] == 0
    lie = values.copy()
    lie[1] = 0.6
    assert utilities(values, mechanism.run(lie, groups))[1] == pytest.approx(0.25)


# ---------------------------------------------------------------------------------------
# Welfare: Lemma 3.3 and the H_ℓ bound of Theorems 3.2 (single item) and 4.1 (additive).
@given(instances(("single",), max_groups=4, max_size=8))
def test_lemma_3_3_wtp_bound(inst):
    outcome = preset("dao-vickrey").run(inst.bids, inst.groups)
    total = np.bincount(inst.groups.labels, weights=inst.bids)
    bound = total / np.array([harmonic(int(s)) for s in inst.groups.sizes])
    assert (outcome.group_bids[0] >= bound - tolerance(inst)).all()


@given(instances(("single", "additive"), max_groups=4, max_size=6, batch=batch_shapes(1)))
def test_theorem_3_2_welfare_bound(inst):
    outcome = preset("dao-vickrey").run(inst.bids, inst.groups, inst.valuation)
    achieved = welfare(inst.bids, outcome)
    opt = optimal_welfare(inst.bids, inst.groups, inst.valuation)
    assert (opt <= harmonic(inst.groups.max_size) * achieved + tolerance(inst)).all()
    assert (achieved <= opt + tolerance(inst)).all()


# ---------------------------------------------------------------------------------------
# Engine contracts: batches and member order.
FIELDS = ("group_bids", "winner", "price", "access", "lot_payments")


def assert_same_outcome(got, want, atol=1e-12):
    for field in ("winner", "access"):
        assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    for field in ("group_bids", "price", "lot_payments"):
        assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-12, atol=atol,
                        err_msg=field)


@pytest.mark.parametrize("valuation", VALUATIONS)
@pytest.mark.parametrize("name", list(PRESETS))
@given(data=st.data())
@settings(max_examples=25)
def test_batch_equals_rows(name, valuation, data):
    inst = data.draw(instances((valuation,), batch=batch_shapes(2, 3, min_axes=1), exact=True))
    mechanism = preset(name)
    batched = mechanism.run(inst.bids, inst.groups, inst.valuation)
    assert batched.winner.shape[:-1] == inst.batch_shape
    for index in np.ndindex(*inst.batch_shape):
        row = mechanism.run(inst.bids[index], inst.groups, inst.valuation)
        got = type(row)(row.valuation, row.lots, *(getattr(batched, f)[index] for f in FIELDS))
        assert_same_outcome(got, row)


@pytest.mark.parametrize("valuation", VALUATIONS)
@pytest.mark.parametrize("name", list(PRESETS))
@given(data=st.data())
@settings(max_examples=25)
def test_shuffled_labels_give_the_same_outcome(name, valuation, data):
    """Members listed in any order: the same group bids, winners and prices, and every
    member keeps its own access and payment."""
    inst = data.draw(instances((valuation,), batch=batch_shapes(1), exact=True, shuffled=False))
    n = inst.groups.n_members
    perm = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    member_axis = -1 if inst.valuation == "single" else -2
    bids = np.take(inst.bids, perm, axis=member_axis)
    sizes_run = preset(name).run(inst.bids, Groups.from_sizes(list(inst.sizes)), inst.valuation)
    shuffled = preset(name).run(bids, Groups.from_labels(inst.groups.labels[perm]),
                                inst.valuation)
    assert_array_equal(shuffled.winner, sizes_run.winner)
    assert_allclose(shuffled.group_bids, sizes_run.group_bids, rtol=1e-12)
    assert_allclose(shuffled.price, sizes_run.price, rtol=1e-12)
    assert_array_equal(shuffled.access, sizes_run.access[..., perm])
    assert_allclose(shuffled.lot_payments, sizes_run.lot_payments[..., perm], rtol=1e-12,
                    atol=1e-12)
