"""The truthfulness audit (dao_abm.audit) against the paper's theorems and hand examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import bid_arrays, group_sizes

from dao_abm.audit import audit, search
from dao_abm.instances import make_instance, random_instances
from dao_abm.mechanisms import preset, resolve, utilities

TOL = 1e-9
EPS = 0.01
#: Appendix A: items (r, s), G1 = [(10 + 2ε, 0), (5 - ε, ε)], G2 = [(10, ε)], unit-demand.
APPENDIX_A = make_instance([[[10 + 2 * EPS, 0], [5 - EPS, EPS]], [[10, EPS]]], "unit-demand")


def random(n, valuation="single", n_items=1, seed=0):
    return random_instances(n, rng=np.random.default_rng(seed), valuation=valuation,
                            n_items=n_items)


def assert_clean(report, n_instances):
    assert report.instances == n_instances
    assert (report.violations, report.tie_violations) == (0, 0)
    assert report.max_gain <= TOL
    assert report.witness is None
    assert (report.budget_violations, report.ir_violations) == (0, 0)


def test_mechanism_1_is_truthful_on_300_single_item_instances():
    """Theorem 3.1: truthful, budget-balanced, individually rational."""
    instances = random(300)
    report = audit(preset("dao-vickrey"), instances)
    assert_clean(report, 300)
    assert report.members_checked == sum(inst.groups.n_members for inst in instances)


def test_mechanism_2_is_truthful_for_additive_members():
    """Theorem 4.1: item by item, Mechanism 2 stays truthful, BB and IR."""
    assert_clean(audit(preset("dao-vickrey"), random(150, "additive", 3, seed=1)), 150)


def test_grand_bundle_is_truthful_for_unit_demand_members():
    """Section 4.2: one lot of all items is a single-parameter problem per member."""
    assert_clean(audit(preset("grand-bundle"), random(150, "unit-demand", 3, seed=2)), 150)


def test_appendix_a_vcg_with_equal_split_is_not_truthful():
    """VCG gives G1 item r at 10 - ε, which member 2 (value 5 - ε) cannot share; by raising
    its bid for s above ε + (10 + 2ε) - 10 = 3ε it makes VCG give G1 item s at price 0,
    and gains its value for s: exactly ε."""
    report = audit(preset("vcg-equal-split"), [APPENDIX_A])
    assert report.violations == 1
    assert report.tie_violations == 0  # the ε = ε tie on s is one VCG never consults
    assert report.max_gain == pytest.approx(EPS, abs=1e-12)
    w = report.witness
    assert (w.instance, w.group, w.member, w.item) == (0, 0, 1, 1)
    assert w.value == [5 - EPS, EPS]
    assert w.bid[0] == 5 - EPS and w.bid[1] > 3 * EPS
    assert (w.truthful_utility, w.deviating_utility) == (0.0, pytest.approx(EPS, abs=1e-12))


def test_free_rider_violations():
    """Pooled bids, bill split over everyone: member 1 of [7, 0.5] vs [8] bids 7.5 so that
    its group wins at 8 and pays 8 / 2 = 4 < 7: a gain of exactly 3."""
    report = audit(preset("split-the-bill"), [make_instance([[7, 0.5], [8]])])
    assert report.max_gain == 3.0
    assert (report.witness.group, report.witness.member) == (0, 0)
    assert 7.5 < report.witness.bid < 7.5 + 1e-6
    random_report = audit(preset("split-the-bill"), random(60))
    assert random_report.violations > 0 and random_report.max_gain > 1
    assert random_report.ir_violations > 0  # low-value members pay p / n_j


def test_crowdfund_violations():
    """Pledges summed, first price, pro rata shares: each member pays its own pledge, so in
    [7, 2] vs [8] the member with 2 pledges just over 1 and gains 1 (up to the nudge)."""
    report = audit(preset("crowdfund"), [make_instance([[7, 2], [8]])])
    assert report.violations == 2
    assert report.max_gain == pytest.approx(1.0, abs=1e-8)
    assert (report.witness.group, report.witness.member) == (0, 1)
    assert audit(preset("crowdfund"), random(60)).violations > 0


def test_gains_that_need_a_tie_are_counted_apart():
    """split-the-bill on [3, 1] vs [4]: the sums tie at 4 and G1 wins by the tie rule, so
    member 2 pays 2 > 1 and gains 1 by bidding less. Broken the other way, the tie leaves
    it at 0 and the misreport gains nothing: a tie violation, not a violation."""
    report = audit(preset("split-the-bill"), [make_instance([[3, 1], [4]])])
    assert (report.violations, report.tie_violations) == (0, 1)
    assert report.witness is None
    assert report.ir_violations == 1


def test_budget_residual_is_reported():
    """Summed bids with max-equal-split: [1, 1, 0.1] wins at 2.05 > WTP = 2, so nobody can
    be charged and the group's payment is uncovered."""
    report = audit(resolve(aggregation="sum"), [make_instance([[1, 1, 0.1], [2.05]])])
    assert report.budget_violations == 1
    w = report.budget_witness
    assert (w.instance, w.group, w.group_payment, w.members_paid) == (0, 0, 2.05, 0.0)
    assert w.residual == 2.05


