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

from dao_abm.deviations.closed_forms import singleton_outcome
from dao_abm.deviations.market import Market
from dao_abm.mechanisms import AGGREGATIONS, Groups, utilities
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.mechanisms.ties import competition

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
    market: Market, lot_bids: np.ndarray, x: np.ndarray, members: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Access and payment of each member deviating alone on one lot.

    Args:
        market: the market (its ``single_lot`` mechanism is run).
        lot_bids: ``(R, n)`` current member bids for the lot.
        x: ``(R, r, D)`` candidate bids of each deviating member.
        members: ``(r,)`` the deviating members (row i is ``members[i]``), None for all n.

    Returns:
        ``access`` ``(R, r, D)`` bool and ``payment`` ``(R, r, D)``.

    Raises:
        ValueError: the sub-markets would exceed ``SUBMARKET_LIMIT`` member bids.
    """
    groups, (rows, _, width) = market.groups, x.shape
    who = np.arange(groups.n_members) if members is None else members
    sizes = groups.sizes[groups.labels[who]]  # (r,) size of each deviator's group
    _check_cost(market, rows * width * int((sizes + 1)[sizes > 1].sum()))
    group_bids = AGGREGATIONS[market.mechanism.aggregation](LotBids(lot_bids, groups))
    p, tie_win = competition(group_bids)
    access, payment = np.zeros(x.shape, dtype=bool), np.zeros(x.shape)
    alone = np.flatnonzero(sizes == 1)
    if alone.size:
        gid = groups.labels[who[alone]]
        access[:, alone], payment[:, alone] = singleton_outcome(
            x[:, alone], p[:, gid, None], tie_win[:, gid, None],
            pricing=market.pricing, cost_sharing=market.mechanism.cost_sharing,
            reserve=market.reserve,
        )
    for size in np.unique(sizes[sizes > 1]).tolist():  # distinct sizes only
        dev = np.flatnonzero(sizes == size)
        step = max(1, CHUNK // (rows * width * (size + 1)))
        for lo in range(0, dev.size, step):
            chunk = dev[lo : lo + step]
            access[:, chunk], payment[:, chunk] = _run_block(
                market, lot_bids, x[:, chunk], p, tie_win, who[chunk], size)
    return access, payment


def _check_cost(market: Market, cost: int) -> None:
    if cost > SUBMARKET_LIMIT:
        raise ValueError(
            f"deviations under {market.mechanism.name} need sub-markets of {cost:,} member "
            f"bids (K·Σ n_j², limit {SUBMARKET_LIMIT:,}); use fewer candidates or samples, "
            "smaller DAOs, or a mechanism with a closed form "
            "(dao-vickrey, split-the-bill, crowdfund)"
        )


def _run_block(
    market: Market,
    lot_bids: np.ndarray,
    x: np.ndarray,
    p: np.ndarray,
    tie_win: np.ndarray,
    deviators: np.ndarray,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-markets for ``d`` deviators whose groups all have ``size`` members: the group
    (in member order, the deviator's bid replaced by ``x`` ``(R, d, D)``) against one
    competitor bidding ``p`` ``(R, k)``. Returns ``(R, d, D)`` access and payment."""
    (rows, d, width), groups = x.shape, market.groups
    gid = groups.labels[deviators]
    mates = groups.order[groups.starts[gid, None] + np.arange(size)]  # (d, size)
    pos = (mates == deviators[:, None]).argmax(axis=1)  # the deviator's place in its group
    each = np.arange(d)
    sub = np.empty((rows, d, width, size + 1))
    sub[..., :size] = lot_bids[:, mates][:, :, None, :]
    sub[:, each, :, pos] = np.moveaxis(x, 1, 0)  # the deviator bids x
    sub[..., size] = p[:, gid, None]
    out = market.single_lot.run(sub.reshape(-1, size + 1), _pair(size), "single",
                                validate=False)
    shape = (rows, d, width, size + 1)
    acc = np.moveaxis(out.access[:, 0].reshape(shape)[:, each, :, pos], 0, 1)
    pay = np.moveaxis(out.lot_payments[:, 0].reshape(shape)[:, each, :, pos], 0, 1)
    bids = out.group_bids[:, 0].reshape(rows, d, width, 2)
    lost = (bids[..., 0] == bids[..., 1]) & ~tie_win[:, gid, None]
    return acc & ~lost, np.where(lost, 0.0, pay)


def full_market_utilities(
    market: Market,
    values: np.ndarray,
    bids: np.ndarray,
    candidates: np.ndarray,
    members: np.ndarray | None = None,
) -> np.ndarray:
    """``(*S, r, m, K)`` utilities of single-item deviations by full engine runs.

    Args:
        values, bids: ``(*S, n, m)``; candidates: ``(*S, r, m, K)``, row i for member
            ``members[i]`` (every member when ``members`` is None).

    Raises:
        ValueError: more than ``FULL_MARKET_LIMIT`` runs would be needed.
    """
    shape = candidates.shape
    n, m = bids.shape[-2], shape[-2]
    who = np.arange(n) if members is None else members
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
        member = who[member]
        dev = flat_b[row].copy()
        dev[np.arange(sel.size), member, item] = flat_c[row, rest]
        out[sel] = utilities(flat_v[row], market.run(dev))[np.arange(sel.size), member]
    return out.reshape(shape)
