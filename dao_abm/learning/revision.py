"""A revision of strategies, and how a choice among grid options becomes one.

Options are laid out in rows (``option_rows``). When a member's utility separates over
items (``Payoffs.separable``) each (member, item) is a row of K options and every item may
change at once. Otherwise each member is one row of m·K options, "set item l to option k",
so a revision changes at most one item (a coordinate-wise best response).

A table may hold rows for some members only (``Payoffs.members``); then only those members
can change strategy, and the others' gain is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.payoffs import Payoffs
from dao_abm.learning.ties import check_tie_policy, choose, tolerance


@dataclass(frozen=True, eq=False)
class Revision:
    """Strategies after one revision step.

    Attributes:
        strategies: new strategies, same shape as the old ones (bids or shading factors).
        gain: ``(n,)`` every member's best utility minus its current utility (>= 0), whether
            or not it revised: the member's epsilon; ``gain.max()`` is the profile's epsilon.
            NaN for members that were not evaluated (``members`` of the rules).
        changed: ``(n,)`` True for members whose strategy changed.
        regret: ``(n,)`` cumulative external regret (Hedge, Q-learning), else None.
    """

    strategies: np.ndarray
    gain: np.ndarray
    changed: np.ndarray
    regret: np.ndarray | None = None

    @property
    def epsilon(self) -> float:
        """The profile's epsilon: no member can gain more than this by deviating (NaN when
        some member was not evaluated)."""
        return float(self.gain.max())


def option_rows(pay: Payoffs) -> tuple[np.ndarray, ...]:
    """Rows of options (one per row of ``pay``, times items when separable): ``utils``
    ``(r, O)``, ``current`` ``(r,)``, ``distance`` and
    ``level`` ``(r, O)`` (from truthful, and how high), ``here`` (the current strategy's
    distance and level, ``(r,)`` each) and ``scale`` ``(r,)`` (the member's value scale)."""
    n, m, k = pay.options.shape
    s, t = pay.strategies, pay.truthful
    gap = np.abs(s - t)
    distance = np.abs(pay.options - t[..., None])
    if pay.separable:
        here = (gap.ravel(), s.ravel())
        return (pay.utilities.reshape(n * m, k), np.repeat(pay.current, m),
                distance.reshape(n * m, k), pay.options.reshape(n * m, k), here,
                np.repeat(pay.scale, m))
    distance = distance + (gap.sum(axis=1, keepdims=True) - gap)[..., None]
    level = pay.options + (s.sum(axis=1, keepdims=True) - s)[..., None]
    here = (gap.sum(axis=1), s.sum(axis=1))
    return (pay.utilities.reshape(n, m * k), pay.current, distance.reshape(n, m * k),
            level.reshape(n, m * k), here, pay.scale)


def apply_choice(pay: Payoffs, choice: np.ndarray) -> np.ndarray:
    """``(r, m)`` strategies of the table's members after each row takes its option (-1 =
    keep)."""
    _, m, k = pay.options.shape
    new = pay.strategies.copy()
    take = choice >= 0
    if pay.separable:
        rows = np.flatnonzero(take)
        member, item = np.divmod(rows, m)
        new[member, item] = pay.options[member, item, choice[rows]]
        return new
    member = np.flatnonzero(take)
    item, option = np.divmod(choice[member], k)
    new[member, item] = pay.options[member, item, option]
    return new


def finish(old: np.ndarray, new: np.ndarray, revising: np.ndarray, gain: np.ndarray,
           regret: np.ndarray | None = None, *, members: np.ndarray | None = None
           ) -> Revision:
    """Keep non-revising members' strategies and report, in the caller's shape.

    Args:
        old: ``(n[, m])`` strategies before; ``new``: ``(r, m)`` proposed strategies of
            ``members`` (``(n, m)`` when ``members`` is None); ``revising``: ``(n,)`` bool.
    """
    revising = np.asarray(revising, dtype=bool)
    old2 = old.reshape(old.shape[0], new.shape[-1])
    if members is None:
        new = np.where(revising[:, None], new, old2)
        return Revision(new.reshape(old.shape), gain, (new != old2).any(axis=1), regret)
    move = revising[members]
    who, proposed = members[move], new[move]
    new = old2.copy()
    new[who] = proposed
    changed = np.zeros(old2.shape[0], dtype=bool)
    changed[who] = (proposed != old2[who]).any(axis=1)
    return Revision(new.reshape(old.shape), gain, changed, regret)


def revise(
    pay: Payoffs, strategies: np.ndarray, *, revising: np.ndarray, tie_policy: str,
    rng: np.random.Generator,
) -> Revision:
    """Best response over the grid options of ``pay`` for the revising members."""
    check_tie_policy(tie_policy)
    utils, current, distance, level, here, scale = option_rows(pay)
    choice, _ = choose(
        utils, current, distance, level, here, policy=tie_policy, tol=tolerance(scale), rng=rng
    )
    return finish(strategies, apply_choice(pay, choice), revising, pay.gain,
                  members=pay.members)
