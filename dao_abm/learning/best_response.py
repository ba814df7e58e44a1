"""Best responses to the current profile: exact where possible, else over a grid.

``best_response`` (values fixed across rounds, strategies are bids) answers exactly, with
no grid, under Mechanism 1/2 (``Market.exact``); otherwise, or when a grid is given, it
picks the best candidate of the grid (``payoffs.py``), each evaluated exactly by the engine
or a closed form. ``best_response_shading`` (values drawn afresh, strategies are shading
factors) maximises the mean utility over common sampled values.

Both take ``members``: the members whose grid rows are evaluated (all when None). A round
in which few members revise needs only their rows; the others keep their strategies and
report a NaN gain. The exact path ignores it: it costs O(n) for everyone anyway.
"""

from __future__ import annotations

import numpy as np

from dao_abm.deviations.market import Market, member_rows
from dao_abm.deviations.payoffs import bid_payoffs, shading_payoffs
from dao_abm.learning.exact import exact_best_response
from dao_abm.learning.revision import Revision, revise
from dao_abm.learning.ties import check_tie_policy


def best_response(
    market: Market,
    values: np.ndarray,
    bids: np.ndarray,
    *,
    revising: np.ndarray,
    grid: np.ndarray | None = None,
    tie_policy: str = "keep",
    rng: np.random.Generator,
    members: np.ndarray | None = None,
    grid_max: float | None = None,
) -> Revision:
    """Revising members switch to a best response to everyone else's current bids.

    Args:
        market: mechanism, DAOs, valuation class.
        values: ``(n,)`` ("single") or ``(n, m)`` true values, fixed.
        bids: same shape: the current bids.
        revising: ``(n,)`` bool: who may change its bid (the others keep theirs).
        grid: None for the exact answer where the market has one (else ``DEFAULT_GRID``);
            a 1-D grid of multiples of the value, or absolute candidates ``(n, K)`` /
            ``(n, m, K)`` (see ``payoffs.py``).
        tie_policy: one of ``TIE_POLICIES`` (``ties.py``).
        rng: randomness for the "random" tie policy.
        members: ``(r,)`` indices of the members to evaluate on the grid, a superset of the
            revising ones; None for everyone. Ignored by the exact path.
        grid_max: the exact path's cap: best responses among bids in
            [0, grid_max · value] (``exact.py``); None for unrestricted ones. A grid is
            bounded by its own top.

    Returns:
        A ``Revision``: new bids, every member's gain (its epsilon; for several items,
        over single-item deviations unless items are separable; NaN outside ``members``),
        and who changed.
    """
    check_tie_policy(tie_policy)
    revising = _mask(revising, market)
    if grid is None and market.exact(1 if np.ndim(values) == 1 else np.shape(values)[-1]):
        return exact_best_response(
            market, values, bids, revising=revising, tie_policy=tie_policy, rng=rng,
            grid_max=grid_max,
        )
    pay = bid_payoffs(market, values, bids, grid, member_rows(market, members, covering=revising))
    return revise(pay, np.asarray(bids, dtype=np.float64), revising=revising,
                  tie_policy=tie_policy, rng=rng)


def best_response_shading(
    market: Market,
    value_samples: np.ndarray,
    alphas: np.ndarray,
    *,
    revising: np.ndarray,
    alpha_grid: np.ndarray,
    tie_policy: str = "keep",
    rng: np.random.Generator,
    members: np.ndarray | None = None,
) -> Revision:
    """Revising members switch to the shading factor with the best mean utility.

    Args:
        market: mechanism, DAOs, valuation class.
        value_samples: ``(S, n)`` or ``(S, n, m)`` sampled values, the same draws for every
            member (common random numbers), so comparisons between factors are paired.
        alphas: ``(n,)`` or ``(n, m)`` current shading factors (bid = alpha · value).
        revising: ``(n,)`` bool.
        alpha_grid: ``(K,)`` candidate factors; must contain 1.0 (truthful).
        tie_policy: one of ``TIE_POLICIES``; "truthful" means nearest to alpha = 1.
        rng: randomness for the "random" tie policy.
        members: ``(r,)`` members to evaluate (a superset of the revising ones), or None.

    Returns:
        A ``Revision`` whose strategies are the new factors and gains are in mean utility
        (NaN outside ``members``).
    """
    check_tie_policy(tie_policy)
    revising = _mask(revising, market)
    pay = shading_payoffs(market, value_samples, alphas, alpha_grid,
                          member_rows(market, members, covering=revising))
    return revise(pay, np.asarray(alphas, dtype=np.float64), revising=revising,
                  tie_policy=tie_policy, rng=rng)


def _mask(revising: np.ndarray, market: Market) -> np.ndarray:
    revising = np.asarray(revising)
    if revising.shape != (market.n_members,) or revising.dtype != bool:
        raise ValueError(f"revising must be a ({market.n_members},) bool array")
    return revising