def test_ir_witness_is_the_worst_off_member():
    """split-the-bill on [7, 0.5] vs [6]: G1 wins at 6 and each member pays 3, so member 2 has
    0.5 − 3 = −2.5; in the second instance nobody is below 0."""
    report = audit(preset("split-the-bill"), [make_instance([[2], [1]]),
                                          make_instance([[7, 0.5], [6]])])
    assert report.ir_violations == 1
    w = report.ir_witness
    assert (w.instance, w.group, w.member, w.value, w.payment, w.utility) == (
        1, 0, 1, 0.5, 3.0, -2.5)


#: Three bidders alone, unit demand over two items: (10, 9), (8, 0), (0, 8).
UNIT_DEMAND = make_instance([[[10, 9]], [[8, 0]], [[0, 8]]], "unit-demand")


def test_dao_vickrey_item_by_item_is_neither_truthful_nor_ir_for_unit_demand():
    """Item by item (Mechanism 2) bidder 1 wins both items, each at the second bid 8, and
    pays 16 for what it values at max(10, 9) = 10: utility −6. Bidding 0 on item 2 it wins
    item 1 alone at 8: utility +2. The grand bundle sells both as one lot: bidder 1 (lot bid
    10) wins at 8 and keeps +2, truthfully."""
    mech = preset("dao-vickrey")
    truth = mech.run(UNIT_DEMAND.bids, UNIT_DEMAND.groups, "unit-demand")
    assert truth.member_payments.tolist() == [16.0, 0.0, 0.0]
    assert utilities(UNIT_DEMAND.bids, truth).tolist() == [-6.0, 0.0, 0.0]
    shaded = UNIT_DEMAND.bids.copy()
    shaded[0, 1] = 0.0
    deviated = mech.run(shaded, UNIT_DEMAND.groups, "unit-demand")
    assert utilities(UNIT_DEMAND.bids, deviated)[0] == 2.0
    report = audit(mech, [UNIT_DEMAND])
    assert report.violations >= 1 and report.ir_violations == 1
    assert report.max_gain >= 8.0  # from −6 to at least +2
    assert (report.ir_witness.group, report.ir_witness.utility) == (0, -6.0)
    bundle = preset("grand-bundle")
    assert utilities(UNIT_DEMAND.bids, bundle.run(UNIT_DEMAND.bids, UNIT_DEMAND.groups,
                                                  "unit-demand")).tolist() == [2.0, 0.0, 0.0]
    assert_clean(audit(bundle, [UNIT_DEMAND]), 1)


class CountingMechanism:
    def __init__(self, mech):
        self.mech, self.calls = mech, []

    def run(self, bids, groups, valuation="single", **kwargs):
        self.calls.append(np.shape(bids))
        return self.mech.run(bids, groups, valuation, **kwargs)


def test_candidates_are_batched_not_run_one_by_one(monkeypatch):
    """One call for the truthful profile, one for all candidates, and at most two more to
    re-run the tied candidates (exact breakpoints) with ties broken the other way."""
    inst = make_instance([[5, 4, 1], [7], [2, 6]])
    counting = CountingMechanism(preset("dao-vickrey"))
    audit(counting, [inst])
    assert counting.calls[:2] == [(6,), (counting.calls[1][0], 6)]
    assert counting.calls[1][0] > 50 * inst.groups.n_members
    assert len(counting.calls) <= 4
    monkeypatch.setattr(search, "MAX_CELLS", 1)  # now one batch per member, never smaller
    counting = CountingMechanism(preset("split-the-bill"))
    small = audit(counting, [inst])
    assert len(counting.calls) <= 2 + 2 * inst.groups.n_members
    assert small == audit(preset("split-the-bill"), [inst])


def test_report_to_dict():
    report = audit(preset("vcg-equal-split"), [APPENDIX_A])
    out = report.to_dict()
    assert set(out) == {"instances", "members_checked", "violations", "tie_violations",
                        "max_gain", "witness", "budget_violations", "ir_violations",
                        "ir_witness", "budget_witness"}
    assert (out["ir_witness"], out["budget_witness"]) == (None, None)
    assert out["witness"]["gain"] == pytest.approx(EPS, abs=1e-12)
    assert audit(preset("dao-vickrey"), []).to_dict()["witness"] is None


@st.composite
def small_single_item(draw):
    sizes = draw(group_sizes(min_groups=1, max_groups=4, max_size=4))
    bids = draw(bid_arrays((sum(sizes),)))
    return make_instance(np.split(bids, np.cumsum(sizes)[:-1]))


@settings(max_examples=60)
@given(small_single_item())
def test_mechanism_1_has_no_violation_on_any_small_instance(inst):
    """Ties are frequent here (bids on a grid of quarters): they may only show up as
    tie_violations, never as violations."""
    report = audit(preset("dao-vickrey"), [inst], grid_points=9)
    assert report.violations == 0, report.witness
    assert (report.budget_violations, report.ir_violations) == (0, 0)
