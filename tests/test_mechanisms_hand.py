"""Hand-computed outcomes: every registry entry on small instances worked out on paper.

Notation in the comments: G0 | G1 | ... list each group's member bids; WTP_j = max_i i·b_(i)
over bids sorted high to low (Section 3.1); t = max{i : i·b_(i) >= p}.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from dao_abm.mechanisms import Groups, TwoLevelMechanism, preset, welfare

T, F = True, False


def run(mechanism: TwoLevelMechanism, bids, sizes, valuation="single"):
    return mechanism.run(np.asarray(bids, dtype=float), Groups.from_sizes(sizes), valuation)


def check(outcome, group_bids, winner, price, access, payments):
    assert_allclose(outcome.group_bids, group_bids, rtol=0, atol=1e-12)
    assert_array_equal(outcome.winner, winner)
    assert_allclose(outcome.price, price, rtol=0, atol=1e-12)
    assert_array_equal(outcome.access, access)
    assert_allclose(outcome.lot_payments, payments, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Single item. G0 = [4, 3, 1] | G1 = [5, 2] | G2 = [5.5]
#   wtp: G0 max(4, 2·3, 3·1) = 6, G1 max(5, 2·2) = 5, G2 5.5
#   sum: 8, 7, 5.5          max: 4, 5, 5.5
SINGLE_BIDS = [4, 3, 1, 5, 2, 5.5]
SINGLE_SIZES = [3, 2, 1]
WTP, SUM, MAX = [6, 5, 5.5], [8, 7, 5.5], [4, 5, 5.5]

SINGLE_CASES = {
    # G0 wins, pays G2's 5.5; t = 2 (2·3 >= 5.5 > 3·1): the top two pay 2.75 each.
    ("wtp", "second-price", "max-equal-split"): (
        WTP, 0, 5.5, [T, T, F, F, F, F], [2.75, 2.75, 0, 0, 0, 0]),
    # Pay-your-bid 6; t = 2 (2·3 >= 6): 3 each.
    ("wtp", "first-price", "max-equal-split"): (
        WTP, 0, 6, [T, T, F, F, F, F], [3, 3, 0, 0, 0, 0]),
    # VCG and the grand bundle on one item are the Vickrey auction.
    ("wtp", "vcg", "max-equal-split"): (
        WTP, 0, 5.5, [T, T, F, F, F, F], [2.75, 2.75, 0, 0, 0, 0]),
    ("wtp", "grand-bundle", "max-equal-split"): (
        WTP, 0, 5.5, [T, T, F, F, F, F], [2.75, 2.75, 0, 0, 0, 0]),
    # Everyone in G0 pays 5.5 / 3.
    ("wtp", "second-price", "equal-split-all"): (
        WTP, 0, 5.5, [T, T, T, F, F, F], [5.5 / 3] * 3 + [0, 0, 0]),
    # Pro rata 5.5 · b / 8: 2.75, 2.0625, 0.6875.
    ("wtp", "second-price", "proportional"): (
        WTP, 0, 5.5, [T, T, T, F, F, F], [2.75, 2.0625, 0.6875, 0, 0, 0]),
    # split-the-bill: G0 pays G1's pledge 7, split over its three members.
    ("sum", "second-price", "equal-split-all"): (
        SUM, 0, 7, [T, T, T, F, F, F], [7 / 3] * 3 + [0, 0, 0]),
    # crowdfund: G0 pays its pledge 8, each member exactly its bid.
    ("sum", "first-price", "proportional"): (
        SUM, 0, 8, [T, T, T, F, F, F], [4, 3, 1, 0, 0, 0]),
    # p = 7 > WTP_0 = 6: no equal split covers it, nobody gets access (shortfall 7).
    ("sum", "second-price", "max-equal-split"): (
        SUM, 0, 7, [F] * 6, [0] * 6),
    # G2's lone member wins at G1's 5.
    ("max", "second-price", "max-equal-split"): (
        MAX, 2, 5, [F, F, F, F, F, T], [0, 0, 0, 0, 0, 5]),
    ("max", "first-price", "proportional"): (
        MAX, 2, 5.5, [F, F, F, F, F, T], [0, 0, 0, 0, 0, 5.5]),
    ("max", "grand-bundle", "equal-split-all"): (
        MAX, 2, 5, [F, F, F, F, F, T], [0, 0, 0, 0, 0, 5]),
}


@pytest.mark.parametrize("parts", list(SINGLE_CASES), ids="/".join)
def test_single_item(parts):
    group_bids, winner, price, access, payments = SINGLE_CASES[parts]
    outcome = run(TwoLevelMechanism(*parts), SINGLE_BIDS, SINGLE_SIZES)
    check(outcome, [group_bids], [winner], [price], [access], [payments])
    assert outcome.revenue == pytest.approx(price)


def test_shortfall_is_the_budget_residual():
    outcome = run(TwoLevelMechanism("sum", "second-price", "max-equal-split"), SINGLE_BIDS,
                  SINGLE_SIZES)
    assert outcome.budget_residual == pytest.approx(7.0)


def test_proportional_excludes_zero_bids():
    # G0 = [4, 0] | G1 = [3]: WTP_0 = max(4, 2·0) = 4 wins at 3; the zero bid gets nothing.
    outcome = run(TwoLevelMechanism("wtp", "second-price", "proportional"), [4, 0, 3], [2, 1])
    check(outcome, [[4, 3]], [0], [3], [[T, F, F]], [[3, 0, 0]])


# ---------------------------------------------------------------------------------------
# Two items, G0 = {m0: (3, 1), m1: (2, 4)} | G1 = {m2: (5, 2)}.
#   item 0: WTP_0 = max(3, 2·2) = 4, WTP_1 = 5      item 1: WTP_0 = max(4, 2·1) = 4, WTP_1 = 2
TWO_ITEMS = [[3, 1], [2, 4], [5, 2]]


@pytest.mark.parametrize("valuation", ["additive", "unit-demand"])
def test_dao_vickrey_two_items(valuation):
    # Item 0: G1 wins at 4, m2 pays 4. Item 1: G0 wins at 2, t = 2 (2·1 >= 2), 1 each.
    outcome = run(preset("dao-vickrey"), TWO_ITEMS, [2, 1], valuation)
    check(outcome, [[4, 5], [4, 2]], [1, 0], [4, 2],
          [[F, F, T], [T, T, F]], [[0, 0, 4], [1, 1, 0]])
    assert_allclose(outcome.member_payments, [1, 1, 4])
    assert_array_equal(outcome.member_items, [[F, T], [F, T], [T, F]])
    # Welfare with values = bids: m0 gets 1, m1 gets 4, m2 gets 5 (either class).
    assert welfare(np.array(TWO_ITEMS, float), outcome) == pytest.approx(10)


def test_grand_bundle_two_items_additive():
    # Bundle bids are sums: 4 | 6 | 7. WTP_0 = max(6, 2·4) = 8 beats 7; t = 2, 3.5 each.
    outcome = run(preset("grand-bundle"), TWO_ITEMS, [2, 1], "additive")
    check(outcome, [[8, 7]], [0], [7], [[T, T, F]], [[3.5, 3.5, 0]])
    assert_array_equal(outcome.lots, [[T, T]])
    assert_array_equal(outcome.member_items, [[T, T], [T, T], [F, F]])
    assert welfare(np.array(TWO_ITEMS, float), outcome) == pytest.approx(10)


def test_grand_bundle_two_items_unit_demand():
    # Bundle bids are maxima: 3 | 4 | 5. WTP_0 = max(4, 2·3) = 6 beats 5; t = 2, 2.5 each.
    outcome = run(preset("grand-bundle"), TWO_ITEMS, [2, 1], "unit-demand")
    check(outcome, [[6, 5]], [0], [5], [[T, T, F]], [[2.5, 2.5, 0]])
    # m0 values {0, 1} at max(3, 1) = 3, m1 at max(2, 4) = 4.
    assert welfare(np.array(TWO_ITEMS, float), outcome) == pytest.approx(7)


def test_vcg_two_items_additive_is_vickrey_per_item():
    outcome = run(TwoLevelMechanism("wtp", "vcg", "max-equal-split"), TWO_ITEMS, [2, 1],
                  "additive")
    check(outcome, [[4, 5], [4, 2]], [1, 0], [4, 2],
          [[F, F, T], [T, T, F]], [[0, 0, 4], [1, 1, 0]])


def test_vcg_two_items_unit_demand():
    # Group values (rows G0, G1; columns items): [[4, 4], [5, 2]]. Best assignment
    # G0 <- 1, G1 <- 0 (9 > 6). Clarke: G0 pays OPT(-G0) - (9 - 4) = 5 - 5 = 0,
    # G1 pays 4 - (9 - 5) = 0. At price 0 both G0 members share item 1 for free.
    outcome = run(preset("vcg-equal-split"), TWO_ITEMS, [2, 1], "unit-demand")
    check(outcome, [[4, 5], [4, 2]], [1, 0], [0, 0],
          [[F, F, T], [T, T, F]], [[0, 0, 0], [0, 0, 0]])


# ---------------------------------------------------------------------------------------
# Three items, unit demand. G0 = {m0: (6, 2, 0)} | G1 = {m1: (5, 4, 1)} |
# G2 = {m2: (3, 3, 2), m3: (1, 3, 2)}. WTP_2 per item: max(3, 2·1) = 3, max(3, 2·3) = 6,
# max(2, 2·2) = 4, so the group bids per item are [6, 5, 3], [2, 4, 6], [0, 1, 4].
THREE_ITEMS = [[6, 2, 0], [5, 4, 1], [3, 3, 2], [1, 3, 2]]
THREE_SIZES = [1, 1, 2]
THREE_GROUP_BIDS = [[6, 5, 3], [2, 4, 6], [0, 1, 4]]


def test_vcg_three_items_unit_demand():
    # Group values [[6, 2, 0], [5, 4, 1], [3, 6, 4]]: best assignment is the diagonal, 14.
    # OPT(-G0) = 5 + 6 = 11 -> p0 = 11 - (14 - 6) = 3;  OPT(-G1) = 6 + 6 = 12 -> p1 = 2;
    # OPT(-G2) = 6 + 4 = 10 -> p2 = 0.
    outcome = run(preset("vcg-equal-split"), THREE_ITEMS, THREE_SIZES, "unit-demand")
    check(outcome, THREE_GROUP_BIDS, [0, 1, 2], [3, 2, 0],
          [[T, F, F, F], [F, T, F, F], [F, F, T, T]],
          [[3, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0]])


def test_dao_vickrey_three_items_unit_demand():
    # Item 0: G0 at 5. Item 1: G2 at 4, t = 2 (2·3 >= 4), 2 each. Item 2: G2 at 1,
    # t = 2 (2·2 >= 1), 0.5 each.
    outcome = run(preset("dao-vickrey"), THREE_ITEMS, THREE_SIZES, "unit-demand")
    check(outcome, THREE_GROUP_BIDS, [0, 2, 2], [5, 4, 1],
          [[T, F, F, F], [F, F, T, T], [F, F, T, T]],
          [[5, 0, 0, 0], [0, 0, 2, 2], [0, 0, 0.5, 0.5]])
    assert_allclose(outcome.member_payments, [5, 0, 2.5, 2.5])
    # m0: 6; m2: max(3, 2) = 3; m3: max(3, 2) = 3.
    assert welfare(np.array(THREE_ITEMS, float), outcome) == pytest.approx(12)


def test_first_price_three_items_unit_demand():
    # Item 0: G0 pays 6. Item 1: G2 pays 6, t = 2, 3 each. Item 2: G2 pays 4, 2 each.
    outcome = run(TwoLevelMechanism("wtp", "first-price", "max-equal-split"), THREE_ITEMS,
                  THREE_SIZES, "unit-demand")
    check(outcome, THREE_GROUP_BIDS, [0, 2, 2], [6, 6, 4],
          [[T, F, F, F], [F, F, T, T], [F, F, T, T]],
          [[6, 0, 0, 0], [0, 0, 3, 3], [0, 0, 2, 2]])


def test_grand_bundle_three_items_tie_goes_to_lowest_index():
    # Bundle bids (max): 6 | 5 | 3, 3 -> WTP_2 = max(3, 2·3) = 6 ties G0's 6: G0 wins,
    # pays 6 (the tied second-highest bid).
    outcome = run(preset("grand-bundle"), THREE_ITEMS, THREE_SIZES, "unit-demand")
    check(outcome, [[6, 5, 6]], [0], [6], [[T, F, F, F]], [[6, 0, 0, 0]])


# ---------------------------------------------------------------------------------------
# Ties and equal treatment.
@pytest.mark.parametrize("upper", ["second-price", "first-price", "vcg", "grand-bundle"])
def test_equal_group_bids_lowest_index_wins(upper):
    outcome = run(TwoLevelMechanism("wtp", upper, "max-equal-split"), [5, 7, 7], [1, 1, 1])
    check(outcome, [[5, 7, 7]], [1], [7], [[F, T, F]], [[0, 7, 0]])


@pytest.mark.parametrize("upper", ["second-price", "first-price", "vcg", "grand-bundle"])
def test_all_zero_bids_go_to_group_zero_for_free(upper):
    outcome = run(TwoLevelMechanism("wtp", upper, "max-equal-split"), [0, 0, 0], [2, 1])
    check(outcome, [[0, 0]], [0], [0], [[T, T, F]], [[0, 0, 0]])


def test_single_group_pays_the_zero_reserve():
    # WTP = max(3, 2·1) = 3, no competitor: the lot sells at 0 and every member
    # (2·1 >= 0) shares it.
    outcome = run(preset("dao-vickrey"), [3, 1], [2])
    check(outcome, [[3]], [0], [0], [[T, T]], [[0, 0]])


@pytest.mark.parametrize("cost_sharing", ["max-equal-split", "equal-split-all", "proportional"])
def test_equal_member_bids_equal_treatment(cost_sharing):
    # G0 = [4, 4, 4] | G1 = [7]: WTP_0 = 12 wins at 7; all three share it, 7/3 each.
    outcome = run(TwoLevelMechanism("wtp", "second-price", cost_sharing), [4, 4, 4, 7], [3, 1])
    check(outcome, [[12, 7]], [0], [7], [[T, T, T, F]], [[7 / 3] * 3 + [0]])


def test_tied_members_at_the_cutoff_are_not_split():
    # G0 = [6, 2.5, 2.5] | G1 = [7]: products 6, 5, 7.5; t(7) = 3, so both 2.5s are in.
    outcome = run(preset("dao-vickrey"), [6, 2.5, 2.5, 7], [3, 1])
    check(outcome, [[7.5, 7]], [0], [7], [[T, T, T, F]], [[7 / 3] * 3 + [0]])


def test_tied_members_below_the_cutoff_are_both_out():
    # G0 = [9, 1, 1] | G1 = [8]: products 9, 2, 3; WTP_0 = 9 wins at 8, t = 1.
    outcome = run(preset("dao-vickrey"), [9, 1, 1, 8], [3, 1])
    check(outcome, [[9, 8]], [0], [8], [[T, F, F, F]], [[8, 0, 0, 0]])


def test_shuffled_members_keep_their_own_outcome():
    # The single-item case with members listed out of group order.
    perm = np.array([5, 2, 0, 4, 1, 3])
    labels = np.repeat([0, 1, 2], SINGLE_SIZES)[perm]
    bids = np.array(SINGLE_BIDS)[perm]
    outcome = preset("dao-vickrey").run(bids, Groups.from_labels(labels))
    assert_array_equal(outcome.access[0], np.array([T, T, F, F, F, F])[perm])
    assert_allclose(outcome.lot_payments[0], np.array([2.75, 2.75, 0, 0, 0, 0])[perm])


def test_vcg_price_rounding_never_exceeds_the_bid():
    """Regression: with b = 1.910885061964363, the Clarke pivot in floats gives
    (b + 64) - ((b + 64) - b) = 1.9108850619643647 > b; unclamped, max-equal-split found no
    equal split covering it, so G0 won item 0, nobody got access and nobody paid."""
    b = 1.910885061964363
    values = np.array([[b, 0.0], [b, 0.0], [0.0, 64.0]])
    outcome = run(preset("vcg-equal-split"), values, [1, 1, 1], "unit-demand")
    assert_array_equal(outcome.winner, [0, 2])
    assert outcome.price[0] <= b
    assert_array_equal(outcome.access, [[T, F, F], [F, F, T]])
    assert outcome.budget_residual == 0


def test_the_old_preset_name_free_rider_still_names_split_the_bill():
    from dao_abm.mechanisms import preset

    assert preset("free-rider") == preset("split-the-bill")
