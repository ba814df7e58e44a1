"""``dao-abm audit``: search for profitable misreports (see ``dao_abm.audit``).

Instances come from FILE or from ``--instances N`` random ones (``random_instances``, seeded
by ``--seed``). ``--json`` prints one object: ``mechanism`` plus ``AuditReport.to_dict()``
(``instances``, ``members_checked``, ``violations``, ``tie_violations``, ``max_gain``,
``witness`` or null, ``budget_violations``, ``ir_violations``, ``ir_witness``,
``budget_witness``). The exit status is 0 whatever the verdict (it is a report) and 2 on bad
input.

``--matrix`` audits every preset × valuation class instead (``dao_abm.audit.matrix``; N
instances per class, default ``MATRIX_INSTANCES``), prints the property table with one
witness per failure, and with ``--out FILE`` / ``--readme FILE`` writes the table as JSON
and rewrites the README's property-table block (both atomically).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from dao_abm.audit import AuditReport, Witness, audit
from dao_abm.cli.app import (
    AggregationOpt,
    CostSharingOpt,
    JsonOpt,
    MechanismOpt,
    UpperOpt,
    app,
    format_number,
    mechanism_from,
    mechanism_label,
)
from dao_abm.errors import DaoAbmError
from dao_abm.instances import Instance, load_instances, random_instances

#: Items of random multi-item instances when ``--items`` is not given.
DEFAULT_ITEMS = 3
#: Random instances per valuation class of ``--matrix`` when ``--instances`` is not given.
MATRIX_INSTANCES = 200


@app.command("audit")
def audit_command(
    file: Annotated[Path | None, typer.Argument(
        metavar="FILE", help="Instances to audit (one JSON object or JSON Lines).",
        show_default=False)] = None,
    instances: Annotated[int | None, typer.Option(
        "--instances", "-n", min=1, help="Audit N random instances instead of FILE.",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random instances.")] = 0,
    valuation: Annotated[str | None, typer.Option(
        help="Random instances: single (default), additive or unit-demand.",
        show_default=False)] = None,
    items: Annotated[int | None, typer.Option(
        min=1, help=f"Random instances: items (default 1 for single, else {DEFAULT_ITEMS}).",
        show_default=False)] = None,
    mechanism: MechanismOpt = "dao-vickrey",
    aggregation: AggregationOpt = None,
    upper: UpperOpt = None,
    cost_sharing: CostSharingOpt = None,
    json_out: JsonOpt = False,
    matrix: Annotated[bool, typer.Option(
        "--matrix", help="Audit every preset x valuation class: the property table.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="--matrix: write the table as JSON here.", show_default=False)] = None,
    readme: Annotated[Path | None, typer.Option(
        help="--matrix: rewrite the property-table block of this README.",
        show_default=False)] = None,
) -> None:
    """Search misreports for a profitable one; check budget balance and individual rationality."""
    if matrix:
        if file is not None or valuation is not None or items is not None:
            raise DaoAbmError("--matrix draws its own instances of every valuation class; "
                              "drop FILE, --valuation and --items")
        if aggregation or upper or cost_sharing or mechanism != "dao-vickrey":
            raise DaoAbmError("--matrix audits every preset; drop the mechanism options")
        _matrix(instances or MATRIX_INSTANCES, seed, json_out, out, readme)
        return
    if out is not None or readme is not None:
        raise DaoAbmError("--out and --readme go with --matrix")
    mech = mechanism_from(mechanism, aggregation, upper, cost_sharing)
    chosen = _instances(file, instances, seed, valuation, items)
    start = time.perf_counter()
    report = audit(mech, chosen)
    seconds = time.perf_counter() - start
    if json_out:
        typer.echo(json.dumps({"mechanism": mechanism_label(mech), **report.to_dict()}))
    else:
        typer.echo(format_report(report, mechanism_label(mech), seconds))


def _instances(
    file: Path | None, n: int | None, seed: int, valuation: str | None, items: int | None
) -> list[Instance]:
    if file is None and n is None:
        raise DaoAbmError("give FILE or --instances N")
    if file is not None and n is not None:
        raise DaoAbmError("give FILE or --instances N, not both")
    if file is not None:
        if valuation is not None or items is not None:
            raise DaoAbmError("--valuation and --items describe random instances, not FILE")
        return load_instances(file)
    valuation = valuation or "single"
    if items is None:
        items = 1 if valuation == "single" else DEFAULT_ITEMS
    return random_instances(n, rng=np.random.default_rng(seed), valuation=valuation,
                            n_items=items)


def format_report(report: AuditReport, label: str, seconds: float) -> str:
    """A short readable verdict (instances, groups, members and items numbered from 1)."""
    r = report
    lines = [f"audit of {label}: {r.instances} instances, {r.members_checked} members "
             f"({seconds:.2f} s)"]
    if r.violations:
        lines.append(f"truthfulness: VIOLATED by {_members(r.violations)}; largest gain "
                     f"{r.max_gain:.6g}")
        lines.append(f"  e.g. {_describe(r.witness)}")
    else:
        lines.append(f"truthfulness: no profitable misreport found (largest gain "
                     f"{r.max_gain:.3g})")
    if r.tie_violations:
        lines.append(f"  {_members(r.tie_violations)} more gain only at exact ties")
    lines.append("budget balance: " + (f"{r.budget_violations} groups off"
                                       if r.budget_violations else "holds"))
    lines.append("individual rationality: " + (f"{_members(r.ir_violations)} below 0"
                                               if r.ir_violations else "holds"))
    return "\n".join(lines)


def _members(count: int) -> str:
    return f"{count} member" + ("" if count == 1 else "s")


def _describe(w: Witness | None) -> str:
    if w is None:
        return "-"
    on = "" if w.item is None else f" on item {w.item + 1}"
    return (f"instance {w.instance + 1}, member {w.member + 1} of group {w.group + 1} "
            f"(value {format_number(w.value)}) bids {format_number(w.bid)}{on}: utility "
            f"{w.truthful_utility:.6g} -> {w.deviating_utility:.6g}")


def _matrix(n: int, seed: int, json_out: bool, out: Path | None, readme: Path | None) -> None:
    """Run ``audit_matrix``, print it, write ``out`` and ``readme`` (checked first)."""
    from dao_abm.audit.matrix import audit_matrix
    from dao_abm.audit.properties import PropertyTable, render_markdown, replace_block
    from dao_abm.experiments.store import write_json, write_text

    text = _readable(readme) if readme is not None else None
    if text is not None:
        replace_block(text, "", str(readme))  # fail before the long run, not after
    if out is not None and not out.parent.is_dir():
        raise DaoAbmError(f"--out {out}: folder {out.parent} does not exist")
    start = time.perf_counter()
    cells = audit_matrix(instances=n, seed=seed, done=lambda c: typer.echo(
        f"  audited {c.preset} x {c.valuation} ({time.perf_counter() - start:.0f} s)",
        err=True))
    table = PropertyTable(n, seed, tuple(cells))
    if out is not None:
        write_json(out, table.to_dict())
    if readme is not None:
        write_text(readme, replace_block(text, render_markdown(table), str(readme)))
    if json_out:
        typer.echo(json.dumps(table.to_dict()))
        return
    typer.echo(render_markdown(table))
    for cell in cells:
        for prop, w in cell.witnesses.items():
            shown = {k: v for k, v in w.items() if k != "instance"}
            typer.echo(f"witness, {cell.preset} x {cell.valuation}, {prop} (instance in "
                       f"--json): {json.dumps(shown)}")


def _readable(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DaoAbmError(f"--readme {path}: cannot read it ({exc.__class__.__name__})") from None
