"""``dao-abm auction FILE``: run one two-level mechanism on every instance of a file.

``--json`` is a stable contract other tools rely on: one JSON object per instance, one per
line, in file order, with exactly the keys of ``AUCTION_KEYS`` (indices count from 0):

- ``group_bids``: per group, its bid (a number when there is one lot: one item, or all
  items sold as a bundle), else a list of its m item bids;
- ``group_items``: per group, the sorted items it won;
- ``group_payments``: per group, what it pays the auctioneer;
- ``member_items``: per group, per member (file order), the items it has access to;
- ``member_payments``: per group, per member, what it pays;
- ``welfare``, ``optimal_welfare``: Section 2's social welfare and OPT, bids read as values;
- ``approximation_ratio``: OPT / welfare (1 when both are 0, null when only welfare is 0);
- ``revenue``: the auctioneer's revenue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

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
from dao_abm.instances import Instance, load_instances
from dao_abm.mechanisms import TwoLevelMechanism, approximation_ratio, optimal_welfare, welfare

AUCTION_KEYS = (
    "group_bids", "group_items", "group_payments", "member_items", "member_payments",
    "welfare", "optimal_welfare", "approximation_ratio", "revenue",
)


@app.command("auction")
def auction(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="One JSON instance, or JSON Lines (one instance per line).",
        show_default=False)],
    mechanism: MechanismOpt = "dao-vickrey",
    aggregation: AggregationOpt = None,
    upper: UpperOpt = None,
    cost_sharing: CostSharingOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a two-level auction on each instance in FILE; bids are read as true values."""
    mech = mechanism_from(mechanism, aggregation, upper, cost_sharing)
    instances = load_instances(file)
    results = [auction_result(inst, mech) for inst in instances]
    if json_out:
        for result in results:
            typer.echo(json.dumps(result, allow_nan=False))
        return
    typer.echo(f"mechanism: {mechanism_label(mech)}\n")
    typer.echo("\n\n".join(
        format_table(inst, result, f"instance {i}")
        for i, (inst, result) in enumerate(zip(instances, results, strict=True), 1)
    ))


def auction_result(inst: Instance, mech: TwoLevelMechanism) -> dict:
    """The ``--json`` object (keys ``AUCTION_KEYS``) of ``mech`` on ``inst``."""
    out = mech.run(inst.bids, inst.groups, inst.valuation)
    achieved = float(welfare(inst.bids, out))
    optimum = float(optimal_welfare(inst.bids, inst.groups, inst.valuation))
    ratio = float(approximation_ratio(optimum, achieved))
    bids = out.group_bids  # (L, k)
    members = [np.flatnonzero(inst.groups.labels == j) for j in range(inst.groups.n_groups)]
    return {
        "group_bids": bids[0].tolist() if bids.shape[0] == 1 else bids.T.tolist(),
        "group_items": [np.flatnonzero(won).tolist() for won in out.group_items],
        "group_payments": out.group_payments.tolist(),
        "member_items": [[np.flatnonzero(out.member_items[i]).tolist() for i in idx]
                         for idx in members],
        "member_payments": [out.member_payments[idx].tolist() for idx in members],
        "welfare": achieved,
        "optimal_welfare": optimum,
        "approximation_ratio": ratio if np.isfinite(ratio) else None,
        "revenue": float(out.revenue),
    }


def format_table(inst: Instance, result: dict, title: str) -> str:
    """A readable table of ``result`` (groups, members and items numbered from 1)."""
    num = format_number
    setting = "single item" if inst.n_items == 1 else f"{inst.n_items} items, {inst.valuation}"
    group_rows = [["group", "bid", "won", "pays"]]
    member_rows = [["member", "bid", "access", "pays"]]
    for j, size in enumerate(inst.group_sizes):
        group_rows.append([str(j + 1), num(result["group_bids"][j]),
                           _items(result["group_items"][j]), num(result["group_payments"][j])])
        first = sum(inst.group_sizes[:j])
        for i in range(size):
            member_rows.append([f"{j + 1}.{i + 1}", num(inst.bids[first + i].tolist()),
                                _items(result["member_items"][j][i]),
                                num(result["member_payments"][j][i])])
    ratio = result["approximation_ratio"]
    summary = (f"welfare {num(result['welfare'])}, OPT {num(result['optimal_welfare'])}, "
               f"OPT/welfare {'inf' if ratio is None else num(ratio)}, "
               f"revenue {num(result['revenue'])}")
    body = [*_align(group_rows), *_align(member_rows), summary]
    return "\n".join([f"{title}: {setting}", *("  " + line for line in body)])


def _items(items: list[int]) -> str:
    return ",".join(str(item + 1) for item in items) or "-"


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
