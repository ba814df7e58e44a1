"""SODA (``dao_abm.equilibrium.soda``) reaches the closed-form equilibria on small grids over
several seeds; the discretized game's symmetric and tie-losing utilities; bad grids and
settings give one-line errors naming the key."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.equilibrium.auctions import discrete_utilities
from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.metrics import equilibrium_metrics
from dao_abm.equilibrium.soda import Discretized, Settings, last, learn, soda
from dao_abm.errors import DaoAbmError

SEEDS = (0, 1, 2)
#: Small grids: each run takes well under a second.
SMALL = Settings(48, 48, iterations=1500, tol=1e-4)
SMALL_ALL_PAY = Settings(48, 96, bid_power=2.0, step_rule="decreasing", iterations=1500,
                         tol=1e-4)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("auction", "n", "reserve", "settings", "l2", "rel"), [
    ("first-price", 2, 0.0, SMALL, 0.008, 0.0015),  # measured: 0.0060, 0.0009
    ("first-price", 3, 0.0, SMALL, 0.006, 0.001),  # 0.0039, 0.0004
    ("first-price", 3, 0.5, SMALL, 0.004, 0.002),  # 0.0021, 0.0011
    ("all-pay", 2, 0.0, SMALL_ALL_PAY, 0.002, 0.0005),  # 0.0004, 0.0002
])
def test_soda_reaches_the_closed_form(auction, n, reserve, settings, l2, rel, seed):
    """From random strategies, SODA stops at the discretized tolerance well before its step
    budget, and the learned bid function is within the stated distance and relative utility
    loss of the closed form in the continuous game (the issue's targets are 0.01 and 0.002
    on 128-point grids; these 48-point grids meet them too)."""
    game = Game(auction, n, reserve=reserve, sample_size=2048)
    profile, state, _ = learn(game, settings, rng=np.random.default_rng(seed))
    assert state.relative_loss.max() < settings.tol
    assert state.iteration < settings.iterations
    metrics = equilibrium_metrics(profile, game)
    assert metrics["l2_to_bne"] < l2
    assert metrics["relative_utility_loss"] < rel


def test_reserve_learned_bids_respect_the_reserve():
    """With reserve 1/2 (n = 3): values above it bid at least r and are within 1.5 steps of
    the closed form (bid grid step 1/47; the top bid sits one step above it, where ties
    are lost); values below it bid below r (take no part), as the oracle has them."""
    game = Game("first-price", 3, reserve=0.5, sample_size=2048)
    profile, _, _ = learn(game, SMALL, rng=np.random.default_rng(0))
    above, below = np.linspace(0.52, 1.0, 25), np.linspace(0.0, 0.48, 25)
    assert (profile(above) >= 0.5 - 1e-12).all()
    assert np.abs(profile(above)[0] - game.equilibrium.bid(above, 3, 0.5)).max() < 1.5 / 47
    assert (profile(below) < 0.5).all()


def test_losing_ties_make_soda_settle():
    """SODA's discretization: with ties lost the 2-bidder first price settles below 1e-4 in
    under 100 steps; with ties split evenly it is still above 1e-3 after 300."""
    game = Game("first-price", 2)
    losses = {}
    for ties in ("lose", "split"):
        disc = Discretized.of(game, 48, 48, ties=ties)
        state = last(soda(disc, rng=np.random.default_rng(0), iterations=300, tol=1e-4))
        losses[ties] = (state.iteration, state.relative_loss.max())
    assert losses["lose"][0] < 100 and losses["lose"][1] < 1e-4
    assert losses["split"][0] == 300 and losses["split"][1] > 1e-3


@pytest.mark.parametrize("auction", ["first-price", "second-price", "all-pay"])
@pytest.mark.parametrize("ties", ["split", "lose"])
@pytest.mark.parametrize("reserve", [0.0, 0.4])
def test_symmetric_utilities_equal_the_full_profile(auction, ties, reserve):
    """One row for n alike bidders gives the same utilities as n copies of it."""
    rng = np.random.default_rng(5)
    bids, values, n = np.array([0.0, 0.2, 0.4, 0.6, 0.8]), np.array([0.1, 0.5, 0.9]), 4
    mass = rng.dirichlet(np.ones(5), size=1)
    one = discrete_utilities(auction, values, bids, mass, reserve, n, ties)
    full = discrete_utilities(auction, values, bids, np.repeat(mass, n, axis=0), reserve,
                              ties=ties)
    assert one.shape == (1, 3, 5)
    assert np.allclose(full, one[0], atol=1e-14)


def test_ties_by_hand():
    """2 bidders, the rival bids 0.25 or 0.5 with probability 1/2 each; value 0.9. Bidding
    0.5: split wins 1/2 + 1/4, lose wins 1/2 only (first price pays the bid when it wins)."""
    bids, mass = np.array([0.0, 0.25, 0.5]), np.array([[0.0, 0.5, 0.5]])
    split = discrete_utilities("first-price", np.array([0.9]), bids, mass, 0.0, 2, "split")
    lose = discrete_utilities("first-price", np.array([0.9]), bids, mass, 0.0, 2, "lose")
    assert split[0, 0].tolist() == pytest.approx([0.0, 0.65 * 0.25, 0.4 * 0.75])
    assert lose[0, 0].tolist() == pytest.approx([0.0, 0.0, 0.4 * 0.5])


@pytest.mark.parametrize(("grid", "message"), [
    ([0.0, 0.5, 0.3], "values must be strictly increasing"),
    ([-0.1, 0.5, 1.0], "values must be >= 0"),
    ([], "values must be a list of at least 2 numbers"),
    ([0.0, np.nan, 1.0], "values must be finite"),
    ("abc", "values must be a list of numbers"),
])
def test_bad_value_grids_name_the_key(grid, message):
    with pytest.raises(DaoAbmError, match=message) as err:
        Discretized.on(Game("first-price", 2), grid, np.linspace(0, 1, 5))
    assert "\n" not in str(err.value)


def test_bad_bid_grid_names_the_key():
    with pytest.raises(DaoAbmError, match="bids must be strictly increasing"):
        Discretized.on(Game("first-price", 2), np.linspace(0, 1, 5), [0.0, 0.2, 0.2])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Game("first-price", 2, reserve=1.0), r"reserve must be in \[0, 1\)"),
    (lambda: Game("first-price", 2, reserve=-0.1), r"reserve must be in \[0, 1\)"),
    (lambda: Game("first-price", 2, reserve=float("nan")), "reserve must be"),
    (lambda: Game("dutch", 2), "unknown auction 'dutch'; choose one of: first-price"),
    (lambda: Game("first-price", 1), "n >= 2"),
    (lambda: Settings(step_rule="fast"), "unknown step_rule 'fast'; choose one of: scaled"),
    (lambda: Settings(value_points=1), "value_points must be an integer >= 2"),
    (lambda: Settings(bid_power=0.0), "bid_power must be > 0"),
    (lambda: Discretized.of(Game("first-price", 2), ties="coin"),
     "unknown ties 'coin'; choose one of: split, lose"),
])
def test_bad_settings_give_one_line_errors(make, message):
    with pytest.raises(DaoAbmError, match=message) as err:
        make()
    assert "\n" not in str(err.value)
