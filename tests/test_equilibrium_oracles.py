"""The closed-form equilibria (``dao_abm.equilibrium.closed_forms``) against numeric
integration of their first-order conditions and of their revenue (scipy), and the engine's
reserve price against the revenue closed form by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize

from dao_abm.equilibrium.closed_forms import CLOSED_FORMS, closed_form
from dao_abm.mechanisms import Groups, TwoLevelMechanism

NS = [2, 3, 5, 10]
VALUES = np.array([0.05, 0.2, 0.37, 0.5, 0.73, 0.9, 1.0])


def fp_bid_from_foc(v: float, n: int, r: float) -> float:
    """First price: the FOC β'(v) F^{n−1} + β (F^{n−1})' = v (F^{n−1})' integrates to
    F(v)^{n−1} β(v) = r F(r)^{n−1} + ∫_r^v x d(F^{n−1})(x) (F(x) = x on [0, 1])."""
    mass, _ = integrate.quad(lambda x: x * (n - 1) * x ** (n - 2), r, v)
    return (r * r ** (n - 1) + mass) / v ** (n - 1)


def all_pay_bid_from_foc(v: float, n: int) -> float:
    """All-pay: the FOC β'(v) = v (F^{n−1})'(v) with β(0) = 0."""
    return integrate.quad(lambda x: x * (n - 1) * x ** (n - 2), 0, v)[0]


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("r", [0.0, 0.3, 0.6])
def test_first_price_matches_the_integrated_foc(n, r):
    form = closed_form("first-price", "uniform", r)
    for v in VALUES[VALUES >= r]:
        assert form.bid(np.array(v), n, r) == pytest.approx(fp_bid_from_foc(v, n, r), abs=1e-10)
    assert (form.bid(VALUES[VALUES < r], n, r) == 0).all()  # below the reserve: no part


@pytest.mark.parametrize("n", NS)
def test_first_price_without_reserve_is_linear(n):
    assert np.allclose(CLOSED_FORMS["first-price"].bid(VALUES, n, 0.0), (n - 1) / n * VALUES)


@pytest.mark.parametrize("n", NS)
def test_all_pay_matches_the_integrated_foc(n):
    form = closed_form("all-pay")
    for v in VALUES:
        assert form.bid(np.array(v), n, 0.0) == pytest.approx(all_pay_bid_from_foc(v, n),
                                                              abs=1e-12)


@pytest.mark.parametrize("auction", ["first-price", "all-pay"])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_closed_form_is_a_best_response_to_itself(auction, n):
    """Each bid maximises the interim utility against n−1 others playing the closed form
    (scipy's bounded scalar search), so the FOC holds at an interior maximum."""
    form = closed_form(auction)
    for v in VALUES:
        def win(b, v=v):  # P(every other bid < b), inverting the increasing closed form
            grid = np.linspace(0, 1, 20001)
            return np.interp(b, form.bid(grid, n, 0.0), grid) ** (n - 1)
        if auction == "first-price":
            def loss(b, v=v, win=win):
                return -(v - b) * win(b)
        else:
            def loss(b, v=v, win=win):
                return -(v * win(b) - b)
        top = form.bid(np.array(1.0), n, 0.0)
        best = optimize.minimize_scalar(loss, bounds=(0, float(top)), method="bounded",
                                        options={"xatol": 1e-9})
        assert best.x == pytest.approx(float(form.bid(np.array(v), n, 0.0)), abs=2e-4)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_second_price_truthful_is_a_best_response(n):
    """Against n−1 truthful others, E[u | b] = ∫_0^b (v − x) d(x^{n−1}) peaks at b = v."""
    for v in VALUES:
        def loss(b, v=v):
            return -integrate.quad(lambda x: (v - x) * (n - 1) * x ** (n - 2), 0, b)[0]
        best = optimize.minimize_scalar(loss, bounds=(0, 1), method="bounded")
        assert best.x == pytest.approx(v, abs=1e-4)
    assert np.allclose(closed_form("second-price").bid(VALUES, n, 0.0), VALUES)


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("r", [0.0, 0.25, 0.5])
def test_revenue_closed_form_matches_the_integral(n, r):
    """E[revenue] of first price = ∫ β(v) d(vⁿ) over v >= r (the winner has the highest
    value); (n−1)/(n+1) at r = 0, 5/12 at n = 2, r = 1/2 (Myerson's optimal auction)."""
    form = closed_form("first-price", "uniform", r)
    direct, _ = integrate.quad(lambda v: float(form.bid(np.array(v), n, r)) * n * v ** (n - 1),
                               r, 1)
    assert form.revenue(n, r) == pytest.approx(direct, abs=1e-10)
    if r == 0:
        assert form.revenue(n, r) == pytest.approx((n - 1) / (n + 1))
    if (n, r) == (2, 0.5):
        assert form.revenue(n, r) == pytest.approx(5 / 12)


@pytest.mark.parametrize("n", NS)
def test_all_pay_revenue_by_integration(n):
    """Everyone pays its bid: E[revenue] = n ∫_0^1 β(v) dv = (n−1)/(n+1)."""
    form = closed_form("all-pay")
    direct = n * integrate.quad(lambda v: float(form.bid(np.array(v), n, 0.0)), 0, 1)[0]
    assert form.revenue(n, 0.0) == pytest.approx(direct)


@pytest.mark.parametrize("upper", ["first-price", "second-price"])
def test_engine_reserve_revenue_matches_the_closed_form(upper):
    """The engine (groups of one, equilibrium bids, reserve 0.4) earns the closed-form
    revenue within 4 standard errors on 200,000 draws."""
    n, r = 3, 0.4
    values = np.random.default_rng(9).uniform(size=(200_000, n))
    bids = closed_form(upper, "uniform", r).bid(values, n, r)
    mechanism = TwoLevelMechanism("wtp", upper, "max-equal-split", reserve=r)
    revenue = mechanism.run(bids, Groups.from_sizes([1] * n)).revenue
    se = revenue.std() / np.sqrt(revenue.size)
    assert abs(revenue.mean() - closed_form(upper, "uniform", r).revenue(n, r)) < 4 * se


def test_unknown_cases_have_no_closed_form():
    assert closed_form("all-pay", "uniform", 0.3) is None
    assert closed_form("first-price", "", 0.0) is None
    assert closed_form("second-price", "", 0.2) is not None  # dominant for any prior
    assert closed_form("no-such-auction") is None
