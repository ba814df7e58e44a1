"""What the model tracks every round: pure functions of arrays (Mesa-free).

Column names here are the ``metrics.csv`` contract (see the README's run-folder section).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dao_abm.deviations import Market, deviation_utilities
from dao_abm.mechanisms import Groups, Outcome

#: Upper edges of the DAO-size buckets used for bid/value by DAO size: 1, 2-3, 4-7, ...
SIZE_BUCKETS = (1, 3, 7, 15, 31, 63, 127, np.inf)
SIZE_BUCKET_NAMES = ("1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128+")


def bid_ratios(bids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(n,)`` bid/value per member (mean over items; members of value 0 count as 1 if they
    bid 0, else as ``inf`` clipped to 10)."""
    ratio = np.divide(bids, values, out=np.where(bids > 0, 10.0, 1.0), where=values > 0)
    ratio = np.minimum(ratio, 10.0)
    return ratio.mean(axis=-1) if ratio.ndim > 1 else ratio


def truthful_mask(bids: np.ndarray, values: np.ndarray, tol: float) -> np.ndarray:
    """``(n,)`` True where every item bid is within ``tol`` (relative) of the value."""
    close = np.abs(bids - values) <= tol * np.abs(values) + 1e-12
    return close.all(axis=-1) if close.ndim > 1 else close


def auction_metrics(
    mv: np.ndarray, outcome: Outcome, optimum: float, groups: Groups
) -> dict[str, float]:
    """Welfare, ratio, revenue, budget balance, negative realized utilities and the winner
    of the first lot.

    ``negative_utility_members`` counts members whose realized utility is below 0 (beyond
    rounding): members who overbid and pay more than their value, or any member under a
    rule that charges more than a truthful bid (not individually rational). It is *not* the
    mechanism's IR failure count; that is ``ir_failures`` (``own_bid_metrics``).

    Args:
        mv: ``(n,)`` each member's true value for its access set (``member_values``).
    """
    utility = mv - outcome.member_payments
    welfare = float(mv.sum())
    winner = int(outcome.winner.reshape(-1)[0])
    access = outcome.access.any(axis=-2)
    return {
        "welfare": welfare,
        "optimal_welfare": float(optimum),
        "approximation_ratio": ratio(optimum, welfare),
        "revenue": float(outcome.revenue),
        "budget_residual": float(np.abs(outcome.budget_residual)),
        "negative_utility_members": int((utility < -1e-9 * max(1.0, float(np.abs(mv).max())))
                                        .sum()),
        "winner_dao": winner,
        "winner_size": int(groups.sizes[winner]) if winner >= 0 else 0,
        "price": float(outcome.price.reshape(-1)[0]),
        "n_access": int(access.sum()),
    }


def ratio(optimum: float, welfare: float) -> float:
    """OPT/welfare; 1 when both are 0, inf when only welfare is 0."""
    if welfare > 0:
        return optimum / welfare
    return 1.0 if optimum <= 0 else float("inf")


#: Columns of ``own_bid_metrics``.
OWN_BID_COLUMNS = ("outcome_truthful_share", "pivotal_members", "pivotal_truthful_share",
                   "ir_failures")


def own_bid_metrics(market: Market, values: np.ndarray, bids: np.ndarray,
                    utility: np.ndarray, dev: np.ndarray | None = None) -> dict[str, float]:
    """What each member's own bid does for it this round, every other bid fixed.

    Each member's utility is evaluated had it bid its value and had it bid 0
    (``deviation_utilities``), beside its realized ``utility``.

    Returns:
        ``outcome_truthful_share``: members whose bid gets them the utility bidding their
        value would (with several items: truthful on any one item changes nothing). In a
        single-item run this counts every member that loses whatever it bids, so random
        bids score near 1. ``pivotal_members``: members whose utility is not the same under
        bidding 0, their value and their bid — the members whose own bid matters.
        ``pivotal_truthful_share``: among those, the share whose bid gets them the truthful
        utility (NaN when none): outcome equivalence that is not just losing anyway.
        ``ir_failures``: members whose truthful bid leaves them with negative utility,
        failures of the mechanism's individual rationality (Section 2). The last three are
        evaluated where utilities are separable over items (``Market.separable``: one
        item, or additive values item by item), else NaN.

    Args:
        market: the mechanism and DAOs that ran this round.
        values, bids: ``(n,)`` or ``(n, m)``.
        utility: ``(n,)`` realized utilities.
        dev: ``own_bid_deviations(market, values, bids)`` if already computed (an ensemble
            computes it for all its sessions in one call).
    """
    tol = 1e-9 * max(1.0, float(np.abs(values).max()))
    if dev is None:
        dev = own_bid_deviations(market, values, bids)
    dev = dev[:, None, :] if dev.ndim == 2 else dev  # (n, m, 2)
    same = np.abs(dev[..., 0] - utility[:, None]) <= tol
    row = dict.fromkeys(OWN_BID_COLUMNS, float("nan"))
    row["outcome_truthful_share"] = float(same.all(axis=-1).mean())
    if not market.separable(dev.shape[-2]):
        return row
    joint = utility[:, None] + (dev - utility[:, None, None]).sum(axis=-2)  # every item
    truthful, abstain = joint[:, 0], joint[:, 1]
    same = np.abs(utility - truthful) <= tol
    pivotal = ~(same & (np.abs(abstain - truthful) <= tol))
    n_pivotal = int(pivotal.sum())
    return row | {
        "pivotal_members": n_pivotal,
        "pivotal_truthful_share": float(same[pivotal].mean()) if n_pivotal else float("nan"),
        "ir_failures": int((truthful < -tol).sum()),
    }


