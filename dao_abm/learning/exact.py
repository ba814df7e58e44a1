"""Exact best responses under Mechanism 1 (single item) and Mechanism 2 (additive, item by
item), from critical bids (``deviations/critical.py``), with no candidate grid.

Against fixed others, member i's utility from bid b on an item is (v - c) if b >= theta
and 0 otherwise (c: critical bid and payment, theta: the float threshold of access, equal
to c up to group-bid ties). So the best responses are [theta, inf) when v > c, [0, theta)
when v < c, and every bid when v = c; truthful bidding is always among them except in the
degenerate tie cases described in ``deviations/critical.py``. The tie policies pick:

- "truthful": v if it is a best response, else theta (v > c) or the largest float below
  theta (v < c);
- "keep": the current bid if it is a best response, else as "truthful";
- "lowest": theta when v > c, else 0;
- "random": uniform over the best responses in [0, cap], cap = grid_max·v.

The cap. With ``grid_max`` given (the model passes its relative grid's top,
``learning.grid_high``) every policy answers within [0, grid_max·v]: the best response among
bids no higher than the cap. It differs from the unrestricted one only where theta >
grid_max·v although v > c, which happens at exact group-bid ties (the group loses ties, so
access needs a group bid strictly above p; members bidding exactly their thresholds, as
under "lowest", make such ties common): then no bid in the set wins, all are equally good,
and "truthful" bids v, "keep" keeps its bid, "lowest" bids 0 and "random" draws from [0,
cap]. The reported gain is still the unrestricted one. Without ``grid_max`` the answers are
unrestricted and "random" uses the top of ``DEFAULT_GRID`` (2) for its cap, so its draws are
always bounded; a member valuing the item at 0 then bids 0.

"keep" and "truthful" (the common policies) are answered in the slot order of the critical
bids: whether a bid gets access is s·b >= hurdle there (``Thresholds``), so theta is needed
only for the few bids that must move, and the only random memory access is one gather of
the values into slot order (no scatter of thresholds and prices back to members).
"""

from __future__ import annotations

import numpy as np

from dao_abm.deviations.critical import (
    Thresholds,
    critical_bids,
    float_below,
    smallest_winning_bid,
)
from dao_abm.deviations.market import Market, with_items
from dao_abm.deviations.payoffs import DEFAULT_GRID
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
    grid_max: float | None = None,
) -> Revision:
    """Best responses of the revising members, every member's gain (see module docstring).

    Args:
        market: a market whose ``exact(m)`` is True.
        values, bids: ``(n,)`` or ``(n, m)`` fixed values and the current bids.
        revising: ``(n,)`` bool.
        tie_policy: one of ``TIE_POLICIES``.
        rng: used by "random".
        grid_max: the cap: best responses among bids in [0, grid_max · value]; None for
            unrestricted ones ("random" then draws below 2 · value).
    """
    check_tie_policy(tie_policy)
    revision = _best_response(market, values, bids, revising, tie_policy, rng, grid_max)
    if grid_max is None or tie_policy == "random":
        return revision
    return _within_cap(revision, np.asarray(bids, dtype=np.float64),
                       np.asarray(values, dtype=np.float64), grid_max, tie_policy)


def _best_response(market: Market, values: np.ndarray, bids: np.ndarray,
                   revising: np.ndarray, tie_policy: str, rng: np.random.Generator,
                   grid_max: float | None) -> Revision:
    v, b = with_items(market, values, bids)
    old = np.asarray(bids, dtype=np.float64)
    if tie_policy in ("keep", "truthful"):
        # --- compiled dispatch (exact_numba.py): one item, numba present ---
        from dao_abm.learning import exact_numba  # numba costs ~0.8 s to import: when used

        if b.ndim == 2 and b.shape[1] == 1 and old.ndim == 1 and exact_numba.available():
            new, gain, changed = exact_numba.nearest_to_truthful_single(
                b[:, 0], v[:, 0], revising, market.groups, keep=tie_policy == "keep",
            )
            return Revision(new, gain, changed)
        # --- end compiled dispatch ---
        return nearest_to_truthful(market, v, b, old, revising, keep=tie_policy == "keep")
    theta, price = critical_bids(np.ascontiguousarray(b.T), market.groups, market.slot_index)
    theta, surplus = theta.T, v - price.T
    gain = (np.abs(surplus) * ~_is_best(b >= theta, surplus)).sum(axis=1)
    win = surplus > 0
    if tie_policy == "lowest":
        return finish(old, np.where(win, theta, 0.0), revising, gain)
    cap = float(DEFAULT_GRID[-1]) if grid_max is None else grid_max
    return finish(old, _random_best(v, theta, surplus, cap, rng), revising, gain)


