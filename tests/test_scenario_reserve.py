"""The scenario's ``mechanism.reserve`` (learning's deviation outcomes against brute force,
bad values naming the key) and the equilibrium metrics a run of individual bidders writes
(``equilibrium.runs``: summary.json and run.json)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from strategies import instances
from test_learning_deviation import brute_force, candidates_for

from dao_abm.cli import main
from dao_abm.equilibrium.runs import game_of, shading_metrics
from dao_abm.learning import Market, deviation_utilities
from dao_abm.mechanisms import AGGREGATIONS, COST_SHARING, Groups, TwoLevelMechanism
from dao_abm.scenario import load_scenario, mechanism_of

MODELS = Path(__file__).resolve().parents[1] / "models"
FIRST_PRICE = MODELS / "classical_first_price.toml"
WITH_RESERVE = [
    TwoLevelMechanism(a, u, c, reserve=0.4)
    for a, u, c in itertools.product(AGGREGATIONS.names(), ("first-price", "second-price",
                                                             "grand-bundle"),
                                     COST_SHARING.names())
]


@pytest.mark.parametrize("mechanism", WITH_RESERVE, ids=lambda m: m.name)
@settings(max_examples=10, deadline=None)
@given(inst=instances(max_groups=3, max_size=3, max_items=2), seed=st.integers(0, 2**16))
def test_deviations_with_a_reserve_match_brute_force(mechanism, inst, seed):
    """With a reserve every learner's deviation outcome (sub-markets, singletons) equals
    the engine's on the deviated profile (the critical-bid and sum closed forms step
    aside: ``Market.kernel``)."""
    rng = np.random.default_rng(seed)
    market = Market(mechanism, inst.groups, inst.valuation)
    assert market.kernel == "sub-market"
    values = np.where(rng.random(inst.bids.shape) < 0.5, inst.bids, rng.random(inst.bids.shape))
    cand = candidates_for(values, rng)
    cand[..., 2] = 0.4  # exactly the reserve
    got = deviation_utilities(market, values, inst.bids, cand)
    assert_allclose(got, brute_force(market, values, inst.bids, cand), rtol=1e-9, atol=1e-9)


def test_market_refuses_per_lot_reserves():
    with pytest.raises(ValueError, match="one reserve price for every lot"):
        Market(TwoLevelMechanism("wtp", "second-price", "max-equal-split", reserve=(0.1, 0.2)),
               Groups.from_sizes([1, 1]))


def test_scenario_reserve_reaches_the_mechanism():
    scenario = load_scenario(FIRST_PRICE, ["mechanism.reserve=0.3"])
    assert mechanism_of(scenario).reserve == 0.3
    assert mechanism_of(load_scenario(FIRST_PRICE)).reserve == 0.0


@pytest.mark.parametrize(("overrides", "message"), [
    (["mechanism.reserve=1.0"], "mechanism.reserve: must be below values.high = 1"),
    (["mechanism.reserve=2", "values.high=1.5"], "mechanism.reserve: must be below values.high"),
    (["mechanism.reserve=0.2", "mechanism.upper=vcg"],
     "mechanism.reserve: upper mechanism 'vcg' has no reserve price"),
    (["mechanism.reserve=-0.1"], "mechanism.reserve: -0.1 must be >= 0"),
])
def test_bad_reserves_exit_2_naming_the_key(tmp_path, capsys, overrides, message):
    args = ["run", str(FIRST_PRICE), "--out", str(tmp_path / "o")]
    for item in overrides:
        args += ["--set", item]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_shading_metrics_at_and_off_the_equilibrium():
    """4 bidders, first price: α = 3/4 for everyone is the BNE (all metrics 0); with reserve
    1/2 the BNE is not linear, so the same profile is off it (L2 > 0.03, loss > 0)."""
    scenario = load_scenario(FIRST_PRICE)
    game = game_of(scenario, mechanism_of(scenario), 1)
    at = shading_metrics(game, np.full(4, 0.75))
    assert at["l2_to_bne"] == pytest.approx(0.0, abs=1e-12)
    assert at["relative_utility_loss"] == pytest.approx(0.0, abs=1e-4)
    reserved = load_scenario(FIRST_PRICE, ["mechanism.reserve=0.5"])
    off = shading_metrics(game_of(reserved, mechanism_of(reserved), 1), np.full(4, 0.75))
    assert off["l2_to_bne"] > 0.03 and off["utility_loss"] > 0
    assert game_of(scenario, mechanism_of(scenario), 2) is None  # DAOs: not this ground
    fixed = load_scenario(FIRST_PRICE, ["values.redraw=false"])
    assert game_of(fixed, mechanism_of(fixed), 1) is None


def test_run_writes_the_equilibrium_metrics_and_their_estimator(tmp_path, capsys):
    folder = tmp_path / "run"
    assert main(["run", str(FIRST_PRICE), "--out", str(folder), "--set", "rounds=12",
                 "--set", "learning.samples=500", "--set", "output.figures=false"]) == 0
    capsys.readouterr()
    summary = json.loads((folder / "summary.json").read_text())
    meta = json.loads((folder / "run.json").read_text())
    eq = summary["equilibrium"]
    assert set(eq) == {"l2_to_bne", "linf_to_bne", "utility_loss", "relative_utility_loss",
                       "epsilon_interim"}
    assert 0 <= eq["l2_to_bne"] < 0.3 and 0 <= eq["relative_utility_loss"] <= 1
    estimator = meta["equilibrium_estimator"]
    assert estimator["sample_size"] == 2048 and "first-price, 4 bidders" in estimator["game"]
