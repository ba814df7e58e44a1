"""Round metrics on hand-computed profiles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dao_abm.mechanisms import Groups, member_values, preset
from dao_abm.model import metrics as m


def test_bid_ratios_and_truthful_share() -> None:
    values = np.array([2.0, 4.0, 0.0, 0.0, 1.0])
    bids = np.array([1.0, 4.02, 0.0, 3.0, 1.005])
    np.testing.assert_allclose(m.bid_ratios(bids, values), [0.5, 1.005, 1.0, 10.0, 1.005])
    assert m.truthful_mask(bids, values, 0.01).tolist() == [False, True, True, False, True]
    out = m.strategy_metrics(bids, values, m.bid_ratios(bids, values), 0.01)
    assert out["truthful_share"] == pytest.approx(0.6)
    assert out["mean_bid_ratio"] == pytest.approx((0.5 + 1.005 + 1 + 10 + 1.005) / 5)


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
    assert out["budget_residual"] == 0.0 and out["ir_violations"] == 0


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