def own_bid_deviations(market: Market, values: np.ndarray, bids: np.ndarray) -> np.ndarray:
    """``(*S, n[, m], 2)`` each member's utility had it alone bid its value, and 0
    (``deviation_utilities``; ``values`` and ``bids`` may have leading profile axes)."""
    candidates = np.stack([values, np.zeros_like(values)], axis=-1)  # truthful, abstain
    return deviation_utilities(market, values, bids, candidates)


def strategy_metrics(
    bids: np.ndarray, values: np.ndarray, ratios: np.ndarray, tol: float
) -> dict[str, float]:
    """Truthful share, mean bid/value ratio (``ratios`` from ``bid_ratios``) and the largest
    bid/value of any member on any item (a positive bid on a value of 0 counts as 10, as in
    ``bid_ratios``): at most ``learning.grid_high``, the bid cap."""
    return {
        "truthful_share": float(truthful_mask(bids, values, tol).mean()),
        "mean_bid_ratio": float(ratios.mean()),
        "max_bid_ratio": float(bid_ratios(bids.reshape(-1), values.reshape(-1)).max()),
    }


def by_size(ratios: np.ndarray, groups: Groups) -> list[dict[str, float]]:
    """Per DAO-size bucket (1, 2-3, 4-7, ...): how many DAOs and members it holds and their
    mean bid/value ratio (NaN when empty). Summed per DAO first, then per bucket, so no
    per-member bucket lookup is needed. Rows of the tidy ``by_size.csv``."""
    per_dao = np.bincount(groups.labels, weights=ratios, minlength=groups.n_groups)
    bucket = np.searchsorted(np.asarray(SIZE_BUCKETS), groups.sizes, side="left")
    total = np.bincount(bucket, weights=per_dao, minlength=len(SIZE_BUCKETS))
    members = np.bincount(bucket, weights=groups.sizes, minlength=len(SIZE_BUCKETS))
    daos = np.bincount(bucket, minlength=len(SIZE_BUCKETS))
    mean = np.divide(total, members, out=np.full(total.shape, np.nan), where=members > 0)
    return [
        {"dao_size": name, "n_daos": int(d), "n_members": int(n), "mean_bid_ratio": float(r)}
        for name, d, n, r in zip(SIZE_BUCKET_NAMES, daos, members, mean, strict=True)
    ]


def dao_metrics(groups: Groups) -> dict[str, float]:
    return {
        "n_daos": groups.n_groups,
        "mean_dao_size": float(groups.sizes.mean()),
        "max_dao_size": groups.max_size,
    }


def converged_stretch(converged: Sequence[float]) -> int | None:
    """First row r (1-based) of the run of converged rows (``converged`` true: a rule's own
    criterion, e.g. q-learning's greedy profile held for K rounds) that the record ends in;
    None if the last row has not converged."""
    held = np.asarray(converged, dtype=np.float64) > 0
    if not held.size or not held[-1]:
        return None
    breaks = np.flatnonzero(~held)
    return int(breaks[-1]) + 2 if breaks.size else 1


def converged_round(changed: Sequence[float], max_gain: Sequence[float], tol: float,
                    window: int) -> int | None:
    """First round r (1-based) such that in rounds r..r+K-1 no strategy changed or the
    largest gain stayed below ``tol``, and the run had at least K rounds from r on.

    A NaN gain means epsilon was not measured that round (``metrics.epsilon_every``): such
    a round counts as settled only if no strategy changed."""
    gain = np.asarray(max_gain, dtype=np.float64)
    settled = (np.asarray(changed) == 0) | (~np.isnan(gain) & (gain <= tol))
    run = 0
    for i, ok in enumerate(settled):
        run = run + 1 if ok else 0
        if run == window:
            return i - window + 2
    return None
