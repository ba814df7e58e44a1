"""What the model tracks every round: pure functions of arrays (Mesa-free).

Column names here are the ``metrics.csv`` contract (see the README's run-folder section).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
    """Welfare, ratio, revenue, budget balance, IR and the winner of the first lot.

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
        "ir_violations": int((utility < -1e-9 * max(1.0, float(np.abs(mv).max()))).sum()),
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


def strategy_metrics(
    bids: np.ndarray, values: np.ndarray, ratios: np.ndarray, tol: float
) -> dict[str, float]:
    """Truthful share and mean bid/value ratio (``ratios`` from ``bid_ratios``)."""
    return {
        "truthful_share": float(truthful_mask(bids, values, tol).mean()),
        "mean_bid_ratio": float(ratios.mean()),
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
