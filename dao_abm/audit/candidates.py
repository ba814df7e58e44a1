"""Candidate misreports of one member: a grid plus the breakpoints of its outcome."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.instances import Instance
from dao_abm.mechanisms import Outcome

#: Nudges applied to every breakpoint: c·(1 ± REL_NUDGE) ± ABS_NUDGE.
REL_NUDGE = 1e-9
ABS_NUDGE = 1e-12


@dataclass(frozen=True)
class Grid:
    """Grid points shared by all members: ``relative`` multiplies the member's value,
    ``absolute`` (in [0, 1]) twice the instance's largest bid."""

    relative: np.ndarray
    absolute: np.ndarray

    @classmethod
    def make(cls, points: int) -> Grid:
        relative = np.concatenate([[0.0, 1.0], np.linspace(0, 3, points),
                                   np.geomspace(1e-3, 3, points)])
        return cls(relative, np.linspace(0, 1, points))


def member_candidates(
    inst: Instance, truth: Outcome, i: int, grid: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """``(items, bids)``: every candidate misreport of member ``i``, item by item."""
    per_item = [item_candidates(inst, truth, i, item, grid) for item in range(inst.n_items)]
    items = np.repeat(np.arange(inst.n_items), [c.size for c in per_item])
    return items, np.concatenate(per_item)


def item_candidates(inst: Instance, truth: Outcome, i: int, item: int, grid: Grid) -> np.ndarray:
    """Candidate bids of member ``i`` for ``item``: the grid, and the breakpoints of the lot
    holding the item. A breakpoint is a group-bid level X its group may cross (another
    group's bid, the lot's price, and for unit-demand the level where the upper mechanism
    would swap lots, G_own(l') - G_j(l') + G_j(l)) turned into the member's bid for the lot
    (X / s for s = 1..n_j, as WTP multiplies the s-th bid by s; X - S_-i for the sum), or
    another member's bid in its group. For a lot of several additive items the member's
    other items in the lot are subtracted."""
    v = inst.bids[:, None] if inst.valuation == "single" else inst.bids
    labels = inst.groups.labels
    own = labels == labels[i]
    lot = int(np.argmax(truth.lots[:, item]))
    in_lot = truth.lots[lot]
    lot_bids = v[:, in_lot].max(axis=1) if inst.valuation == "unit-demand" else v[:, in_lot].sum(1)
    group_bids = truth.group_bids
    others = np.delete(group_bids, labels[i], axis=1)
    levels = [others[lot], truth.price[lot, None]]
    if inst.valuation == "unit-demand" and group_bids.shape[0] > 1:
        levels.append((group_bids[:, labels[i], None] - others + others[lot]).ravel())
    level = np.concatenate(levels)
    rest = lot_bids[own].sum() - lot_bids[i]
    targets = np.concatenate([
        (level[:, None] / np.arange(1, own.sum() + 1)).ravel(),
        level - rest,
        lot_bids[own & (np.arange(labels.size) != i)],
    ])
    if inst.valuation == "additive" and in_lot.sum() > 1:
        targets = np.concatenate([targets, targets - (lot_bids[i] - v[i, item])])
    nudged = np.concatenate([
        targets, targets * (1 + REL_NUDGE) + ABS_NUDGE, targets * (1 - REL_NUDGE) - ABS_NUDGE
    ])
    bids = np.concatenate([v[i, item] * grid.relative, 2 * v.max() * grid.absolute, nudged])
    return np.unique(bids[np.isfinite(bids) & (bids >= 0)])


def deviate(
    values: np.ndarray, member: np.ndarray, item: np.ndarray, bid: np.ndarray
) -> np.ndarray:
    """``(R, n[, m])`` truthful profiles with row r's member bidding ``bid[r]`` on its item."""
    profile = np.repeat(values[None], member.size, axis=0)
    rows = np.arange(member.size)
    if values.ndim == 1:
        profile[rows, member] = bid
    else:
        profile[rows, member, item] = bid
    return profile
