"""The one rule for equal group bids: among equal highest group bids the lowest group index
wins.

Everything that decides who gets a lot when group bids are equal imports it from here: the
upper mechanisms (``upper.py``: ``winner``), Mechanism 1's critical bids and the deviation
kernels (``competition``), the compiled exact best response, the compiled settle
(``compiled.py``) and the re-formation counterfactual (``wins_tie``). The Banchio &
Skrzypacz replication (``dao_abm.ensemble``) may break ties with a fair coin instead, as that
paper does (``compiled.winner_and_price`` takes the tied group to pick).
"""

from __future__ import annotations

import numpy as np


def wins_tie(group, other):
    """Whether ``group`` beats ``other`` when their bids are equal (ints or int arrays; plain
    enough for numba to compile)."""
    return group < other


def winner(group_bids: np.ndarray) -> np.ndarray:
    """``(...)`` the winning group of each row of ``group_bids`` ``(..., k)``: the highest
    bid, the lowest index among equal highest bids (``np.argmax`` returns the first)."""
    return group_bids.argmax(axis=-1)


def competition(group_bids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What each group must beat, under this tie rule.

    Args:
        group_bids: ``(R, k)`` group bids for one lot.

    Returns:
        ``p`` ``(R, k)``: the highest bid among the *other* groups (0 with no other group),
        and ``tie_win`` ``(R, k)``: True when the group wins if its bid equals ``p``, i.e. it
        wins a tie against every other group bidding ``p``.
    """
    rows = np.arange(group_bids.shape[0])
    first = winner(group_bids)
    top = group_bids[rows, first]
    rest = group_bids.copy()
    rest[rows, first] = -np.inf
    second = winner(rest)
    runner_up = rest[rows, second]
    ids = np.arange(group_bids.shape[1])
    is_top = ids == first[:, None]
    p = np.where(is_top, runner_up[:, None], top[:, None])
    tie_win = np.where(is_top, wins_tie(first, second)[:, None], wins_tie(ids, first[:, None]))
    alone = ~np.isfinite(runner_up)[:, None] & is_top
    return np.where(alone, 0.0, p), tie_win | alone
