"""Exact deviation outcomes for any composition, by running the engine on small markets.

A member's deviation changes only its own group's bid, so for a single lot priced by the
highest (other) group bid it is enough to run the member's group (its bid replaced) against
ONE singleton competitor bidding the highest other group bid. The sub-market puts the group
at index 0, so it wins ties; where the competitor should win the tie instead (it stands for
a lower-indexed group) the outcome is overridden to "lost". Sub-markets are batched by group
size, so the only Python loop is over distinct sizes (and memory chunks). Cost: K·Σ n_j²
member bids per lot — fine for small DAOs; the ``sum`` presets and Mechanism 1 have closed
forms instead (``closed_forms.py``, ``critical.py``).

VCG with unit-demand values and several items couples the items, so there the fallback is
one full-market run per (member, item, candidate): O(n²·m·K) bids and a Python loop over
rows inside the engine's VCG. It is meant for small audits and refuses large inputs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dao_abm.learning.closed_forms import singleton_outcome
from dao_abm.learning.critical import competition
from dao_abm.learning.market import Market
from dao_abm.mechanisms import AGGREGATIONS, Groups, utilities
from dao_abm.mechanisms.lot_bids import LotBids

#: Most member bids one ``deviation_utilities`` call may put into sub-markets.
SUBMARKET_LIMIT = 50_000_000
#: Member bids per engine call (memory bound).
CHUNK = 2_000_000
#: Most full-market engine runs (VCG, unit-demand) one call may make.
FULL_MARKET_LIMIT = 20_000


@lru_cache(maxsize=128)
def _pair(size: int) -> Groups:
    return Groups.from_sizes([size, 1])


def submarket_outcome(
    market: Market, lot_bids: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Access and payment of each member deviating alone on one lot.

    Args:
        market: the market (its ``single_lot`` mechanism is run).
        lot_bids: ``(R, n)`` current member bids for the lot.
        x: ``(R, n, D)`` candidate bids of each member.

    Returns:
        ``access`` ``(R, n, D)`` bool and ``payment`` ``(R, n, D)``.

    Raises:
        ValueError: the sub-markets would exceed ``SUBMARKET_LIMIT`` member bids.
    """
    groups, (rows, _, width) = market.groups, x.shape
    sizes = groups.sizes
    _check_cost(market, rows * width)
    group_bids = AGGREGATIONS[market.mechanism.aggregation](LotBids(lot_bids, groups))
    p, tie_win = competition(group_bids)
    access, payment = np.zeros(x.shape, dtype=bool), np.zeros(x.shape)
    alone = np.flatnonzero(sizes[groups.labels] == 1)
    if alone.size:
        gid = groups.labels[alone]
        access[:, alone], payment[:, alone] = singleton_outcome(
            x[:, alone], p[:, gid, None], tie_win[:, gid, None],
            pricing=market.pricing, cost_sharing=market.mechanism.cost_sharing,
        )
    for size in np.unique(sizes[sizes > 1]).tolist():  # distinct sizes only
        gids = np.flatnonzero(sizes == size)
        step = max(1, CHUNK // (rows * width * size * (size + 1)))
        for lo in range(0, gids.size, step):
            chunk = gids[lo : lo + step]
            members = groups.order[groups.starts[chunk, None] + np.arange(size)]
            acc, pay = _run_block(market, lot_bids, x, p[:, chunk], tie_win[:, chunk], members)
            access[:, members], payment[:, members] = acc, pay
    return access, payment


def _check_cost(market: Market, deviations_per_member: int) -> None:
    sizes = market.groups.sizes
    cost = deviations_per_member * int((sizes * (sizes + 1))[sizes > 1].sum())
    if cost > SUBMARKET_LIMIT:
        raise ValueError(
            f"deviations under {market.mechanism.name} need sub-markets of {cost:,} member "
            f"bids (K·Σ n_j², limit {SUBMARKET_LIMIT:,}); use fewer candidates or samples, "
            "smaller DAOs, or a mechanism with a closed form (dao-vickrey, free-rider, crowdfund)"
        )


def _run_block(
    market: Market,
    lot_bids: np.ndarray,
    x: np.ndarray,
    p: np.ndarray,
    tie_win: np.ndarray,
    members: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-markets for ``g`` groups of equal size ``s`` (``members`` ``(g, s)``); returns
    ``(R, g, s, D)`` access and payment of the deviating member."""
    (rows, _, width), (g, s) = x.shape, members.shape
    sub = np.empty((rows, g, s, width, s + 1))
    sub[..., :s] = lot_bids[:, members][:, :, None, None, :]
    diag = np.arange(s)
    sub[:, :, diag, :, diag] = np.moveaxis(x[:, members, :], 2, 0)  # member a bids x
    sub[..., s] = p[:, :, None, None]
    out = market.single_lot.run(sub.reshape(-1, s + 1), _pair(s), "single", validate=False)
    shape = (rows, g, s, width, s + 1)
    acc = np.moveaxis(out.access[:, 0].reshape(shape)[:, :, diag, :, diag], 0, 2)
    pay = np.moveaxis(out.lot_payments[:, 0].reshape(shape)[:, :, diag, :, diag], 0, 2)
    bids = out.group_bids[:, 0].reshape(rows, g, s, width, 2)
    lost = (bids[..., 0] == bids[..., 1]) & ~tie_win[:, :, None, None]
    return acc & ~lost, np.where(lost, 0.0, pay)


def full_market_utilities(
    market: Market, values: np.ndarray, bids: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """``(*S, n, m, K)`` utilities of single-item deviations by full engine runs.

    Args:
        values, bids: ``(*S, n, m)``; candidates: ``(*S, n, m, K)``.

    Raises:
        ValueError: more than ``FULL_MARKET_LIMIT`` runs would be needed.
    """
    shape = candidates.shape
    n, m = shape[-3], shape[-2]
    flat_v, flat_b = values.reshape(-1, n, m), bids.reshape(-1, n, m)
    flat_c = candidates.reshape(flat_b.shape[0], -1)
    total = flat_c.size
    if total > FULL_MARKET_LIMIT:
        raise ValueError(
            f"{market.mechanism.name} with unit-demand values couples the items: deviations "
            f"need {total:,} full-market runs (O(n²·m·K), limit {FULL_MARKET_LIMIT:,}); "
            "use fewer members or candidates"
        )
    out = np.empty(total)
    flat = np.arange(total)
    for lo in range(0, total, 2_000):
        sel = flat[lo : lo + 2_000]
        row, rest = np.divmod(sel, flat_c.shape[1])
        member, item = np.divmod(rest // shape[-1], m)
        dev = flat_b[row].copy()
        dev[np.arange(sel.size), member, item] = flat_c[row, rest]
        out[sel] = utilities(flat_v[row], market.run(dev))[np.arange(sel.size), member]
    return out.reshape(shape)