def _random_best(v: np.ndarray, theta: np.ndarray, surplus: np.ndarray, grid_max: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Uniform draws from the best responses in [0, top], top = grid_max·max(v, 0): [theta,
    top] when v > c, [0, theta) when v < c, all of [0, top] when v = c or theta > top (no
    bid in the set wins, so all are equally good)."""
    u = rng.random(v.shape)
    top = grid_max * np.maximum(v, 0.0)
    draw = np.where((surplus > 0) & (theta <= top), theta + u * (top - theta), u * top)
    return np.where(surplus < 0, np.minimum(u * np.minimum(theta, top), _below(theta)), draw)


def _within_cap(revision: Revision, old: np.ndarray, values: np.ndarray, grid_max: float,
                tie_policy: str) -> Revision:
    """Members whose new bid exceeds grid_max·value (their only best responses lie above
    the cap) take the policy's choice among the capped bids, all equally good: "truthful"
    bids its value, "keep" its old bid, "lowest" 0. Only changed members are inspected."""
    who = np.flatnonzero(revision.changed)
    new, v = revision.strategies[who], values[who]
    over = new > grid_max * v
    if not over.any():
        return revision
    fallback = {"truthful": v, "keep": old[who], "lowest": np.zeros_like(v)}[tie_policy]
    strategies = revision.strategies.copy()
    strategies[who] = np.where(over, fallback, new)
    changed = revision.changed.copy()
    changed[who] = (strategies[who] != old[who]).reshape(who.size, -1).any(axis=1)
    return Revision(strategies, revision.gain, changed, revision.regret)


def nearest_to_truthful(
    market: Market, v: np.ndarray, b: np.ndarray, old: np.ndarray, revising: np.ndarray,
    *, keep: bool,
) -> Revision:
    """"keep" / "truthful" in slot order: gain |v - c| where the current bid is no best
    response (= max(v - c, 0) - (v - c)·[b >= theta]); the moving bids go to v if it is
    a best response, else to theta or just below it.

    The reference implementation of the compiled kernel
    ``exact_numba.nearest_to_truthful_single`` (one item), held equal to it bit for bit by
    ``tests/test_learning_exact_numba.py``.

    Args:
        market: a market whose ``exact(m)`` is True.
        v, b: ``(n, m)`` values and bids with an item axis (``market.with_items``).
        old: the bids in the caller's shape; revising: ``(n,)`` bool.
        keep: True for "keep", False for "truthful".
    """
    index = market.slot_index
    t = Thresholds.of(np.ascontiguousarray(b.T), market.groups, index)  # a row per item
    v_slot = _to_slots(v, t.owner)
    surplus = v_slot - t.p / t.s_max
    moves = ~_is_best(t.s_star * t.srt >= t.hurdle, surplus)
    # "truthful": every member starts from v, and moves only where v is no best response
    fix = moves if keep else ~_is_best(t.s_star * v_slot >= t.hurdle, surplus)
    if index.real is not None:  # padding slots
        moves &= index.real
        fix &= index.real
    n, m = b.shape
    gain = np.zeros((n, m))
    item, slot = np.nonzero(moves)
    gain[t.owner[item, slot], item] = np.abs(surplus[item, slot])
    gain = gain[:, 0] if m == 1 else gain.sum(axis=1)
    if not keep:
        item, slot = np.nonzero(fix)
    s_star, hurdle, value = t.s_star[item, slot], t.hurdle[item, slot], v_slot[item, slot]
    theta = smallest_winning_bid(s_star, hurdle)
    best_v = _is_best(s_star * value >= hurdle, surplus[item, slot])
    new = np.where(best_v, value, np.where(surplus[item, slot] > 0, theta, _below(theta)))
    who = t.owner[item, slot]
    if not keep:
        proposed = v.copy()
        proposed[who, item] = new
        return finish(old, proposed, revising, gain)
    members, row = np.unique(who, return_inverse=True)
    proposed = b[members]
    proposed[row, item] = new
    return finish(old, proposed, revising, gain, members=members)


def _to_slots(v: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``(m, N)`` the value of each slot's owner for the slot's item (``v``: ``(n, m)``)."""
    if v.shape[1] == 1:
        return v[:, 0][owner]
    return np.take_along_axis(np.ascontiguousarray(v.T), owner, axis=1)


def _below(theta: np.ndarray) -> np.ndarray:
    """The largest bid without access: one ulp below theta > 0, and 0 at theta = 0."""
    return np.fmax(float_below(theta), 0.0)


def _is_best(access: np.ndarray, surplus: np.ndarray) -> np.ndarray:
    """A bid is best iff it gets access when the surplus is positive and none when it is
    negative; any bid is best at zero surplus."""
    win, lose = surplus > 0, surplus < 0
    return (win & access) | (lose & ~access) | ~(win | lose)
