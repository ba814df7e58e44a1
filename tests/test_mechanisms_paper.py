"""The paper's instances, reproduced with the engine ("When Bidders Are DAOs").

Each test names the result it reproduces: Mechanism 1 (Section 3.1), Lemma 3.3,
Theorems 3.2 and 3.4 (Section 3), Lemma 4.8 / Theorem 4.2 (Section 4.2), Appendix A.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from dao_abm.mechanisms import (
    Groups,
    approximation_ratio,
    optimal_welfare,
    preset,
    utilities,
    welfare,
)


def harmonic(n: int) -> float:
    return float(sum(1 / i for i in range(1, n + 1)))


# ---------------------------------------------------------------------------------------
# Mechanism 1 on a worked example (Section 3.1).
# G0 = [8, 5, 4, 1] | G1 = [9, 2] | G2 = [10]
# line 2: WTP_0 = max(8, 2·5, 3·4, 4·1) = 12, WTP_1 = max(9, 2·2) = 9, WTP_2 = 10
# line 3: j* = G0;  line 4: p = max(9, 10) = 10
# line 5: i* = max{i : i·b_i >= 10} = 3 (3·4 = 12 >= 10 > 4·1)
# lines 6-8: the top three members of G0 get the item and pay 10/3 each.
WORKED_BIDS = np.array([8.0, 5, 4, 1, 9, 2, 10])
WORKED = Groups.from_sizes([4, 2, 1])


def test_mechanism_1_worked_example():
    outcome = preset("dao-vickrey").run(WORKED_BIDS, WORKED)
    assert_allclose(outcome.group_bids, [[12, 9, 10]])
    assert_array_equal(outcome.winner, [0])
    assert_allclose(outcome.price, [10])
    assert_array_equal(outcome.access, [[1, 1, 1, 0, 0, 0, 0]])
    assert_allclose(outcome.member_payments, [10 / 3] * 3 + [0] * 4)
    # Theorem 3.1: budget-balanced and individually rational under truthful bids.
    assert outcome.budget_residual == pytest.approx(0, abs=1e-12)
    assert (utilities(WORKED_BIDS, outcome) >= 0).all()
    # Theorem 3.2: welfare 8 + 5 + 4 = 17 against OPT = W_0 = 18 <= H_4 · 17.
    assert welfare(WORKED_BIDS, outcome) == pytest.approx(17)
    assert optimal_welfare(WORKED_BIDS, WORKED, "single") == pytest.approx(18)


@pytest.mark.parametrize(("bid", "has_access"), [(10 / 3 + 1e-9, True), (10 / 3 - 1e-9, False)])
def test_mechanism_1_critical_bid(bid, has_access):
    """Theorem 3.1's proof: p / i* = 10/3 is the third member's critical bid."""
    bids = WORKED_BIDS.copy()
    bids[2] = bid
    outcome = preset("dao-vickrey").run(bids, WORKED)
    assert outcome.access[0, 2] == has_access
    if has_access:
        assert outcome.lot_payments[0, 2] == pytest.approx(10 / 3)


def test_mechanism_1_no_profitable_deviation_in_worked_example():
    """Theorem 3.1: no member gains by any bid on a grid (all deviations in one batch)."""
    grid = np.linspace(0, 15, 301)
    mechanism = preset("dao-vickrey")
    truthful = utilities(WORKED_BIDS, mechanism.run(WORKED_BIDS, WORKED))
    for i in range(WORKED_BIDS.size):
        deviations = np.tile(WORKED_BIDS, (grid.size, 1))
        deviations[:, i] = grid
        gained = utilities(WORKED_BIDS, mechanism.run(deviations, WORKED))[:, i]
        assert gained.max() <= truthful[i] + 1e-12


# ---------------------------------------------------------------------------------------
# Lemma 3.3: WTP_j >= W_j / H_{n_j}, with equality when values are 1/i.
@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_lemma_3_3_is_tight_for_harmonic_values(n):
    values = 1 / np.arange(1, n + 1)
    outcome = preset("dao-vickrey").run(values, Groups.from_sizes([n]))
    wtp = outcome.group_bids[0, 0]
    assert wtp == pytest.approx(1.0)
    assert wtp == pytest.approx(values.sum() / harmonic(n))


# ---------------------------------------------------------------------------------------
# Theorem 3.4's two instances: G1 has n-1 members valuing 1/i - δ, G2 one member valuing 1
# (instance 1), and the same with the groups swapped (instance 2).
def theorem_3_4_instance(n: int, delta: float, swapped: bool) -> tuple[np.ndarray, Groups]:
    many = 1 / np.arange(1, n) - delta
    if swapped:
        return np.concatenate(([1.0], many)), Groups.from_sizes([1, n - 1])
    return np.concatenate((many, [1.0])), Groups.from_sizes([n - 1, 1])


@pytest.mark.parametrize("swapped", [False, True], ids=["instance-1", "instance-2"])
@pytest.mark.parametrize("n", [3, 5, 10, 100])
@pytest.mark.parametrize("delta", [1e-2, 1e-4, 1e-8])
def test_theorem_3_4_ratio(n, delta, swapped):
    values, groups = theorem_3_4_instance(n, delta, swapped)
    assert (values > 0).all() and harmonic(n - 1) - (n - 1) * delta > 1  # a valid instance
    outcome = preset("dao-vickrey").run(values, groups)
    lone = 0 if swapped else 1
    # WTP of the large group is max_i i(1/i - δ) = 1 - δ < 1: the lone member wins.
    assert outcome.group_bids[0, 1 - lone] == pytest.approx(1 - delta, abs=1e-12)
    assert outcome.winner[0] == lone
    assert outcome.price[0] == pytest.approx(1 - delta, abs=1e-12)
    opt = harmonic(n - 1) - (n - 1) * delta
    assert welfare(values, outcome) == pytest.approx(1.0)
    assert optimal_welfare(values, groups, "single") == pytest.approx(opt, rel=1e-12)
    ratio = approximation_ratio(optimal_welfare(values, groups, "single"),
                                welfare(values, outcome))
    assert ratio == pytest.approx(opt, rel=1e-12)
    # ...which is within (n-1)δ of H_{n-1}, the bound of Theorem 3.2 with ℓ = n-1.
    assert harmonic(n - 1) - (n - 1) * delta - 1e-12 <= ratio <= harmonic(n - 1)


@pytest.mark.parametrize("n", [3, 10, 50])
def test_theorem_3_4_ratio_tends_to_harmonic_number(n):
    gaps = []
    for delta in [1e-3 / n, 1e-5 / n, 1e-7 / n, 1e-9 / n]:
        values, groups = theorem_3_4_instance(n, delta, swapped=False)
        outcome = preset("dao-vickrey").run(values, groups)
        ratio = optimal_welfare(values, groups, "single") / welfare(values, outcome)
        gaps.append(harmonic(n - 1) - ratio)
    assert all(0 <= gap for gap in gaps)
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-8


# ---------------------------------------------------------------------------------------
# Appendix A: VCG over WTP bids with max-equal-split shares is not truthful.
# G1 = {a: (10 + 2ε, 0), b: (5 - ε, ε)} | G2 = {c: (10, ε)}; items r, s; unit demand.
EPS = 0.01
APPENDIX_VALUES = np.array([[10 + 2 * EPS, 0], [5 - EPS, EPS], [10, EPS]])
APPENDIX_GROUPS = Groups.from_sizes([2, 1])


def test_appendix_a_truthful_outcome():
    outcome = preset("vcg-equal-split").run(APPENDIX_VALUES, APPENDIX_GROUPS, "unit-demand")
    # WTP for r: max(10 + 2ε, 2(5 - ε)) = 10 + 2ε; for s: max(ε, 2·0) = ε.
    assert_allclose(outcome.group_bids, [[10 + 2 * EPS, 10], [EPS, EPS]])
    # VCG gives r to G1 and s to G2; G1 pays 10 - (10 + 3ε - (10 + 2ε)) = 10 - ε.
    assert_array_equal(outcome.winner, [0, 1])
    assert_allclose(outcome.price, [10 - EPS, 0], atol=1e-12)
    # Only a can pay an equal share of 10 - ε (2(5 - ε) = 10 - 2ε < 10 - ε): b is out.
    assert_array_equal(outcome.access, [[1, 0, 0], [0, 0, 1]])
    assert_allclose(outcome.member_payments, [10 - EPS, 0, 0], atol=1e-12)
    assert_allclose(utilities(APPENDIX_VALUES, outcome), [3 * EPS, 0, EPS], atol=1e-12)


def test_appendix_a_profitable_deviation():
    """b bids high for s: G1 wins s instead, at VCG price 0, and b gets ε > 0 utility."""
    truthful = preset("vcg-equal-split").run(APPENDIX_VALUES, APPENDIX_GROUPS, "unit-demand")
    lie = APPENDIX_VALUES.copy()
    lie[1, 1] = 100.0
    outcome = preset("vcg-equal-split").run(lie, APPENDIX_GROUPS, "unit-demand")
    assert_array_equal(outcome.winner, [1, 0])
    assert_allclose(outcome.price, [0, 0], atol=1e-12)
    assert outcome.access[1, 1] and outcome.lot_payments[:, 1].sum() == 0
    gain = utilities(APPENDIX_VALUES, outcome)[1] - utilities(APPENDIX_VALUES, truthful)[1]
    assert gain == pytest.approx(EPS)


# ---------------------------------------------------------------------------------------
# Lemma 4.8 / Theorem 4.2: n single-member groups, n items, every value vector
# (1 + ε, 1, ..., 1). The grand bundle gives everything to one group: welfare 1 + ε, OPT n + ε.
def lemma_4_8_instance(n: int, eps: float) -> tuple[np.ndarray, Groups]:
    values = np.ones((n, n))
    values[:, 0] += eps
    return values, Groups.from_sizes([1] * n)


@pytest.mark.parametrize("n", [2, 3, 6, 12])
@pytest.mark.parametrize("eps", [1e-1, 1e-3])
def test_lemma_4_8_grand_bundle_ratio(n, eps):
    values, groups = lemma_4_8_instance(n, eps)
    outcome = preset("grand-bundle").run(values, groups, "unit-demand")
    assert_array_equal(outcome.winner, [0])  # all tied at 1 + ε: lowest index
    assert outcome.price[0] == pytest.approx(1 + eps)
    assert outcome.member_items[0].all() and not outcome.member_items[1:].any()
    assert welfare(values, outcome) == pytest.approx(1 + eps)
    opt = optimal_welfare(values, groups, "unit-demand")
    assert opt == pytest.approx(n + eps)
    assert approximation_ratio(opt, welfare(values, outcome)) == pytest.approx(
        (n + eps) / (1 + eps))


@pytest.mark.parametrize("n", [4, 9])
def test_lemma_4_8_ratio_tends_to_n(n):
    ratios = []
    for eps in [1e-1, 1e-3, 1e-6]:
        values, groups = lemma_4_8_instance(n, eps)
        outcome = preset("grand-bundle").run(values, groups, "unit-demand")
        ratios.append(float(optimal_welfare(values, groups, "unit-demand")
                            / welfare(values, outcome)))
    assert ratios == sorted(ratios)
    assert n - 1e-5 < ratios[-1] < n
