"""Welfare, utilities, the optimum (Section 2) and the approximation ratio.

``optimal_welfare`` is checked against brute force over every allocation of items to
groups (each item to one group or to nobody; every member of a group gets all its items,
footnote 4 of the paper).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose
from strategies import GRID, bid_arrays, memberships

from dao_abm.mechanisms import (
    Groups,
    approximation_ratio,
    member_values,
    optimal_welfare,
    preset,
    utilities,
    welfare,
)


def brute_force_optimum(values: np.ndarray, labels: np.ndarray, valuation: str) -> float:
    """``values`` (n, m): max over all (k + 1)^m allocations of the members' total value."""
    k, m = int(labels.max()) + 1, values.shape[1]
    best = 0.0
    for owner in itertools.product(range(-1, k), repeat=m):
        held = np.array(owner)[None, :] == labels[:, None]  # (n, m) member can use item
        worth = np.where(held, values, 0.0)
        total = worth.max(axis=1).sum() if valuation == "unit-demand" else worth.sum()
        best = max(best, float(total))
    return best


#: Zero or at least 1e-3: HiGHS's absolute tolerances (~1e-6) swamp smaller values, see
#: ``test_unit_demand_optimum_of_tiny_values``.
SOLVER_SCALE = st.one_of(GRID, st.floats(1e-3, 100))


@given(memberships(max_groups=3, max_size=3), st.integers(1, 3), st.data())
def test_unit_demand_optimum_matches_brute_force(groups, m, data):
    values = data.draw(hnp.arrays(np.float64, (groups.n_members, m), elements=SOLVER_SCALE))
    want = brute_force_optimum(values, groups.labels, "unit-demand")
    assert optimal_welfare(values, groups, "unit-demand") == pytest.approx(want, rel=1e-9,
                                                                          abs=1e-9)


def test_unit_demand_optimum_of_tiny_values():
    """Regression: HiGHS' absolute tolerances once returned 1e-7 here (values are now scaled)."""
    # One group, two members who each want a different item: the group takes both,
    # OPT = 1e-7 + 1e-7. The grand bundle achieves it, so the ratio must not drop below 1.
    values = np.array([[1e-7, 0.0], [0.0, 1e-7]])
    groups = Groups.from_sizes([2])
    opt = optimal_welfare(values, groups, "unit-demand")
    assert opt == pytest.approx(2e-7, rel=1e-9)
    mixed = np.array([[1.0, 0.0, 0.0], [0.0, 1e-7, 0.0], [0.0, 0.0, 2e-7]])
    assert optimal_welfare(mixed, Groups.from_sizes([3]), "unit-demand") == pytest.approx(
        1.0 + 3e-7, rel=1e-12)


@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_unit_demand_optimum_single_member_groups(k, m, data):
    """The assignment-problem path (every group has one member)."""
    values = data.draw(bid_arrays((k, m)))
    groups = Groups.from_sizes([1] * k)
    want = brute_force_optimum(values, groups.labels, "unit-demand")
    assert optimal_welfare(values, groups, "unit-demand") == pytest.approx(want, rel=1e-9,
                                                                          abs=1e-9)


@given(memberships(max_groups=3, max_size=3), st.integers(1, 3), st.data())
def test_additive_optimum_matches_brute_force(groups, m, data):
    values = data.draw(bid_arrays((groups.n_members, m)))
    want = brute_force_optimum(values, groups.labels, "additive")
    assert optimal_welfare(values, groups, "additive") == pytest.approx(want, rel=1e-9, abs=1e-9)
    single = values[:, 0]
    assert optimal_welfare(single, groups, "single") == pytest.approx(
        brute_force_optimum(single[:, None], groups.labels, "additive"), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("valuation", ["single", "additive", "unit-demand"])
@given(memberships(max_groups=3, max_size=2), st.data())
@settings(max_examples=30)
def test_optimum_batches_row_by_row(valuation, groups, data):
    shape = (2, 2, groups.n_members) + (() if valuation == "single" else (2,))
    values = data.draw(bid_arrays(shape))
    got = optimal_welfare(values, groups, valuation)
    assert got.shape == (2, 2)
    for index in np.ndindex(2, 2):
        assert got[index] == pytest.approx(optimal_welfare(values[index], groups, valuation))


def test_unit_demand_optimum_shares_within_a_group():
    # One group of two members who want different items, one rival wanting item 0:
    # G0 = {(4, 0), (0, 3)} | G1 = {(5, 0)}. Best: item 0 to G1 (5), item 1 to G0 (3) = 8,
    # against 7 for both items to G0.
    values = np.array([[4.0, 0], [0, 3], [5, 0]])
    groups = Groups.from_sizes([2, 1])
    assert optimal_welfare(values, groups, "unit-demand") == pytest.approx(8)
    assert optimal_welfare(values, groups, "additive") == pytest.approx(8)
    # With (2, 3) for the second member, additive values give G0 both items (6 + 3 = 9);
    # unit-demand members value a bundle at its best item, so the split (5 + 3) still wins.
    values[1] = [2, 3]
    assert optimal_welfare(values, groups, "unit-demand") == pytest.approx(8)
    assert optimal_welfare(values, groups, "additive") == pytest.approx(9)


# ---------------------------------------------------------------------------------------
# Member values, utilities and welfare of an outcome.
def test_member_values_by_valuation_class():
    # Grand bundle: members 0 and 1 of G0 get both items; member 2 of G1 gets nothing.
    values = np.array([[3.0, 1], [2, 4], [5, 2]])
    groups = Groups.from_sizes([2, 1])
    additive = preset("grand-bundle").run(values, groups, "additive")
    unit = preset("grand-bundle").run(values, groups, "unit-demand")
    assert_allclose(member_values(values, additive), [4, 6, 0])
    assert_allclose(member_values(values, unit), [3, 4, 0])
    assert_allclose(utilities(values, additive), [4 - 3.5, 6 - 3.5, 0])
    assert_allclose(utilities(values, unit), [0.5, 1.5, 0])
    assert welfare(values, additive) == pytest.approx(10)
    assert welfare(values, unit) == pytest.approx(7)


def test_welfare_uses_values_not_bids():
    groups = Groups.from_sizes([1, 1])
    outcome = preset("dao-vickrey").run(np.array([[1.0, 2.0], [3.0, 4.0]]), groups)
    values = np.array([[10.0, 20.0], [30.0, 40.0]])
    assert_allclose(welfare(values, outcome), [20, 40])
    assert_allclose(utilities(values, outcome), [[0, 20 - 1], [0, 40 - 3]])


def test_approximation_ratio_edge_cases():
    assert_allclose(approximation_ratio([6.0, 0.0, 5.0], [3.0, 0.0, 0.0]), [2.0, 1.0, np.inf])
    assert approximation_ratio(4.0, 4.0) == 1.0
