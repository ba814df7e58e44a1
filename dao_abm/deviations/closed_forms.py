"""O(1)-per-candidate lot outcomes of one member's deviation, where a closed form exists.

Both functions answer: member i alone changes its bid for a lot to x; does it get access to
the lot, and what does it pay? The other groups' bids are summarised by ``p`` (highest other
group bid) and ``tie_win`` (see ``mechanisms.ties.competition``); a lot goes to the group bidding
above ``p``, or exactly ``p`` when it wins ties.

- ``sum_outcome``: the ``sum`` aggregation (``split-the-bill``, ``crowdfund`` presets), where
  the group bid is (others' sum) + x. A ConstitutionDAO-sized group (17,437 members) costs
  the same per candidate as a group of one. The deviated group bid is (sum of the members
  before i) + x + (sum of those after i); the engine adds the last part one bid at a time,
  so the two can differ by an ulp, and a deviation that ties group bids *exactly* may then
  resolve differently (measure zero for continuous bids; exact for sums of dyadic bids).
- ``singleton_outcome``: groups of one under any composition, since every aggregation is
  the identity on one member (Section 2).
"""

from __future__ import annotations

import numpy as np

from dao_abm.mechanisms import Groups
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.ties import competition


def _wins(bid: np.ndarray, p: np.ndarray, tie_win: np.ndarray) -> np.ndarray:
    return (bid > p) | ((bid == p) & tie_win)


def sum_outcome(
    lot_bids: np.ndarray,
    x: np.ndarray,
    groups: Groups,
    *,
    pricing: str,
    cost_sharing: str,
    members: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Deviation outcomes under the ``sum`` aggregation.

    Args:
        lot_bids: ``(R, n)`` current member bids for the lot.
        x: ``(R, r, D)`` deviations: member i's bid replaced by ``x[., i, d]`` (row i is
            member ``members[i]``, or member i when ``members`` is None).
        groups: the membership.
        pricing: "second" (pay the highest other group bid) or "first" (pay own bid).
        cost_sharing: "equal-split-all" (every member pays price / n_j) or "proportional"
            (members bidding > 0 get access and pay price · x / group bid).
        members: ``(r,)`` the deviating members, or None for all ``n``.

    Returns:
        ``access`` ``(R, r, D)`` bool and ``payment`` ``(R, r, D)``.
    """
    labels = groups.labels if members is None else groups.labels[members]
    p, tie_win = competition(LotBids(lot_bids, groups).group_reduce(np.add))
    p, tie_win = p[:, labels, None], tie_win[:, labels, None]
    before, after = partial_sums(lot_bids, groups)
    if members is not None:
        before, after = before[:, members], after[:, members]
    bid = (before[..., None] + x) + after[..., None]  # the engine's order, left to right
    won = _wins(bid, p, tie_win)
    price = p if pricing == "second" else bid
    if cost_sharing == "equal-split-all":
        return won, np.where(won, price / groups.sizes[labels, None], 0.0)
    access = won & (x > 0)
    share = np.divide(price, bid, out=np.zeros(access.shape), where=access)
    return access, np.where(access, x * share, 0.0)


def partial_sums(bids: np.ndarray, groups: Groups) -> tuple[np.ndarray, np.ndarray]:
    """``(R, n)`` sums of the bids before and after each member within its group (in
    member order, as the engine sums), by running sums on the padded block layout: no
    "total minus own bid", whose cancellation would cost ulps of the whole group's sum."""
    laid = np.take(bids, groups.layout, axis=1)
    if groups.layout_pad is not None:
        laid[:, groups.layout_pad] = 0.0
    before, after = np.zeros_like(laid), np.zeros_like(laid)
    for block in groups.blocks:  # O(log n) blocks
        shape = (laid.shape[0], -1, block.width)
        rows = laid[:, block.offset : block.stop].reshape(shape)
        before[:, block.offset : block.stop].reshape(shape)[..., 1:] = np.cumsum(
            rows[..., :-1], axis=-1)
        after[:, block.offset : block.stop].reshape(shape)[..., :-1] = np.cumsum(
            rows[..., :0:-1], axis=-1)[..., ::-1]
    real = slice(None) if groups.layout_pad is None else ~groups.layout_pad
    out_before, out_after = np.empty_like(bids), np.empty_like(bids)
    out_before[:, groups.layout[real]] = before[:, real]
    out_after[:, groups.layout[real]] = after[:, real]
    return out_before, out_after


def singleton_outcome(
    x: np.ndarray, p: np.ndarray, tie_win: np.ndarray, *, pricing: str, cost_sharing: str,
    reserve: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Deviation outcomes of members who are alone in their group.

    Args:
        x: ``(R, n1, D)`` the member's candidate bids.
        p: ``(R, n1, 1)`` highest other group bid; ``tie_win``: ``(R, n1, 1)``.
        pricing: "second" or "first".
        cost_sharing: any rule; alone, a member pays the whole price, except under
            "proportional", which grants nothing to a zero bid.
        reserve: the reserve price: the highest bid sells only if it is at least the
            reserve, for max(price, reserve) (``two_level.apply_reserve``).

    Returns:
        ``access`` ``(R, n1, D)`` bool and ``payment`` ``(R, n1, D)``.
    """
    won = _wins(x, p, tie_win) & (x >= reserve)
    price = np.broadcast_to(np.maximum(p, reserve) if pricing == "second" else x, won.shape)
    if cost_sharing != "proportional":
        return won, np.where(won, price, 0.0)
    access = won & (x > 0)
    share = np.divide(price, x, out=np.zeros(access.shape), where=access)
    return access, np.where(access, x * share, 0.0)
