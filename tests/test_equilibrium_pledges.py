"""Contributors with pledges of every size under private values (``equilibrium.pledges``):
the exact deviation oracles against the engine, the per-function crowdfund sum against the
per-member one, and what learning reaches with a handful of contributors."""

from __future__ import annotations

import numpy as np
import pytest

from dao_abm.equilibrium.daos import learn_daos
from dao_abm.equilibrium.pledges import PledgeMarket, crowdfund_deviation, vickrey_deviation
from dao_abm.equilibrium.soda import last
from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import Groups, preset

OFFERS = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 5.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deviation_oracles_match_the_engine_member_by_member(seed):
    """For random bids (with ties: half the rows on a coarse grid) and rival bids, every
    member's access and payment at every offer equal the engine's when that member's bid is
    replaced by the offer: 5 auctions at once (the stacked-rows search of ``vickrey``)."""
    rng = np.random.default_rng(seed)
    for n in (1, 2, 3, 5, 8):
        coarse = rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 3.0], size=(5, n))
        bids = np.where(rng.uniform(size=(5, 1)) < 0.5, coarse, rng.uniform(0, 3, (5, n)))
        rival = rng.choice([1.0, 2.0, 3.0, 4.5], size=5)
        index = np.arange(n)
        offer = np.tile(OFFERS, (n, 1))
        others = bids.sum(axis=1)[:, None] - bids
        oracles = {"crowdfund": crowdfund_deviation(others, rival, offer),
                   "dao-vickrey": vickrey_deviation(bids, rival, index, offer)}
        groups = Groups.from_sizes([n, 1])
        for mechanism, (access, pay) in oracles.items():
            full = np.repeat(np.column_stack([bids, rival])[:, None, None, :], n, axis=1)
            full = np.repeat(full, OFFERS.size, axis=2).copy()  # (S, n, C, n + 1)
            for i in range(n):
                full[:, i, :, i] = OFFERS
            out = preset(mechanism).run(full.reshape(-1, n + 1), groups)
            who = np.arange(n)[None, :, None]
            engine_access = out.access[:, 0, :].reshape(full.shape)
            engine_pay = out.member_payments.reshape(full.shape)
            s, c = np.arange(5)[:, None, None], np.arange(OFFERS.size)[None, None, :]
            assert (engine_access[s, who, c, who] == access).all(), mechanism
            assert np.allclose(engine_pay[s, who, c, who], pay, atol=1e-12), mechanism


def market(mechanism="crowdfund", pledges=(1.0, 2.0, 3.0, 30.0), **kw):
    pledges = np.asarray(pledges, dtype=float)
    return PledgeMarket(pledges, np.zeros(pledges.size, dtype=int), mechanism, **kw)


def test_crowdfund_sum_by_function_equals_the_members_sum():
    """Σ_jk mass·β (per function) equals the sum of every member's interpolated bid (a
    Mechanism 1 sample keeps every member's x; 200 auctions: two chunks), and a crowdfund
    sample drawn from the same seed keeps the representatives' columns of the same x."""
    pledges = np.array([20.0, 150.0, 3e3, 4e4, 9e5, 7.0])
    m = PledgeMarket(pledges, np.array([0, 1, 2, 2, 2, 0]), "dao-vickrey", samples=200)
    sample = m.sample(np.random.default_rng(3))
    light = PledgeMarket(pledges, m.buckets, "crowdfund", samples=200, representatives=1)
    few = light.sample(np.random.default_rng(3))
    assert few.cols.tolist() == light.reps[0].tolist() == [0, 1, 3]
    assert np.array_equal(few.x, sample.x[:, few.cols])
    assert np.array_equal(few.mass, sample.mass)
    beta = np.random.default_rng(4).uniform(0, 2, size=(3, m.value_points))
    direct = m.member_bids(beta, sample).sum(axis=1)
    assert np.allclose(np.einsum("sjk,jk->s", sample.mass, beta), direct, rtol=1e-12)
    by_hand = pledges[4] * np.interp(sample.x[:, 4], m.values, beta[2])
    assert np.allclose(m.member_bids(beta, sample)[:, 4], by_hand, rtol=1e-12)


def test_evaluate_truthful_bids_by_hand():
    """Truthful crowdfund bids win iff Σ v >= R and charge Σ v; welfare is then Σ v, else R;
    learned bids equal to the identity give the same numbers."""
    m = market("crowdfund", rival=(30.0, 40.0))
    numbers = m.evaluate(m.values[None], np.random.default_rng(5), 300)
    rng = np.random.default_rng(5)
    x, r = [], []
    for size in (128, 128, 44):
        x.append(rng.uniform(0, 2, size=(size, 4)))
        r.append(rng.uniform(30, 40, size=size))
    total, rival = np.concatenate(x) @ m.pledges, np.concatenate(r)
    win = total >= rival
    assert numbers["truthful"]["win"] == pytest.approx(win.mean(), abs=1e-12)
    assert 0.2 < win.mean() < 0.9  # both outcomes occur
    assert numbers["truthful"]["welfare"] == pytest.approx(np.where(win, total, rival).mean())
    assert numbers["truthful"]["revenue"] == pytest.approx(np.where(win, total, rival).mean())
    assert numbers["truthful"]["optimum"] == pytest.approx(np.maximum(total, rival).mean())
    for key, value in numbers["truthful"].items():
        assert numbers["learned"][key] == pytest.approx(value, rel=1e-12), key


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mechanism_1_learns_the_identity_with_a_handful_of_contributors(seed):
    """Four contributors (types 1, 1, 2, 3, one bucket) against a rival valuing U[1, 4]:
    from pledge = v/2, Mechanism 1 learns pledge = v (Theorem 3.1) within L2 0.03 and loses
    under 1e-3 on held-out draws."""
    m = market("dao-vickrey", (1.0, 1.0, 2.0, 3.0), rival=(1.0, 4.0), samples=256,
               value_points=17, bid_points=17, representatives=4)
    state = last(learn_daos(m, rng=np.random.default_rng(seed), iterations=150, tol=1e-5,
                            start=0.5 * m.values))
    l2 = float(np.sqrt(((state.beta[0] - m.values) ** 2) @ m.weights))
    assert l2 < 0.03
    fresh = m.sample(np.random.default_rng(100 + seed), 1024)
    assert m.relative_utility_loss(state.beta, fresh)[0] < 1e-3
    assert m.relative_utility_loss(0.5 * m.values[None], fresh)[0] > 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crowdfund_pledges_fall_below_values(seed):
    """The same contributors under crowdfund (pay your pledge): from truthful pledges they
    learn to pledge below their values at every value knot above the lowest."""
    m = market("crowdfund", (1.0, 1.0, 2.0, 3.0), rival=(1.0, 4.0), samples=256,
               value_points=17, bid_points=17, representatives=4)
    state = last(learn_daos(m, rng=np.random.default_rng(seed), iterations=150, tol=1e-4,
                            eta=5.0, start=m.values))
    assert (state.beta[0, 1:] < m.values[1:]).all()
    assert state.beta[0, -1] < 0.8 * m.values[-1]


@pytest.mark.parametrize(("kw", "key"), [
    ({"mechanism": "split-the-bill"}, "mechanism"), ({"noise": 0.0}, "noise"),
    ({"noise": 1.5}, "noise"), ({"rival": (3.0, 2.0)}, "rival"),
    ({"pledges": (1.0, -2.0)}, "pledges")])
def test_bad_market_settings_name_the_key(kw, key):
    with pytest.raises(DaoAbmError, match=key):
        market(**kw)
