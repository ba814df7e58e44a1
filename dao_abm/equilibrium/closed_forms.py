"""Closed-form symmetric Bayes–Nash equilibria of single-item auctions: the test oracles.

One registry, ``CLOSED_FORMS``, keyed by auction format, each entry knowing the priors and
reserves it covers. Bidders are risk neutral with i.i.d. private values; a bidder whose value
is below the reserve does not take part, which we write as a bid of 0 (every bid below the
reserve loses and pays nothing, so they are all equivalent). Sources: Krishna, *Auction
Theory* (2nd ed.), Prop. 2.2 and §2.5 (first price, with reserve), §3.2.2 (all-pay); the
formulas as listed in bnelearn's ``bne_utils`` and SODA's ``Auction`` tests
(``/work/shared/literature.md``). ``tests/test_equilibrium_oracles.py`` checks each against a
numeric integration of its first-order condition and of its revenue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dao_abm.mechanisms.registry import Registry

BidFn = Callable[[np.ndarray, int, float], np.ndarray]


@dataclass(frozen=True)
class ClosedForm:
    """A symmetric equilibrium bid function with its domain of validity.

    Attributes:
        auction: the auction format (a name in ``equilibrium.auctions.AUCTIONS``).
        priors: value distributions it holds for ("uniform" = U[0, 1]; "any").
        reserve_ok: whether it holds with a reserve price r in [0, 1).
        bid: ``bid(values (...,), n, reserve) -> bids (...,)``.
        revenue: ``revenue(n, reserve)`` expected revenue under U[0, 1], or None.
        source: where the formula comes from.
    """

    auction: str
    priors: tuple[str, ...]
    reserve_ok: bool
    bid: BidFn
    revenue: Callable[[int, float], float] | None
    source: str

    def covers(self, prior: str, reserve: float) -> bool:
        """Whether the formula is the equilibrium for this prior and reserve."""
        return ("any" in self.priors or prior in self.priors) and (
            self.reserve_ok or reserve == 0.0)


CLOSED_FORMS: Registry[ClosedForm] = Registry("closed-form equilibrium")


def _first_price_bid(values: np.ndarray, n: int, reserve: float) -> np.ndarray:
    """b(v) = v − (vⁿ − rⁿ)/(n vⁿ⁻¹) for v ≥ r (r = 0: b = (n − 1)/n · v)."""
    v = np.asarray(values, dtype=np.float64)
    safe = np.where(v > 0, v, 1.0)
    bid = v - (v**n - reserve**n) / (n * safe ** (n - 1))
    return np.where(v >= reserve, np.where(v > 0, bid, 0.0), 0.0)


def _uniform_revenue(n: int, reserve: float) -> float:
    """E[revenue] = n ∫_r^1 (2v − 1) v^{n−1} dv = (n−1)/(n+1) − 2n r^{n+1}/(n+1) + rⁿ
    (Myerson's virtual values; the same for every standard auction by revenue equivalence)."""
    return (n - 1) / (n + 1) - 2 * n * reserve ** (n + 1) / (n + 1) + reserve**n


def _second_price_bid(values: np.ndarray, n: int, reserve: float) -> np.ndarray:
    """b(v) = v: truthful bidding is weakly dominant (Vickrey 1961)."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(v >= reserve, v, 0.0)


def _all_pay_bid(values: np.ndarray, n: int, reserve: float) -> np.ndarray:
    """b(v) = (n − 1)/n · vⁿ for U[0, 1] (Krishna §3.2.2: b(v) = ∫_0^v y dF^{n−1}(y))."""
    v = np.asarray(values, dtype=np.float64)
    return (n - 1) / n * v**n


CLOSED_FORMS.register("first-price")(ClosedForm(
    "first-price", ("uniform",), True, _first_price_bid, _uniform_revenue,
    "Krishna, Auction Theory, Prop. 2.2 and §2.5 (reserve)"))
CLOSED_FORMS.register("second-price")(ClosedForm(
    "second-price", ("any",), True, _second_price_bid, _uniform_revenue,
    "Vickrey (1961); Krishna, Auction Theory, Prop. 2.1"))
CLOSED_FORMS.register("all-pay")(ClosedForm(
    "all-pay", ("uniform",), False, _all_pay_bid, lambda n, r: (n - 1) / (n + 1),
    "Krishna, Auction Theory, §3.2.2"))


def closed_form(auction: str, prior: str = "uniform", reserve: float = 0.0) -> ClosedForm | None:
    """The closed-form equilibrium of ``auction`` under ``prior`` and ``reserve``, or None
    when none is known (then ``l2_to_bne`` and ``linf_to_bne`` are not reported)."""
    if auction not in CLOSED_FORMS:
        return None
    form = CLOSED_FORMS[auction]
    return form if form.covers(prior, reserve) else None
