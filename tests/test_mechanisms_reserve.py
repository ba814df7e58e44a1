"""The reserve price of the upper mechanisms (``TwoLevelMechanism.reserve``): hand cases,
per-item reserves, and bad values."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dao_abm.mechanisms import Groups, TwoLevelMechanism


def run(upper, bids, sizes, reserve, valuation="single", cost="max-equal-split"):
    mechanism = TwoLevelMechanism("wtp", upper, cost, reserve=reserve)
    return mechanism.run(np.array(bids, dtype=float), Groups.from_sizes(sizes), valuation)


@pytest.mark.parametrize(("reserve", "winner", "price"),
                         [(0.0, 0, 3.0), (2.0, 0, 3.0), (4.0, 0, 4.0), (5.0, 0, 5.0),
                          (5.5, -1, 0.0)])
def test_second_price_pays_max_of_second_bid_and_reserve(reserve, winner, price):
    outcome = run("second-price", [5, 3], [1, 1], reserve)
    assert outcome.winner[0] == winner and outcome.price[0] == price
    assert outcome.member_payments.sum() == price  # budget balanced, or nothing sold


@pytest.mark.parametrize(("reserve", "winner", "price"), [(4.0, 0, 5.0), (6.0, -1, 0.0)])
def test_first_price_with_reserve(reserve, winner, price):
    outcome = run("first-price", [5, 3], [1, 1], reserve)
    assert outcome.winner[0] == winner and outcome.price[0] == price


def test_a_lone_group_pays_the_reserve():
    """Without a reserve a single group gets the lot for free; with one it pays it, and
    Mechanism 1's equal split charges the members who can cover p / t."""
    outcome = run("second-price", [4, 1, 3], [3], 5.0)
    assert outcome.winner[0] == 0 and outcome.price[0] == 5.0
    assert_array_equal(outcome.access[0], [True, False, True])
    assert_array_equal(outcome.member_payments, [2.5, 0.0, 2.5])


def test_one_reserve_per_item():
    """Additive, two items: item 0's reserve 6 exceeds every bid (unsold); item 1's 1 is
    below the second bid (no effect)."""
    outcome = run("second-price", [[5, 4], [3, 2]], [1, 1], (6.0, 1.0), "additive")
    assert_array_equal(outcome.winner, [-1, 0])
    assert_array_equal(outcome.price, [0.0, 2.0])


def test_bundle_reserve_is_one_number():
    outcome = run("grand-bundle", [[5, 4], [3, 2]], [1, 1], 8.0, "additive")
    assert outcome.winner[0] == 0 and outcome.price[0] == 8.0
    with pytest.raises(ValueError, match="2 entries, the auction has 1 lots"):
        run("grand-bundle", [[5, 4], [3, 2]], [1, 1], (1.0, 2.0), "additive")


@pytest.mark.parametrize(("reserve", "message"), [
    (-1.0, "finite and >= 0"), (float("nan"), "finite and >= 0"), ((), "non-empty"),
    (float("inf"), "finite and >= 0")])
def test_bad_reserves_are_refused(reserve, message):
    with pytest.raises(ValueError, match=message):
        TwoLevelMechanism("wtp", "second-price", "max-equal-split", reserve=reserve)


def test_vcg_has_no_reserve():
    with pytest.raises(ValueError, match="'vcg' has no reserve"):
        TwoLevelMechanism("wtp", "vcg", "max-equal-split", reserve=1.0)
    TwoLevelMechanism("wtp", "vcg", "max-equal-split", reserve=0.0)  # the default is fine


def test_wrong_number_of_item_reserves():
    with pytest.raises(ValueError, match="3 entries, the auction has 2 lots"):
        run("second-price", [[5, 4], [3, 2]], [1, 1], (1.0, 2.0, 3.0), "additive")
