"""Evaluating some members only (``members=``): the same numbers as the full computation's
rows, for every deviation kernel (critical bids, the ``sum`` closed forms, sub-markets, the
full-market VCG fallback), the payoff tables, the best responses and the rules; and the
model's epsilon rounds (``metrics.epsilon_every``).
"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from strategies import instances, memberships

from dao_abm.deviations import Market, deviation_utilities, payoffs
from dao_abm.learning import LEARNING_RULES, best_response, best_response_shading
from dao_abm.mechanisms import (
    AGGREGATIONS,
    COST_SHARING,
    UPPER_MECHANISMS,
    Groups,
    TwoLevelMechanism,
)
from dao_abm.model.metrics import converged_round
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

ALL = [
    TwoLevelMechanism(a, u, c)
    for a, u, c in itertools.product(
        AGGREGATIONS.names(), UPPER_MECHANISMS.names(), COST_SHARING.names()
    )
]
FIRST_PRICE = TwoLevelMechanism("wtp", "first-price", "max-equal-split")
GRID = np.arange(31) / 20
MODELS = Path(__file__).resolve().parents[1] / "models"
#: The module (``dao_abm.deviations.payoffs`` the name is the package's function).
payoff_tables = importlib.import_module("dao_abm.deviations.payoffs")


def kernel(market: Market, n_items: int) -> str:
    return "full-market" if market.full_market(n_items) else market.kernel


@st.composite
def subsets(draw: st.DrawFn, n: int) -> np.ndarray:
    """Member indices in any order (possibly none, possibly repeated)."""
    return np.array(draw(st.lists(st.integers(0, n - 1), max_size=n + 1)), dtype=np.int64)


def test_the_mechanisms_cover_every_kernel():
    markets = [Market(m, Groups.from_sizes([2, 1]), v) for m in ALL
               for v in ("single", "unit-demand")]
    kernels = {kernel(m, 2) for m in markets}
    assert kernels == {"critical", "sum", "sub-market", "full-market"}


@pytest.mark.parametrize("mechanism", ALL, ids=lambda m: m.name)
@settings(max_examples=25)
@given(inst=instances(max_groups=3, max_size=3, max_items=3), data=st.data())
def test_deviation_rows_equal_full_rows(mechanism, inst, data):
    """Bitwise: the subset's answers are the full answers restricted to the subset."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    market = Market(mechanism, inst.groups, inst.valuation)
    values = np.where(rng.random(inst.bids.shape) < 0.5, inst.bids, rng.random(inst.bids.shape))
    cand = rng.random((*values.shape, 5)) * 2 * max(float(values.max()), 1.0)
    cand[..., 0], cand[..., 1] = 0.0, values
    rows = data.draw(subsets(inst.groups.n_members))
    full = deviation_utilities(market, values, inst.bids, cand)
    sub = deviation_utilities(market, values, inst.bids, cand[rows], rows)
    assert_array_equal(sub, full[rows])


@pytest.mark.parametrize("preset", ["dao-vickrey", "crowdfund", "grand-bundle",
                                    TwoLevelMechanism("max", "second-price", "equal-split-all")])
@given(inst=instances(max_groups=3, max_size=3, max_items=2, batch=st.just((2,))),
       data=st.data())
