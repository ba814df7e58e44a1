"""Round metrics on hand-computed profiles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dao_abm.deviations import Market
from dao_abm.mechanisms import Groups, member_values, preset, utilities
from dao_abm.model import metrics as m


def test_bid_ratios_and_truthful_share() -> None:
    values = np.array([2.0, 4.0, 0.0, 0.0, 1.0])
    bids = np.array([1.0, 4.02, 0.0, 3.0, 1.005])
    np.testing.assert_allclose(m.bid_ratios(bids, values), [0.5, 1.005, 1.0, 10.0, 1.005])
    assert m.truthful_mask(bids, values, 0.01).tolist() == [False, True, True, False, True]
    out = m.strategy_metrics(bids, values, m.bid_ratios(bids, values), 0.01)
    assert out["truthful_share"] == pytest.approx(0.6)
    assert out["mean_bid_ratio"] == pytest.approx((0.5 + 1.005 + 1 + 10 + 1.005) / 5)
    assert out["max_bid_ratio"] == 10.0  # a positive bid on a value of 0
    items = m.strategy_metrics(np.array([[1.0, 3.0]]), np.array([[2.0, 2.0]]),
                               np.array([1.0]), 0.01)
    assert items["max_bid_ratio"] == 1.5  # the largest item, not the mean over items


def test_by_size_buckets() -> None:
    groups = Groups.from_sizes([1, 2, 5])  # buckets "1", "2-3", "4-7"
    ratios = np.array([0.5, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    rows = {row["dao_size"]: row for row in m.by_size(ratios, groups)}
    assert rows["1"]["mean_bid_ratio"] == 0.5 and rows["2-3"]["mean_bid_ratio"] == 0.5
    assert rows["4-7"]["mean_bid_ratio"] == pytest.approx(0.6)
    assert [rows[b]["n_daos"] for b in ("1", "2-3", "4-7")] == [1, 1, 1]
    assert [rows[b]["n_members"] for b in ("1", "2-3", "4-7")] == [1, 2, 5]
    assert math.isnan(rows["8-15"]["mean_bid_ratio"]) and rows["8-15"]["n_daos"] == 0


def test_auction_metrics_of_mechanism_1() -> None:
    groups = Groups.from_sizes([3, 1])
    bids = np.array([5.0, 4.0, 1.0, 7.0])
    outcome = preset("dao-vickrey").run(bids, groups)
    out = m.auction_metrics(member_values(bids, outcome), outcome, 10.0, groups)
    assert out["welfare"] == 9.0 and out["revenue"] == 7.0 and out["price"] == 7.0
    assert out["approximation_ratio"] == pytest.approx(10 / 9)
    assert (out["winner_dao"], out["winner_size"], out["n_access"]) == (0, 3, 2)
    assert out["budget_residual"] == 0.0 and out["negative_utility_members"] == 0


def test_ratio_edge_cases() -> None:
    assert m.ratio(0.0, 0.0) == 1.0
    assert m.ratio(2.0, 0.0) == math.inf
    assert m.ratio(3.0, 2.0) == 1.5


def test_converged_round() -> None:
    changed = [5, 3, 0, 0, 0, 1, 0, 0, 0]
    gain = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert m.converged_round(changed, gain, 1e-6, 3) == 3
    assert m.converged_round(changed, gain, 1e-6, 4) is None
    assert m.converged_round([1, 1, 1], [1.0, 0.0, 0.0], 1e-6, 2) == 2


def _own_bid(name: str, sizes: list[int], values: list[float], bids: list[float]) -> dict:
    groups = Groups.from_sizes(sizes)
    values, bids = np.array(values), np.array(bids)
    outcome = preset(name).run(bids, groups)
    return m.own_bid_metrics(Market(preset(name), groups), values, bids,
                             utilities(values, outcome))


def test_pivotal_share_separates_equivalence_from_losing_anyway() -> None:
    """Mechanism 1, DAOs {0, 1}, {2}, {3}, {4}, {5}; values (4, 4, 3, 1, 2, 7), bids
    (4, 3, 5, 0.5, 2.5, 1). WTP_0 = max(4, 2·3) = 6 beats 5 at price 5; t = 2, members 0
    and 1 pay 2.5 (utility 1.5). Member 1 bidding 4 would also win at 5 and pay 2.5 (same
    utility); members 0 and 1 bidding 0 would lose (utility 0): both pivotal and
    equivalent. Members 2, 3, 4 lose whatever they bid up to their values: not pivotal,
    though member 2 overbids. Member 5 (value 7, bid 1) would win at 6 with its value:
    pivotal and not equivalent. So outcome_truthful_share counts 5 of 6, the pivotal
    share 2 of 3."""
    out = _own_bid("dao-vickrey", [2, 1, 1, 1, 1], [4, 4, 3, 1, 2, 7], [4, 3, 5, 0.5, 2.5, 1])
    assert out["outcome_truthful_share"] == pytest.approx(5 / 6)
    assert out["pivotal_members"] == 3
    assert out["pivotal_truthful_share"] == pytest.approx(2 / 3)
    assert out["ir_failures"] == 0


def test_losers_count_as_outcome_truthful_but_not_as_pivotal() -> None:
    """20 singletons, values 1..20, all bidding half their value (second price): member 20
    wins at 9.5 (utility 10.5), as it would bidding 20. Members 11..19 would win at 10
    bidding their value (utility v - 10 > 0): they are pivotal and not equivalent. Members
    1..10 lose whatever they bid up to their value (member 10 bidding 10 ties member 20 and
    wins the tie as the lower index, at price 10: utility 0). So 11 of 20 get the truthful
    utility, but among the 10 pivotal members only member 20 does."""
    values = np.arange(1.0, 21.0)
    out = _own_bid("dao-vickrey", [1] * 20, values.tolist(), (0.5 * values).tolist())
    assert out["outcome_truthful_share"] == pytest.approx(11 / 20)
    assert out["pivotal_members"] == 10
    assert out["pivotal_truthful_share"] == pytest.approx(1 / 10)


def test_ir_failures_count_truthful_bids_that_lose_money() -> None:
    """split-the-bill (sum, second price, equal split among all): DAO {0, 1} with values
    (10, 1) bids 11 > 6 and wins at 6; each member pays 3, so member 1 loses 2 bidding
    truthfully: one IR failure, one negative realized utility. Mechanism 1 on the same
    values: WTP_0 = max(10, 2) = 10 wins at 6, only member 0 pays: no failure."""
    out = _own_bid("split-the-bill", [2, 1], [10, 1, 6], [10, 1, 6])
    assert out["ir_failures"] == 1
    assert _own_bid("dao-vickrey", [2, 1], [10, 1, 6], [10, 1, 6])["ir_failures"] == 0
    groups = Groups.from_sizes([2, 1])
    bids = np.array([10.0, 1, 6])
    outcome = preset("split-the-bill").run(bids, groups)
    row = m.auction_metrics(member_values(bids, outcome), outcome, 11.0, groups)
    assert row["negative_utility_members"] == 1


def test_negative_utility_counts_overbidding_winners() -> None:
    """Mechanism 1, singletons with values (3, 4): member 0 bids 5, wins at 4: utility -1.
    Truthful, it would lose (utility 0): not an IR failure."""
    groups = Groups.from_sizes([1, 1])
    values, bids = np.array([3.0, 4.0]), np.array([5.0, 4.0])
    outcome = preset("dao-vickrey").run(bids, groups)
    row = m.auction_metrics(member_values(values, outcome), outcome, 4.0, groups)
    assert row["negative_utility_members"] == 1
    out = m.own_bid_metrics(Market(preset("dao-vickrey"), groups), values, bids,
                            utilities(values, outcome))
    assert (out["ir_failures"], out["pivotal_members"], out["pivotal_truthful_share"]) == (
        0, 1, 0.0)


def test_run_summary_keeps_zero_welfare_rounds() -> None:
    """Rounds with OPT (3, 4, 5) and welfare (3, 2, 0): round 3's ratio is infinite, so the
    mean of ratios (1, 2, inf) is undefined and the summary gives ΣOPT/ΣW = 12/5."""
    import pandas as pd

    from dao_abm.runner import ratio_summary

    out = ratio_summary(pd.Series([3.0, 4.0, 5.0]), pd.Series([3.0, 2.0, 0.0]))
    assert out == {"zero_welfare_rounds": 1, "mean_approximation_ratio": 2.4,
                   "mean_approximation_ratio_kind": "ratio of sums", "cumulative_ratio": 2.4}
    out = ratio_summary(pd.Series([3.0, 4.0]), pd.Series([3.0, 2.0]))
    assert out["mean_approximation_ratio"] == 1.5 and out["zero_welfare_rounds"] == 0
    assert out["mean_approximation_ratio_kind"] == "mean of ratios"
    assert out["cumulative_ratio"] == pytest.approx(7 / 5)
