"""The property table: every preset × valuation class audited on random instances.

For each valuation class (Section 2: single item; additive and unit-demand over
``VALUATION_ITEMS`` items) one set of random instances (``random_instances``, seeded) is
drawn, and every preset is audited on the same instances (``dao_abm.audit.audit``). A cell
records, under truthful bids:

- ``dsic``: members with a profitable misreport that needs no exact tie (``violations``),
  and apart from them the members whose only gains come from exact ties (``tie_violations``,
  measure zero: they do not make a cell fail);
- ``ir``: members whose truthful report leaves them with negative utility;
- ``bb``: groups whose members' payments miss the group's payment;

with one witness per failing property, self-contained (it carries its instance), so
``replay`` can check it with one engine call. ``dao-abm audit --matrix`` writes the table
(``properties.json``, read by ``dao_abm.audit.properties``) and the README block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from dao_abm.audit.report import AuditReport
from dao_abm.audit.search import audit
from dao_abm.instances import Instance, parse_instance, random_instances
from dao_abm.mechanisms import PRESETS, preset, utilities

#: Items of the random instances of each valuation class.
VALUATION_ITEMS = {"single": 1, "additive": 3, "unit-demand": 3}
#: The properties of a cell and how the table names them (Section 2 of the paper).
PROPERTIES = {"dsic": "truthful (DSIC)", "ir": "individually rational",
              "bb": "budget-balanced"}
#: Gains, negative utilities and budget residuals up to this are float noise.
TOL = 1e-9


@dataclass(frozen=True)
class PropertyCell:
    """The audit of one preset on one valuation class.

    Attributes:
        preset: the preset's name.
        valuation: "single", "additive" or "unit-demand".
        instances: random instances audited.
        members: members checked (over all instances).
        groups: groups (over all instances).
        dsic_violations: members with a tie-free profitable misreport.
        tie_violations: further members who gain only at exact ties.
        ir_violations: members with negative utility under truthful bids.
        bb_violations: groups whose members' payments miss the group's payment.
        witnesses: property -> witness (with its ``instance`` in the JSON instance format)
            for every failing property.
    """

    preset: str
    valuation: str
    instances: int
    members: int
    groups: int
    dsic_violations: int
    tie_violations: int
    ir_violations: int
    bb_violations: int
    witnesses: dict[str, dict] = field(default_factory=dict)

    def holds(self, prop: str) -> bool:
        """True when the audit found no failure of ``prop`` ("dsic", "ir" or "bb")."""
        return self.violations(prop) == 0

    def violations(self, prop: str) -> int:
        if prop not in PROPERTIES:
            raise ValueError(f"unknown property {prop!r}; choose one of: "
                             f"{', '.join(PROPERTIES)}")
        return getattr(self, f"{prop}_violations")

    def to_dict(self) -> dict:
        return asdict(self)


def audit_matrix(
    *,
    instances: int,
    seed: int,
    presets: Iterable[str] = tuple(PRESETS),
    valuations: Iterable[str] = tuple(VALUATION_ITEMS),
    done: Callable[[PropertyCell], object] | None = None,
) -> list[PropertyCell]:
    """Audit every preset × valuation class on ``instances`` random instances each.

    Args:
        instances: random instances per valuation class (shared by all presets).
        seed: seed of the instances; valuation class c uses ``SeedSequence(seed)``'s child c.
        presets: preset names (default: all).
        valuations: valuation classes (default: all of ``VALUATION_ITEMS``).
        done: called with each cell as it is finished (progress).
    """
    presets, valuations = list(presets), list(valuations)
    streams = np.random.SeedSequence(seed).spawn(len(VALUATION_ITEMS))
    cells = []
    for valuation in valuations:
        stream = streams[list(VALUATION_ITEMS).index(valuation)]
        chosen = random_instances(instances, rng=np.random.default_rng(stream),
                                  valuation=valuation, n_items=VALUATION_ITEMS[valuation])
        for name in presets:
            cell = cell_of(name, valuation, chosen, audit(preset(name), chosen, tol=TOL))
            if done is not None:
                done(cell)
            cells.append(cell)
    return cells


def cell_of(name: str, valuation: str, chosen: list[Instance], report: AuditReport
            ) -> PropertyCell:
    """The table's cell for ``report``, an audit of preset ``name`` on ``chosen``."""
    found = {"dsic": report.witness, "ir": report.ir_witness, "bb": report.budget_witness}
    witnesses = {prop: {**w.to_dict(), "instance": chosen[w.instance].to_dict()}
                 for prop, w in found.items() if w is not None}
    return PropertyCell(
        preset=name, valuation=valuation, instances=report.instances,
        members=report.members_checked,
        groups=sum(inst.groups.n_groups for inst in chosen),
        dsic_violations=report.violations, tie_violations=report.tie_violations,
        ir_violations=report.ir_violations, bb_violations=report.budget_violations,
        witnesses=witnesses,
    )


def replay(cell: PropertyCell, prop: str) -> float:
    """Re-run the engine on ``cell``'s witness of ``prop``: the gain of the misreport
    ("dsic"), the member's truthful utility ("ir") or the group's budget residual ("bb")."""
    w = cell.witnesses[prop]
    inst = parse_instance(w["instance"], f"witness of {prop}")
    mech = preset(cell.preset)
    truth = mech.run(inst.bids, inst.groups, inst.valuation)
    u0 = utilities(inst.bids, truth)
    if prop == "bb":
        members = inst.groups.labels == w["group"]
        return float(truth.group_payments[w["group"]] - truth.member_payments[members].sum())
    i = int(np.flatnonzero(inst.groups.labels == w["group"])[w["member"]])
    if prop == "ir":
        return float(u0[i])
    bids = inst.bids.copy()
    bids[i] = w["bid"]
    return float(utilities(inst.bids, mech.run(bids, inst.groups, inst.valuation))[i] - u0[i])
