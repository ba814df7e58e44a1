"""The closed-form knot table of individual bidders (``learning/exact_lots.py``): by hand, and
against the sampled table of the engine on many profiles (ties and reserve included)."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.deviations import Market
from dao_abm.equilibrium.bid_functions import Prior, cell_weights
from dao_abm.learning.exact_lots import ExactLots
from dao_abm.learning.functions import FunctionSpace, knot_table
from dao_abm.mechanisms import Groups, TwoLevelMechanism

KNOTS = np.linspace(0.0, 1.0, 5)
UNIFORM = Prior.uniform(0.0, 1.0)


def lots(price: str, reserve: float, n: int, knots: np.ndarray = KNOTS) -> ExactLots:
    return ExactLots(price, UNIFORM, reserve, np.arange(n), cell_weights(UNIFORM, knots))


def test_one_rival_bidding_half_its_value_by_hand() -> None:
    """Rival b = v/2, U[0, 1]: A(b) = min(2b, 1); first price P = b·A(b); second price
    P = b·A(b) − ∫_0^b 2x dx = b² for b <= 1/2; with reserve 0.3 a bid of 0.25 never wins and
    0.4 pays 0.3·0.6 + ∫_0.3^0.4 x·2 dx = 0.18 + 0.07 = 0.25."""
    rival = np.vstack([KNOTS, KNOTS / 2])  # member 0 truthful (its own), member 1 at v/2
    options = np.array([[0.0, 0.1, 0.25, 0.5, 0.75]])
    first = lots("first", 0.0, 2)
    access, pay = first.tables(KNOTS, rival, options, np.array([0]))
    np.testing.assert_allclose(access[0], [0.0, 0.2, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(pay[0], options[0] * access[0])
    second = lots("second", 0.0, 2)
    _, pay = second.tables(KNOTS, rival, options, np.array([0]))
    np.testing.assert_allclose(pay[0], [0.0, 0.01, 0.0625, 0.25, 0.25], atol=1e-12)
    reserve = lots("second", 0.3, 2)
    access, pay = reserve.tables(KNOTS, rival, np.array([[0.25, 0.4]]), np.array([0]))
    np.testing.assert_allclose(access[0], [0.0, 0.8])
    np.testing.assert_allclose(pay[0], [0.0, 0.25], atol=1e-6)
    np.testing.assert_allclose(first.weights, [0.125, 0.25, 0.25, 0.25, 0.125])


@pytest.mark.parametrize(("price", "reserve"), [("first", 0.0), ("second", 0.0),
                                                ("second", 0.3), ("first", 0.3)])
def test_the_closed_form_is_the_engine_on_many_profiles(price, reserve) -> None:
    """Three bidders with random non-decreasing functions, one with a flat piece (an atom: ties
    go to the lowest index, as the engine breaks them): A and P agree with the engine's
    sampled table on 200,000 profiles within 0.005 (a few standard errors)."""
    rng = np.random.default_rng(0)
    knots = np.linspace(0.0, 1.0, 9)
    kwargs = {"reserve": reserve} if reserve else {}
    market = Market(TwoLevelMechanism("wtp", f"{price}-price", "max-equal-split", **kwargs),
                    Groups.from_sizes([1, 1, 1]))
    strategies = np.sort(rng.uniform(0.0, 0.8, (3, 1, 9)), axis=-1)
    strategies[1, 0, :3] = 0.2
    bids = np.linspace(0.0, 1.0, 21)
    exact = FunctionSpace(knots, bids, exact=lots(price, reserve, 3, knots))
    sampled = knot_table(market, FunctionSpace(knots, bids),
                         rng.uniform(0.0, 1.0, (200_000, 3, 1)), strategies)
    closed = knot_table(market, exact, np.zeros((1, 3, 1)), strategies)
    np.testing.assert_allclose(closed.access, sampled.access, atol=0.005)
    np.testing.assert_allclose(closed.payment, sampled.payment, atol=0.005)
    np.testing.assert_allclose(closed.weights, sampled.weights, atol=0.005)
