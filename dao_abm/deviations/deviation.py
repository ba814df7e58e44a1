"""Utilities of unilateral deviations: the one primitive every learning rule is built on.

``deviation_utilities`` answers, for every member i and candidate bid x: what is i's utility
if it alone changes its bid (for several items: only its bid for item l) to x? It evaluates
the affected lot with the market's kernel (see ``market.py``) and leaves every other lot of
the member as in the current outcome, so each answer is what the engine would return for
the deviated profile.

``members`` restricts the question to some members (the rows a learning rule will act on):
the lot's state (competition, partial sums, critical bids) is still computed from every
bid, in O(n), but candidates are evaluated only for those members, so a round in which 5%
of the members revise costs 5% of the per-candidate work. The answers are the same numbers
as the full call's rows.
"""

from __future__ import annotations

import numpy as np

from dao_abm.deviations.closed_forms import sum_outcome
from dao_abm.deviations.critical import critical_bids
from dao_abm.deviations.market import Market, member_rows, with_items
from dao_abm.deviations.submarket import full_market_utilities, submarket_outcome
from dao_abm.mechanisms import Outcome


def deviation_utilities(
    market: Market,
    values: np.ndarray,
    bids: np.ndarray,
    candidates: np.ndarray,
    members: np.ndarray | None = None,
) -> np.ndarray:
    """Each member's utility when it alone changes one bid to each candidate.

    Args:
        market: the mechanism, DAOs and valuation class.
        values: ``(*S, n)`` for "single", ``(*S, n, m)`` otherwise: true values.
        bids: same shape as ``values``: the current profile (finite, >= 0).
        candidates: ``(r, K)`` ("single") or ``(r, m, K)``, optionally with the leading
            ``*S`` axes too (per-profile candidates, e.g. shading factors times sampled
            values); nonnegative. ``r = n``, or the number of ``members``.
        members: ``(r,)`` indices of the members to evaluate (row i of the candidates and
            of the answer is member ``members[i]``); None for every member.

    Returns:
        ``(*S, r, K)`` or ``(*S, r, m, K)``: entry ``[..., i, (l,) k]`` is member i's total
        utility (over all items) when its bid (for item l) is ``candidates[..., i, (l,) k]``
        and every other bid is as in ``bids``.
    """
    v, b = with_items(market, values, bids)
    rows = member_rows(market, members)
    single = market.valuation == "single"
    cand = np.asarray(candidates, dtype=np.float64)
    cand = cand[..., None, :] if single else cand
    n_rows = b.shape[-2] if rows is None else rows.size
    cand = np.broadcast_to(cand, (*b.shape[:-2], n_rows, b.shape[-1], cand.shape[-1]))
    if (cand < 0).any() or not np.isfinite(cand).all():
        raise ValueError("candidate bids must be finite and >= 0")
    m = b.shape[-1]
    if market.full_market(m):
        out = full_market_utilities(market, v, b, cand, rows)
    elif market.upper.bundled:
        out = _bundled(market, v, b, cand, rows)
    else:
        out = _per_item(market, v, b, cand, market.run(b if not single else b[..., 0]), rows)
    return out[..., 0, :] if single else out


def lot_outcome(
    market: Market, lot_bids: np.ndarray, x: np.ndarray, members: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Access ``(R, r, D)`` and payment ``(R, r, D)`` of each member (every member, or row i
    for member ``members[i]``) bidding ``x[., i, d]`` alone on a lot whose current member
    bids are ``lot_bids`` ``(R, n)``."""
    groups = market.groups
    if market.kernel == "critical":
        theta, price = critical_bids(lot_bids, groups, market.slot_index)
        if members is not None:
            theta, price = theta[:, members], price[:, members]
        access = x >= theta[..., None]
        return access, np.where(access, price[..., None], 0.0)
    if market.kernel == "sum":
        return sum_outcome(lot_bids, x, groups, pricing=market.pricing,
                           cost_sharing=market.mechanism.cost_sharing, members=members)
    return submarket_outcome(market, lot_bids, x, members)


def _per_item(
    market: Market, v: np.ndarray, b: np.ndarray, cand: np.ndarray, current: Outcome,
    rows: np.ndarray | None,
) -> np.ndarray:
    """One lot per item: deviate on lot l, keep the member's other lots."""
    batch, n, (r, m, k) = b.shape[:-2], b.shape[-2], cand.shape[-3:]
    lot_bids = np.moveaxis(b, -1, -2).reshape(-1, n)
    x = np.moveaxis(cand, -2, -3).reshape(lot_bids.shape[0], r, k)
    acc, pay = lot_outcome(market, lot_bids, x, rows)
    acc = np.moveaxis(acc.reshape(*batch, m, r, k), -3, -2)  # (*S, r, m, K)
    pay = np.moveaxis(pay.reshape(*batch, m, r, k), -3, -2)
    cur_acc = np.moveaxis(current.access.reshape(*batch, m, n), -1, -2)
    cur_pay = np.moveaxis(current.lot_payments.reshape(*batch, m, n), -1, -2)
    if rows is not None:
        v, cur_acc, cur_pay = v[..., rows, :], cur_acc[..., rows, :], cur_pay[..., rows, :]
    paid = cur_pay.sum(axis=-1)[..., None, None] - cur_pay[..., None] + pay
    held = np.where(cur_acc, v, 0.0)
    if market.valuation == "unit-demand":
        kept = _max_excluding_each(held)[..., None]
        return np.maximum(kept, np.where(acc, v[..., None], 0.0)) - paid
    kept = held.sum(axis=-1)[..., None, None] - held[..., None]
    return kept + np.where(acc, v[..., None], 0.0) - paid


def _bundled(
    market: Market, v: np.ndarray, b: np.ndarray, cand: np.ndarray, rows: np.ndarray | None
) -> np.ndarray:
    """All items as one lot: a deviation on item l moves the member's bundle bid."""
    batch, n, (r, m, k) = b.shape[:-2], b.shape[-2], cand.shape[-3:]
    mine, v = (b, v) if rows is None else (b[..., rows, :], v[..., rows, :])
    if market.valuation == "unit-demand":
        lot_bids = b.max(axis=-1)
        x = np.maximum(_max_excluding_each(mine)[..., None], cand)
        worth = v.max(axis=-1)
    else:  # the deviated bundle summed as the engine sums it (no cancellation)
        lot_bids = b.sum(axis=-1)
        swapped = np.repeat(mine[..., None, None, :], k, axis=-2)  # (*S, r, 1, K, m)
        swapped = np.repeat(swapped, m, axis=-3)  # (*S, r, m, K, m)
        swapped[..., np.arange(m), :, np.arange(m)] = np.moveaxis(cand, -2, 0)
        x = swapped.sum(axis=-1)
        worth = v.sum(axis=-1)
    lot_bids = lot_bids.reshape(-1, n)
    acc, pay = lot_outcome(market, lot_bids, x.reshape(lot_bids.shape[0], r, m * k), rows)
    acc, pay = acc.reshape(*batch, r, m, k), pay.reshape(*batch, r, m, k)
    return np.where(acc, worth[..., None, None], 0.0) - pay


def _max_excluding_each(a: np.ndarray) -> np.ndarray:
    """``(..., m)``: max over the last axis leaving out each entry in turn (0 if m = 1;
    inputs are >= 0)."""
    if a.shape[-1] == 1:
        return np.zeros_like(a)
    top2 = -np.partition(-a, 1, axis=-1)[..., :2]
    first = a.argmax(axis=-1)[..., None]
    is_first = np.arange(a.shape[-1]) == first
    return np.where(is_first, top2[..., 1:2], top2[..., 0:1])