def test_deviation_rows_with_batch_axes_and_per_profile_candidates(preset, inst, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    market = Market(preset, inst.groups, inst.valuation)
    values = rng.random(inst.bids.shape)
    cand = rng.random((*values.shape, 4)) * 2
    rows = data.draw(subsets(inst.groups.n_members))
    member_axis = inst.bids.ndim - (1 if inst.valuation == "single" else 2)
    full = deviation_utilities(market, values, inst.bids, cand)
    sub = deviation_utilities(market, values, inst.bids, np.take(cand, rows, member_axis), rows)
    assert_array_equal(sub, np.take(full, rows, member_axis))


@pytest.mark.parametrize(("preset", "valuation"), [
    ("dao-vickrey", "single"), ("crowdfund", "single"), ("split-the-bill", "additive"),
    (TwoLevelMechanism("max", "first-price", "proportional"), "single"),
    ("grand-bundle", "unit-demand"), ("vcg-equal-split", "unit-demand"),
])
@given(groups=memberships(max_groups=3, max_size=3), data=st.data())
def test_payoff_tables_and_best_responses_on_the_members(preset, valuation, groups, data):
    n = groups.n_members
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    shape = (n,) if valuation == "single" else (n, 2)
    values, bids = rng.random(shape), rng.random(shape)
    market = Market(preset, groups, valuation)
    rows = np.unique(data.draw(subsets(n)))
    full, sub = payoffs(market, values, bids, GRID), payoffs(market, values, bids, GRID, rows)
    for name in ("utilities", "current", "options", "strategies", "scale", "prices"):
        assert_array_equal(getattr(sub, name), getattr(full, name)[rows])
    assert_array_equal(sub.gain[rows], full.gain[rows])
    assert np.isnan(np.delete(sub.gain, rows)).all()

    revising = np.zeros(n, dtype=bool)
    revising[rows[rng.random(rows.size) < 0.7]] = True
    for policy in ("keep", "truthful", "lowest"):
        args = {"revising": revising, "grid": GRID, "tie_policy": policy}
        a = best_response(market, values, bids, rng=rng, **args)
        b = best_response(market, values, bids, rng=rng, members=rows, **args)
        assert_array_equal(b.strategies, a.strategies)
        assert_array_equal(b.changed, a.changed)
        assert_array_equal(b.gain[rows], a.gain[rows])
        assert np.isnan(np.delete(b.gain, rows)).all()


@given(data=st.data())
def test_shading_rows_equal_full_rows(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    market = Market(FIRST_PRICE, Groups.from_sizes([2, 1]))
    samples, alphas = rng.random((50, 3)), rng.uniform(0.5, 1.0, 3)
    rows = np.unique(data.draw(subsets(3)))
    revising = np.zeros(3, dtype=bool)
    revising[rows] = True
    args = {"revising": revising, "alpha_grid": GRID, "tie_policy": "truthful"}
    a = best_response_shading(market, samples, alphas, rng=rng, **args)
    b = best_response_shading(market, samples, alphas, rng=rng, members=rows, **args)
    assert_array_equal(b.strategies, a.strategies)
    assert_array_equal(b.gain[rows], a.gain[rows])
    assert np.isnan(np.delete(b.gain, rows)).all()


@pytest.mark.parametrize("mechanism", [FIRST_PRICE, "crowdfund", "dao-vickrey"])
def test_shading_payoffs_do_not_depend_on_the_sample_chunk(monkeypatch, mechanism):
    """The sampled profiles go through the engine in chunks (memory stays bounded); the sums
    add the samples in order, so every chunk size gives the same table, bit for bit."""
    rng = np.random.default_rng(11)
    market = Market(mechanism, Groups.from_sizes([3, 2, 1]))
    samples, alphas = rng.random((37, 6)), rng.uniform(0.5, 1.0, 6)
    whole = payoff_tables.shading_payoffs(market, samples, alphas, GRID)
    for chunk in (1, 31 * 6 * 5, 31 * 6 * 8):  # one sample, 5 and 8 samples per batch
        monkeypatch.setattr(payoff_tables, "SAMPLE_CHUNK", chunk)
        part = payoff_tables.shading_payoffs(market, samples, alphas, GRID,
                                             members=np.array([1, 4]))
        assert_array_equal(part.utilities, whole.utilities[[1, 4]])
        assert_array_equal(part.current, whole.current[[1, 4]])
        assert_array_equal(part.prices, whole.prices[[1, 4]])
        again = payoff_tables.shading_payoffs(market, samples, alphas, GRID)
        for name in ("utilities", "current", "scale", "prices"):
            assert_array_equal(getattr(again, name), getattr(whole, name))


def test_large_crowdfund_subset_matches_and_stays_put():
    """ConstitutionDAO-sized: 5% of 17,437 members revise; results equal the full table's."""
    rng = np.random.default_rng(5)
    groups = Groups.from_sizes([17_437, 1])
    market = Market("crowdfund", groups)
    values = rng.lognormal(5.3, 2.3, groups.n_members)
    values[-1] = 43_200_000.0
    bids = values * rng.uniform(0.5, 1.2, values.size)
    revising = rng.random(values.size) < 0.05
    rows = np.flatnonzero(revising)
    a = best_response(market, values, bids, revising=revising, grid=GRID, rng=rng)
    b = best_response(market, values, bids, revising=revising, grid=GRID, rng=rng, members=rows)
    assert_array_equal(b.strategies, a.strategies)
    assert_array_equal(b.gain[rows], a.gain[rows])


def test_exact_path_ignores_members_and_reports_every_gain():
    rng = np.random.default_rng(1)
    market = Market("dao-vickrey", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    revising = np.array([True, False, True, False, False, False])
    a = best_response(market, values, bids, revising=revising, rng=rng)
    b = best_response(market, values, bids, revising=revising, rng=rng, members=[0, 2])
    assert_array_equal(b.strategies, a.strategies)
    assert_array_equal(b.gain, a.gain)


@pytest.mark.parametrize("name", LEARNING_RULES.names())
def test_rules_move_only_the_members(name):
    rng = np.random.default_rng(3)
    market = Market("crowdfund", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    rule = LEARNING_RULES[name]()
    rule.reset(6, 1, grid=GRID, rng=rng)
    revising = np.array([True, False, True, False, False, True])
    rows = np.array([0, 2, 5])
    out = rule.step(market, values, bids, revising=revising, rng=rng, members=rows)
    assert_array_equal(out.strategies[~revising], bids[~revising])
    memory = rule.memory  # rules with memory evaluate everyone
    assert np.isnan(out.gain[[1, 3, 4]]).all() != memory
    assert np.isfinite(out.gain[rows]).all()


@pytest.mark.parametrize(("members", "match"), [
    (np.array([0]), "every revising member"),
    (np.array([0, 3]), "indices in"),
    (np.array([[0, 1]]), "1-D"),
    (np.array([0.0, 1.0]), "1-D"),
])
def test_bad_members_raise(members, match):
    market = Market("crowdfund", Groups.from_sizes([2, 1]))
    with pytest.raises(ValueError, match=match):
        best_response(market, np.ones(3), np.ones(3), revising=np.array([True, True, False]),
                      grid=GRID, rng=np.random.default_rng(0), members=members)


def small(name: str, *overrides: str):
    return load_scenario(MODELS / f"{name}.toml",
                         ["population.n_members=60", "daos.max_size=6", "rounds=23",
                          *overrides])


@pytest.mark.parametrize(("preset", "tie"), [("crowdfund", "keep"), ("dao-vickrey", "keep"),
                                           ("crowdfund", "random")])
def test_epsilon_rounds_change_only_the_metrics(preset, tie):
    """epsilon_every = 5 leaves every strategy as epsilon_every = 1 does (random tie
    breaking included: epsilon is measured apart from the rule); gains (grid rules) and
    outcome_truthful_share are measured on rounds 1, 6, 11, ... only."""
    base = ["learning.protocol=inertia", "learning.fraction=0.2",
            f"mechanism.preset={preset}", f"learning.tie_policy='{tie}'"]
    every = run_model(small("default", *base)).metrics
    sparse = run_model(small("default", *base, "metrics.epsilon_every=5")).metrics
    measured = (sparse["round"] - 1) % 5 == 0
    for col in ("welfare", "truthful_share", "mean_bid_ratio", "changed", "revenue"):
        assert_array_equal(sparse[col], every[col])
    for col in ("max_gain", "mean_gain", "outcome_truthful_share"):
        assert_array_equal(sparse[col][measured], every[col][measured])
    assert sparse["outcome_truthful_share"][~measured].isna().all()
    exact = preset == "dao-vickrey"  # the exact best response knows every gain each round
    assert sparse["max_gain"][~measured].notna().all() == exact
    assert sparse["max_gain"][~measured].isna().all() != exact


def test_converged_round_counts_unmeasured_rounds_only_when_nothing_changed():
    nan = float("nan")
    # rounds 2-3 changed but epsilon is small; round 4 is unmeasured and changed.
    changed = [5, 3, 2, 1, 0, 0]
    gain = [1.0, 0.0, 0.0, nan, nan, 0.0]
    assert converged_round(changed, gain, tol=1e-6, window=2) == 2
    assert converged_round(changed, gain, tol=1e-6, window=3) is None
    assert converged_round([0, 0, 0], [nan, nan, nan], tol=1e-6, window=3) == 1
    assert converged_round([1, 0, 0], [nan, nan, 9.0], tol=1e-6, window=2) == 2


def test_absolute_grids_are_given_for_every_member():
    rng = np.random.default_rng(8)
    market = Market("crowdfund", Groups.from_sizes([3, 2, 1]))
    values, bids = rng.random(6), rng.random(6)
    grid = rng.random((6, 4)) * 2
    rows = np.array([4, 1])
    full = payoffs(market, values, bids, grid)
    sub = payoffs(market, values, bids, grid, rows)
    assert_array_equal(sub.options, full.options[rows])
    assert_array_equal(sub.utilities, full.utilities[rows])
