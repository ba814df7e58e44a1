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
        ir_violations: members with utility below -tol under truthful bids.
    """

    instances: int
    members_checked: int
    violations: int
    tie_violations: int
    max_gain: float
    witness: Witness | None
    budget_violations: int
    ir_violations: int

    def to_dict(self) -> dict:
        out = asdict(self)
        out["witness"] = self.witness.to_dict() if self.witness else None
        return out
