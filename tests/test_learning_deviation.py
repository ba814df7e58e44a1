"""``deviation_utilities`` equals brute force: the engine run on every deviated profile.

Covers every composition of the registries (critical-bid kernel, the ``sum`` closed forms,
singletons, sub-markets, the full-market VCG fallback), all valuation classes, batch axes
and per-profile candidates; and the size guards.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from strategies import instances

from dao_abm.deviations import Market, deviation_utilities, submarket
from dao_abm.mechanisms import (
    AGGREGATIONS,
    COST_SHARING,
    UPPER_MECHANISMS,
    Groups,
    TwoLevelMechanism,
    utilities,
)

ALL = [
    TwoLevelMechanism(a, u, c)
    for a, u, c in itertools.product(
        AGGREGATIONS.names(), UPPER_MECHANISMS.names(), COST_SHARING.names()
    )
]


def brute_force(market: Market, values, bids, candidates) -> np.ndarray:
    """Run the engine once per (member, item, candidate) deviated profile."""
    single = market.valuation == "single"
    v, b = (values[..., None], bids[..., None]) if single else (values, bids)
    c = candidates[:, None, :] if single else candidates
    n, m, k = c.shape
    member, item, cand = (a.ravel() for a in np.indices((n, m, k)))
    profiles = np.repeat(b[None], member.size, axis=0)
    profiles[np.arange(member.size), member, item] = c[member, item, cand]
    run = market.run(profiles[..., 0] if single else profiles)
    out = utilities(v[..., 0] if single else v, run)[np.arange(member.size), member]
    return out.reshape(n, k) if single else out.reshape(n, m, k)


def candidates_for(values: np.ndarray, rng: np.random.Generator, k: int = 6) -> np.ndarray:
    """Zero, the value, and random bids up to twice the largest value."""
    top = 2 * max(float(values.max()), 1.0)
    cand = rng.random((*values.shape, k)) * top
    cand[..., 0], cand[..., 1] = 0.0, values
    return cand


@pytest.mark.parametrize("mechanism", ALL, ids=lambda m: m.name)
@given(inst=instances(max_groups=3, max_size=3, max_items=3), seed=st.integers(0, 2**16))
def test_matches_brute_force(mechanism, inst, seed):
    rng = np.random.default_rng(seed)
    market = Market(mechanism, inst.groups, inst.valuation)
    values = np.where(rng.random(inst.bids.shape) < 0.5, inst.bids, rng.random(inst.bids.shape))
    cand = candidates_for(values, rng)
    got = deviation_utilities(market, values, inst.bids, cand)
    assert_allclose(got, brute_force(market, values, inst.bids, cand), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("preset", ["dao-vickrey", "split-the-bill", "crowdfund", "grand-bundle"])
@pytest.mark.parametrize("valuation", ["single", "additive", "unit-demand"])
def test_batch_axes_and_per_profile_candidates(preset, valuation):
    rng = np.random.default_rng(7)
    groups = Groups.from_labels(rng.permutation([0, 0, 0, 1, 1, 2, 3]))
    shape = (2, 3, 7) if valuation == "single" else (2, 3, 7, 2)
    values, bids = rng.random(shape) * 4, rng.random(shape) * 4
    market = Market(preset, groups, valuation)
    cand = rng.random((*shape, 5)) * 6
    got = deviation_utilities(market, values, bids, cand)
    assert got.shape == (*shape, 5)
    for s in np.ndindex(2, 3):
        want = brute_force(market, values[s], bids[s], cand[s])
        assert_allclose(got[s], want, rtol=1e-9, atol=1e-9)


def test_free_rider_scales_to_constitution_dao():
    """The sum closed form handles a 17,437-member DAO (the engine checks a sample)."""
    rng = np.random.default_rng(3)
    groups = Groups.from_sizes([17_437, 1])
    values = rng.exponential(2_700.0, size=groups.n_members)
    values[-1] = 43_000_000.0  # Ken Griffin
    market = Market("crowdfund", groups)
    cand = candidates_for(values, rng, k=4)
    got = deviation_utilities(market, values, values, cand)
    for i in (0, 17, 17_436, 17_437):
        profile = np.repeat(values[None], 4, axis=0)
        profile[:, i] = cand[i]
        want = utilities(values, market.run(profile))[:, i]
        assert_allclose(got[i], want, rtol=1e-9, atol=1e-6)


def test_submarkets_refuse_huge_inputs():
    groups = Groups.from_sizes([2_000, 1])
    market = Market(TwoLevelMechanism("max", "second-price", "max-equal-split"), groups)
    values = np.ones(groups.n_members)
    with pytest.raises(ValueError, match="sub-markets"):
        deviation_utilities(market, values, values, np.zeros((groups.n_members, 41)))


def test_vcg_unit_demand_refuses_huge_inputs(monkeypatch):
    monkeypatch.setattr(submarket, "FULL_MARKET_LIMIT", 10)
    market = Market("vcg-equal-split", Groups.from_sizes([1, 1]), "unit-demand")
    values = np.ones((2, 2))
    with pytest.raises(ValueError, match="couples the items"):
        deviation_utilities(market, values, values, np.zeros((2, 2, 3)))


@pytest.mark.parametrize(
    ("values", "bids", "cand", "match"),
    [
        (np.ones(3), np.ones(2), np.ones((3, 2)), "one shape"),
        (np.ones(2), np.ones(2), np.ones((2, 2)), "n = 3"),
        (np.ones(3), -np.ones(3), np.ones((3, 2)), ">= 0"),
        (np.ones(3), np.ones(3), -np.ones((3, 2)), "candidate"),
    ],
)
def test_bad_inputs_raise(values, bids, cand, match):
    market = Market("dao-vickrey", Groups.from_sizes([2, 1]))
    with pytest.raises(ValueError, match=match):
        deviation_utilities(market, values, bids, cand)
