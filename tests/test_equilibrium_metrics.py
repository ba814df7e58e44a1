"""Equilibrium metrics (``dao_abm.equilibrium.metrics``) on profiles whose losses we can
compute by hand, and the discretized game's utilities against the engine."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dao_abm.equilibrium.auctions import discrete_utilities
from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.bid_functions import BidFunctions
from dao_abm.equilibrium.metrics import (
    epsilon_interim,
    equilibrium_metrics,
    l2_to_bne,
    linf_to_bne,
    relative_utility_loss,
    utility_loss,
)
from dao_abm.mechanisms import Groups, TwoLevelMechanism

KNOTS = np.linspace(0, 1, 33)


def linear(slope: float, n: int) -> BidFunctions:
    return BidFunctions(KNOTS, np.tile(slope * KNOTS, (n, 1)))


def test_truthful_first_price_loses_everything():
    """2 bidders, first price, both truthful: utility 0; a best response to a truthful
    rival bids v/2 and earns v²/4, so utility_loss = E[v²/4] = 1/12, relative 1,
    epsilon_interim = 1/4 (at v = 1), and L2 = sqrt(E[(v/2)²]) = sqrt(1/12)."""
    profile, game = linear(1.0, 2), Game("first-price", 2, sample_size=4096)
    assert utility_loss(profile, game) == pytest.approx([1 / 12] * 2, abs=2e-6)
    assert relative_utility_loss(profile, game) == pytest.approx([1.0, 1.0], abs=1e-6)
    assert epsilon_interim(profile, game) == pytest.approx([0.25, 0.25], abs=1e-6)
    assert l2_to_bne(profile, game) == pytest.approx([np.sqrt(1 / 12)] * 2, abs=1e-6)
    assert linf_to_bne(profile, game) == pytest.approx([0.5, 0.5], abs=1e-3)


def test_overshading_first_price_by_hand():
    """Both bid 0.45 v (n = 2): own utility E[0.55 v²] = 0.55/3; a best response bids v/2
    up to v = 0.9 (earning v²/1.8) and 0.45 above (earning v − 0.45), in all
    0.729/5.4 + 0.05 = 0.185, so utility_loss = 0.185 − 0.55/3 = 1/600."""
    metrics = equilibrium_metrics(linear(0.45, 2), Game("first-price", 2))
    assert metrics["utility_loss"] == pytest.approx(1 / 600, rel=1e-3)
    assert metrics["relative_utility_loss"] == pytest.approx((1 / 600) / 0.185, rel=1e-3)


def test_shading_in_second_price_by_hand():
    """Both bid v/2 in second price (n = 2): own utility 0.75 v² (E = 1/4); a best response
    bids v, earning v² below 1/2 and v − 1/4 above: E = 1/24 + 1/4; the loss is 1/24."""
    assert utility_loss(linear(0.5, 2), Game("second-price", 2)) == pytest.approx(
        [1 / 24] * 2, rel=1e-3)


@pytest.mark.parametrize("auction", ["first-price", "second-price", "all-pay"])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_the_equilibrium_has_no_loss(auction, n):
    """The closed form on 257 knots: no loss beyond its interpolation (vⁿ for all-pay)."""
    game = Game(auction, n)
    bids = game.equilibrium.bid(np.linspace(0, 1, 257), n, 0.0)
    metrics = equilibrium_metrics(BidFunctions(np.linspace(0, 1, 257), np.tile(bids, (n, 1))),
                                  game)
    assert metrics["l2_to_bne"] < 1e-4
    assert metrics["relative_utility_loss"] < 3e-4
    assert metrics["epsilon_interim"] < 1e-4


def test_reserve_equilibrium_has_no_loss():
    game = Game("first-price", 3, reserve=0.4)
    knots = np.union1d(np.linspace(0, 1, 129), [0.4])
    bids = np.tile(game.equilibrium.bid(knots, 3, 0.4), (3, 1))
    metrics = equilibrium_metrics(BidFunctions(knots, bids), game)
    assert metrics["l2_to_bne"] < 2e-3  # the jump at r is interpolated over one cell
    assert metrics["relative_utility_loss"] < 1e-3


def test_non_monotone_profiles_use_the_common_sample():
    """A non-monotone profile's bid CDF comes from the sample; for a monotone profile both
    paths agree within the sample's resolution."""
    profile = BidFunctions(KNOTS, np.tile(0.5 * KNOTS, (2, 1)))
    game = Game("first-price", 2, sample_size=2000)
    wiggle = profile.bids.copy()
    wiggle[:, 5] += 0.04
    bent = BidFunctions(KNOTS, wiggle)
    assert not bent.is_monotone() and bent.monotone().is_monotone()
    b = np.linspace(0, 0.5, 11)
    exact = profile.bid_cdf(b, game.prior, game.sample)
    sampled = np.stack([np.searchsorted(np.sort(0.5 * game.sample), b, side="right")] * 2
                       ) / game.sample.size
    assert np.abs(exact - sampled).max() <= 1 / game.sample.size + 1e-12
    assert utility_loss(bent, game).min() > 0


def test_asymmetric_profile_uses_each_rivals_function():
    """Bidder 0 bids v/2, bidder 1 bids v: bidder 1 loses 1/12 (as in the truthful case);
    bidder 0 faces a truthful rival and is at its best response (loss 0)."""
    profile = BidFunctions(KNOTS, np.stack([0.5 * KNOTS, KNOTS]))
    loss = utility_loss(profile, Game("first-price", 2))
    assert loss[0] == pytest.approx(0.0, abs=1e-6)
    assert loss[1] > 0.01


@pytest.mark.parametrize("upper", ["first-price", "second-price"])
@pytest.mark.parametrize("reserve", [0.0, 0.5])
def test_discrete_utilities_match_the_engine(upper, reserve):
    """3 bidders with random distributions over 4 bids (ties are common): the discretized
    game's utility equals the engine's, enumerating every bid profile and every order of
    the bidders (the engine breaks ties by index, so averaging over orders splits them)."""
    rng = np.random.default_rng(3)
    bids, n, value = np.array([0.0, 0.25, 0.5, 0.75]), 3, 0.9
    mass = rng.dirichlet(np.ones(4), size=n)
    util = discrete_utilities(upper, np.array([value]), bids, mass, reserve)[0, 0]
    mechanism = TwoLevelMechanism("wtp", upper, "max-equal-split", reserve=reserve)
    groups = Groups.from_sizes([1] * n)
    for m, own in enumerate(bids):
        expected = 0.0
        for b1, b2 in itertools.product(range(4), repeat=2):
            prob = mass[1, b1] * mass[2, b2]
            for order in itertools.permutations(range(n)):
                profile = np.array([own, bids[b1], bids[b2]])[list(order)]
                outcome = mechanism.run(profile, groups)
                me = order.index(0)
                won = outcome.access[0, me]
                expected += prob / 6 * (value * won - outcome.member_payments[me])
        assert util[m] == pytest.approx(expected, abs=1e-12)
