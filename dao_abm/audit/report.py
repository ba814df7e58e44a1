"""What a truthfulness audit reports (indices count from 0, as in arrays)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Witness:
    """The most profitable misreport found; indices count from 0.

    Attributes:
        instance: index of the instance.
        group: the member's group.
        member: the member's index within its group.
        item: the item whose bid changed (None in the single-item setting).
        value: the member's true value (a number, or a list of m item values).
        bid: the misreport (a number, or a list of m item bids).
        truthful_utility: its utility when bidding ``value``.
        deviating_utility: its utility when bidding ``bid``, everyone else truthful.
    """

    instance: int
    group: int
    member: int
    item: int | None
    value: float | list[float]
    bid: float | list[float]
    truthful_utility: float
    deviating_utility: float

    @property
    def gain(self) -> float:
        return self.deviating_utility - self.truthful_utility

    def to_dict(self) -> dict:
        return {**asdict(self), "gain": self.gain}


@dataclass(frozen=True)
class IrWitness:
    """The member worst off under truthful bids (individual rationality fails when its
    utility is below 0); indices count from 0.

    Attributes:
        instance: index of the instance.
        group: the member's group.
        member: the member's index within its group.
        value: its true value (a number, or a list of m item values), also its bid.
        payment: what it pays.
        utility: its utility (value of what it gets access to, minus ``payment``).
    """

    instance: int
    group: int
    member: int
    value: float | list[float]
    payment: float
    utility: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BudgetWitness:
    """The group whose members' payments miss its payment by the most (truthful bids).

    Attributes:
        instance: index of the instance.
        group: the group (from 0).
        group_payment: what the upper mechanism charges the group.
        members_paid: the sum of its members' payments.
    """

    instance: int
    group: int
    group_payment: float
    members_paid: float

    @property
    def residual(self) -> float:
        return self.group_payment - self.members_paid

    def to_dict(self) -> dict:
        return {**asdict(self), "residual": self.residual}


@dataclass(frozen=True)
class AuditReport:
    """What ``audit`` found.

    Attributes:
        instances: number of instances audited.
        members_checked: members whose misreports were searched (all of them).
        violations: members with a profitable misreport (gain > tol) that needs no tie.
        tie_violations: members whose only profitable misreports involve an exact tie.
        max_gain: the largest gain of a tie-free misreport (>= 0: truth is a candidate).
        witness: the misreport achieving ``max_gain``, or None when it is <= tol.
        budget_violations: groups (over all instances) whose members' payments miss the
            group's payment by more than tol under truthful bids.
        ir_violations: members with utility below -tol under truthful bids (failures of
            the mechanism's individual rationality).
        ir_witness: the member with the lowest truthful utility when it is below -tol.
        budget_witness: the group with the largest residual when it exceeds tol.
    """

    instances: int
    members_checked: int
    violations: int
    tie_violations: int
    max_gain: float
    witness: Witness | None
    budget_violations: int
    ir_violations: int
    ir_witness: IrWitness | None = None
    budget_witness: BudgetWitness | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("witness", "ir_witness", "budget_witness"):
            found = getattr(self, key)
            out[key] = found.to_dict() if found else None
        return out
