"""The audit loop: truthful checks, then every member's candidates in batched runs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from dao_abm.audit.candidates import Grid, deviate, member_candidates
from dao_abm.audit.report import AuditReport, BudgetWitness, IrWitness, Witness
from dao_abm.instances import Instance
from dao_abm.mechanisms import Groups, TwoLevelMechanism, utilities

#: Largest batch (rows x members x items) sent to the mechanism at once.
MAX_CELLS = 2_000_000


def audit(
    mechanism: TwoLevelMechanism,
    instances: Sequence[Instance],
    *,
    grid_points: int = 25,
    tol: float = 1e-9,
) -> AuditReport:
    """Audit ``mechanism`` on ``instances`` (bids are the true values); see ``dao_abm.audit``.

    Args:
        mechanism: the two-level mechanism.
        instances: the instances; ``Witness.instance`` indexes this sequence.
        grid_points: points in each of the three grids of a member's candidate bids.
        tol: gains, budget residuals and negative utilities up to ``tol`` are ignored.
    """
    grid = Grid.make(grid_points)
    tallies = [_audit_one(mechanism, inst, idx, grid, tol) for idx, inst in enumerate(instances)]
    best = max(tallies, key=lambda t: t.max_gain, default=None)
    max_gain = best.max_gain if best else 0.0
    poorest = min(tallies, key=lambda t: t.ir_witness.utility if t.ir_witness else 0.0,
                  default=None)
    unbalanced = max(tallies, key=lambda t: abs(t.budget_witness.residual)
                     if t.budget_witness else 0.0, default=None)
    return AuditReport(
        instances=len(tallies),
        members_checked=sum(inst.groups.n_members for inst in instances),
        violations=sum(t.violations for t in tallies),
        tie_violations=sum(t.tie_violations for t in tallies),
        max_gain=max_gain,
        witness=best.witness if best and max_gain > tol else None,
        budget_violations=sum(t.budget_violations for t in tallies),
        ir_violations=sum(t.ir_violations for t in tallies),
        ir_witness=poorest.ir_witness if poorest else None,
        budget_witness=unbalanced.budget_witness if unbalanced else None,
    )


@dataclass
class _Tally:
    violations: int = 0
    tie_violations: int = 0
    max_gain: float = 0.0
    witness: Witness | None = None
    budget_violations: int = 0
    ir_violations: int = 0
    ir_witness: IrWitness | None = None
    budget_witness: BudgetWitness | None = None


def _audit_one(
    mech: TwoLevelMechanism, inst: Instance, index: int, grid: Grid, tol: float
) -> _Tally:
    values, groups = inst.bids, inst.groups
    truth = mech.run(values, groups, inst.valuation)
    u0 = utilities(values, truth)
    paid = np.bincount(groups.labels, weights=truth.member_payments, minlength=groups.n_groups)
    residual = np.abs(truth.group_payments - paid)
    tally = _Tally(
        budget_violations=int((residual > tol).sum()),
        ir_violations=int((u0 < -tol).sum()),
        ir_witness=_ir_witness(inst, index, u0, truth.member_payments, tol),
        budget_witness=None if residual.max(initial=0.0) <= tol else BudgetWitness(
            index, int(residual.argmax()), float(truth.group_payments[residual.argmax()]),
            float(paid[residual.argmax()])),
    )
    flip = _FlippedTies(mech, inst, tied_truth=bool(_top_tie(truth.group_bids).any()))
    candidates = [member_candidates(inst, truth, i, grid) for i in range(len(u0))]
    best_free = np.full(len(u0), -np.inf)
    best_tied = np.full(len(u0), -np.inf)
    for members in _batches([c[0].size for c in candidates], values[0].size * len(u0)):
        member = np.repeat(members, [candidates[i][0].size for i in members])
        item = np.concatenate([candidates[i][0] for i in members])
        bid = np.concatenate([candidates[i][1] for i in members])
        profile = deviate(values, member, item, bid)
        out = mech.run(profile, groups, inst.valuation, validate=False)
        utility = utilities(values, out)[np.arange(member.size), member]
        gain = utility - u0[member]
        tie_only = flip.tie_only(profile, member, _top_tie(out.group_bids).any(axis=-1), tol)
        free = np.where(tie_only, -np.inf, gain)
        np.maximum.at(best_free, member, free)
        np.maximum.at(best_tied, member, np.where(tie_only, gain, -np.inf))
        row = int(np.argmax(free))
        if free[row] > tally.max_gain:
            tally.max_gain = float(free[row])
            tally.witness = _witness(inst, index, int(member[row]), int(item[row]),
                                     profile[row], u0[member[row]], utility[row])
    tally.violations = int((best_free > tol).sum())
    tally.tie_violations = int(((best_free <= tol) & (best_tied > tol)).sum())
    return tally


class _FlippedTies:
    """The same instance with group indices reversed, so the upper mechanism's tie rule
    (lowest index wins) picks the other end of every tie. A candidate whose profile or
    truthful profile has a top-two tie on some lot has a gain "only because of a tie" when
    that gain is <= tol once ties break the other way."""

    def __init__(self, mech: TwoLevelMechanism, inst: Instance, *, tied_truth: bool) -> None:
        self.mech, self.inst, self.tied_truth = mech, inst, tied_truth
        self.groups = Groups.from_labels(inst.groups.n_groups - 1 - inst.groups.labels)
        self._u0: np.ndarray | None = None

    def utilities(self, profile: np.ndarray) -> np.ndarray:
        out = self.mech.run(profile, self.groups, self.inst.valuation, validate=False)
        return utilities(self.inst.bids, out)

    def tie_only(
        self, profile: np.ndarray, member: np.ndarray, tied: np.ndarray, tol: float
    ) -> np.ndarray:
        """``(R,)`` True for rows whose gain vanishes when ties break the other way."""
        tied = tied | self.tied_truth
        rows = np.flatnonzero(tied)
        if rows.size == 0:
            return tied
        if self._u0 is None:
            self._u0 = self.utilities(self.inst.bids)
        gain = self.utilities(profile[rows])[np.arange(rows.size), member[rows]]
        tied[rows] = gain - self._u0[member[rows]] <= tol
        return tied


def _batches(rows: list[int], cells_per_row: int) -> Iterator[list[int]]:
    """Consecutive members whose candidate rows fit in ``MAX_CELLS`` (at least one)."""
    batch: list[int] = []
    size = 0
    for i, count in enumerate(rows):
        if batch and (size + count) * cells_per_row > MAX_CELLS:
            yield batch
            batch, size = [], 0
        batch.append(i)
        size += count
    if batch:
        yield batch


def _top_tie(group_bids: np.ndarray) -> np.ndarray:
    """``(..., L, k) -> (..., L)``: the two highest group bids of the lot are equal."""
    k = group_bids.shape[-1]
    if k < 2:
        return np.zeros(group_bids.shape[:-1], dtype=bool)
    top = np.partition(group_bids, k - 2, axis=-1)[..., -2:]
    return top[..., 0] == top[..., 1]


def _witness(
    inst: Instance, index: int, i: int, item: int, bids: np.ndarray, truthful: float,
    deviating: float,
) -> Witness:
    g = int(inst.groups.labels[i])
    return Witness(
        instance=index,
        group=g,
        member=_position(inst, i),
        item=None if inst.valuation == "single" else item,
        value=inst.bids[i].tolist(),
        bid=bids[i].tolist(),
        truthful_utility=float(truthful),
        deviating_utility=float(deviating),
    )


def _ir_witness(
    inst: Instance, index: int, u0: np.ndarray, payments: np.ndarray, tol: float
) -> IrWitness | None:
    """The member with the lowest truthful utility, if it is below ``-tol``."""
    i = int(np.argmin(u0))
    if u0[i] >= -tol:
        return None
    g = int(inst.groups.labels[i])
    return IrWitness(index, g, _position(inst, i), inst.bids[i].tolist(),
                     float(payments[i]), float(u0[i]))


def _position(inst: Instance, i: int) -> int:
    """Member ``i``'s index within its group."""
    labels = inst.groups.labels
    return int((labels[:i] == labels[i]).sum())
