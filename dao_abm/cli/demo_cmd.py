"""``dao-abm demo``: the paper's worked instances under two mechanisms.

``demo()`` runs every instance of ``models/paper_instances.jsonl`` (bundled with the package)
through ``dao-vickrey`` and ``split-the-bill`` and prints the auction tables. JSON has no
comments, so the file's lines are documented here, in order:

1. Mechanism 1 by hand: groups (5, 4, 1) and (7). WTP = (8, 7); G1 wins at 7, its two top
   members pay 3.5 each, the third is excluded; welfare 9, OPT 10.
2. Theorem 3.4, instance 1, n = 6, δ = 0.001: G1 has n - 1 = 5 members valuing 1/i - δ,
   G2 one member valuing 1. WTP_1 = 1 - δ < 1, so G2 wins: welfare 1, OPT = H_5 - 5δ.
3. Theorem 3.4, instance 2: the same two groups, swapped.
4. Appendix A, ε = 0.01, unit-demand, items r and s: G1 = [(10 + 2ε, 0), (5 - ε, ε)],
   G2 = [(10, ε)]. Under VCG with max-equal-split (``vcg-equal-split``) member 2 of G1 gains
   ε by raising its bid for s (``dao-abm audit``).
5. Lemma 4.8 / Theorem 4.2, n = 4, ε = 0.01, unit-demand: four single-member groups and four
   items, every member valuing (1 + ε, 1, 1, 1); OPT = n + ε.
"""

from __future__ import annotations

import typer

from dao_abm.cli.app import app, mechanism_label
from dao_abm.cli.auction_cmd import auction_result, format_table
from dao_abm.instances import load_instances
from dao_abm.mechanisms import preset
from dao_abm.scenario.bundled import bundled_folder

#: The paper's instances, bundled with the package (the source tree's ``models/``).
PAPER_INSTANCES = bundled_folder() / "paper_instances.jsonl"
LABELS = (
    "Mechanism 1 by hand",
    "Theorem 3.4, instance 1 (n = 6, δ = 0.001)",
    "Theorem 3.4, instance 2 (n = 6, δ = 0.001)",
    "Appendix A (ε = 0.01)",
    "Lemma 4.8 (n = 4, ε = 0.01)",
)
MECHANISMS = ("dao-vickrey", "split-the-bill")


@app.command("demo")
def demo() -> None:
    """Run the paper's worked instances under dao-vickrey and split-the-bill."""
    instances = load_instances(PAPER_INSTANCES)
    for name in MECHANISMS:
        mech = preset(name)
        typer.echo(f"=== {mechanism_label(mech)} ===\n")
        for i, inst in enumerate(instances):
            label = LABELS[i] if i < len(LABELS) else f"instance {i + 1}"
            typer.echo(format_table(inst, auction_result(inst, mech), label) + "\n")
