"""DAO members under private values (``dao_abm.equilibrium.daos``): the engine-estimated
utilities against a hand computation, Mechanism 1's truthfulness on any sample, and what
learning reaches for small DAOs over several seeds."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.equilibrium.daos import DaoMarket, learn_daos
from dao_abm.equilibrium.soda import last
from dao_abm.errors import DaoAbmError

SMALL = {"samples": 128, "value_points": 17, "bid_points": 17, "shared": True}


def l2_to_identity(market: DaoMarket, beta: np.ndarray) -> float:
    return float(np.sqrt(((beta - market.values) ** 2) @ market.weights))


def test_utilities_of_two_individuals_by_hand():
    """Sizes (1, 1) under dao-vickrey are a second-price auction: bidding b against a rival
    with sampled value x who bids truthfully, A(b) = share of x < b (ties go to member 0,
    the lower index) and P(b) = mean of x·1{x <= b}."""
    market = DaoMarket((1, 1), "dao-vickrey", **SMALL)
    sample = market.sample(np.random.default_rng(0))
    util = market.utilities(market.values[None], sample)
    rival = sample[:, 1][:, None]
    a = (rival <= market.bids).mean(axis=0)
    p = (rival * (rival <= market.bids)).mean(axis=0)
    assert util.shape == (1, 17, 17)
    assert np.allclose(util[0], market.values[:, None] * a - p, atol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_mechanism_1_truthful_bidding_loses_nothing_on_any_sample(size):
    """Theorem 3.1 on samples: against truthful others, bidding one's value is a best
    response at every value knot, so the relative utility loss is 0; bidding v/2 is not."""
    market = DaoMarket((size, size), "dao-vickrey", **SMALL)
    sample = market.sample(np.random.default_rng(size))
    assert market.relative_utility_loss(market.values[None], sample)[0] == pytest.approx(
        0.0, abs=1e-12)
    assert market.relative_utility_loss(0.5 * market.values[None], sample)[0] > 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_mechanism_1_learns_the_identity(size, seed):
    """From bid = v/2, members of DAOs of 1-3 learn the identity within L2 0.02 (measured
    0.0002-0.005 at 17 knots), and lose less than 1e-3 on a held-out sample."""
    market = DaoMarket((size, size), "dao-vickrey", **SMALL)
    state = last(learn_daos(market, rng=np.random.default_rng(seed), iterations=80, tol=1e-5,
                            start=0.5 * market.values))
    assert l2_to_identity(market, state.beta[0]) < 0.02
    fresh = market.sample(np.random.default_rng(100 + seed))
    assert market.relative_utility_loss(state.beta, fresh)[0] < 1e-3


def test_crowdfund_shades_more_in_larger_daos():
    """Crowdfund with DAOs of one is first price between two bidders (β = v/2): the learned
    top bid is within 0.1 of 1/2; members of DAOs of 3 shade more (lower mean bid)."""
    means = {}
    for size in (1, 3):
        market = DaoMarket((size, size), "crowdfund", **SMALL)
        state = last(learn_daos(market, rng=np.random.default_rng(0), iterations=80,
                                tol=1e-5, start=0.5 * market.values))
        means[size] = float(state.beta[0] @ market.weights)
        if size == 1:
            assert state.beta[0, -1] == pytest.approx(0.5, abs=0.1)
    assert means[3] < means[1] - 0.05


def test_free_rider_members_bid_nothing_or_everything():
    """split-the-bill (sum, second price, equal split of the bill among all members), DAOs of
    3: a member's payment does not depend on its bid, so low values bid ~0 and high values
    bid the cap."""
    market = DaoMarket((3, 3), "split-the-bill", **SMALL)
    state = last(learn_daos(market, rng=np.random.default_rng(0), iterations=80, tol=1e-5,
                            start=0.5 * market.values))
    beta = state.beta[0]
    assert beta[market.values <= 0.25].max() < 0.1
    assert beta[market.values >= 0.75].min() > 0.9


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sizes": (3,), "mechanism": "dao-vickrey"}, "sizes must list at least 2 DAO sizes"),
    ({"sizes": (2, 0), "mechanism": "dao-vickrey"}, "sizes must list at least 2 DAO sizes"),
    ({"sizes": (2, 2), "mechanism": "nope"}, "nope"),
])
def test_bad_markets_give_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        DaoMarket(**kwargs)
    assert "\n" not in str(err.value)
    if "sizes" in message:
        assert isinstance(err.value, DaoAbmError)
