"""Exact best responses under Mechanism 1 (single item) and Mechanism 2 (additive, item by
item), from critical bids (``critical.py``), with no candidate grid.

Against fixed others, member i's utility from bid b on an item is (v - c) if b >= theta
and 0 otherwise (c: critical bid and payment, theta: the float threshold of access, equal
to c up to group-bid ties). So the best responses are [theta, inf) when v > c, [0, theta)
when v < c, and every bid when v = c; truthful bidding is always among them except in the
degenerate tie cases described in ``critical.py``. The tie policies pick:

- "truthful": v if it is a best response, else theta (v > c) or the largest float below
  theta (v < c);
- "keep": the current bid if it is a best response, else as "truthful";
- "lowest": theta when v > c, else 0;
- "random": uniform over the best responses no higher than 2·max(v, theta).
"""

from __future__ import annotations

import numpy as np

from dao_abm.learning.critical import critical_bids
from dao_abm.learning.market import Market, with_items
from dao_abm.learning.revision import Revision, finish
from dao_abm.learning.ties import check_tie_policy


def exact_best_response(
    market: Market,
    values: np.ndarray,
    bids: np.ndarray,
    *,
    revising: np.ndarray,
    tie_policy: str,
    rng: np.random.Generator,
) -> Revision:
    """Best responses of the revising members, every member's gain (see module docstring).

    Args:
        market: a market whose ``exact(m)`` is True.
        values, bids: ``(n,)`` or ``(n, m)`` fixed values and the current bids.
        revising: ``(n,)`` bool.
        tie_policy: one of ``TIE_POLICIES``.
        rng: used by "random".
    """
    check_tie_policy(tie_policy)
    v, b = with_items(market, values, bids)
    theta, price = critical_bids(np.ascontiguousarray(b.T), market.groups, market.slot_index)
    theta, surplus = theta.T, v - price.T
    gain = (np.maximum(surplus, 0.0) - np.where(b >= theta, surplus, 0.0)).sum(axis=1)
    new = _pick(v, b, theta, surplus, tie_policy, rng)
    return finish(np.asarray(bids, dtype=np.float64), new, revising, gain)


def _pick(
    v: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    surplus: np.ndarray,
    policy: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(n, m)`` the best response each tie policy picks."""
    win = surplus > 0
    below = np.maximum(np.nextafter(theta, -np.inf), 0.0)  # largest bid without access
    if policy == "lowest":
        return np.where(win, theta, 0.0)
    if policy == "random":
        u = rng.random(v.shape)
        top = 2 * np.maximum(v, theta)
        draw = np.where(win, theta + u * (top - theta), np.minimum(u * theta, below))
        return np.where(surplus == 0, u * top, draw)
    truthful = np.where(_is_best(v, theta, surplus), v, np.where(win, theta, below))
    if policy == "truthful":
        return truthful
    return np.where(_is_best(b, theta, surplus), b, truthful)


def _is_best(x: np.ndarray, theta: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    return np.where(surplus > 0, x >= theta, (surplus == 0) | (x < theta))
