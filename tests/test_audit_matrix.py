"""The generated property table (``dao-abm audit --matrix``): every witness replays, every
"yes" survives a fresh audit, the README shows exactly the table, and the CLI writes both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dao_abm.audit.matrix import PROPERTIES, TOL, VALUATION_ITEMS, audit_matrix, replay
from dao_abm.audit.properties import (
    BEGIN,
    END,
    load_table,
    property_holds,
    readme_block,
    render_markdown,
)
from dao_abm.cli import main
from dao_abm.mechanisms import PRESETS, resolve

ROOT = Path(__file__).resolve().parents[1]
TABLE = load_table()


def test_the_table_covers_every_preset_and_valuation_class():
    assert {(c.preset, c.valuation) for c in TABLE.cells} == {
        (p, v) for p in PRESETS for v in VALUATION_ITEMS}
    assert TABLE.instances >= 50  # the command's sizes, not a test's


@pytest.mark.parametrize("cell", TABLE.cells, ids=lambda c: f"{c.preset}-{c.valuation}")
def test_every_failure_has_a_witness_that_replays(cell):
    for prop in PROPERTIES:
        assert (prop in cell.witnesses) == (not cell.holds(prop))
    if "dsic" in cell.witnesses:
        assert replay(cell, "dsic") > TOL
        assert replay(cell, "dsic") == pytest.approx(cell.witnesses["dsic"]["gain"], abs=1e-9)
    if "ir" in cell.witnesses:
        assert replay(cell, "ir") == pytest.approx(cell.witnesses["ir"]["utility"], abs=1e-9)
        assert replay(cell, "ir") < -TOL
    if "bb" in cell.witnesses:
        assert abs(replay(cell, "bb")) > TOL


def test_every_yes_survives_a_fresh_audit_on_other_instances():
    """Cells where the table found nothing are audited again on new random instances."""
    holding = [c for c in TABLE.cells if all(c.holds(p) for p in PROPERTIES)]
    assert len(holding) >= 7  # Mechanisms 1 and 2, the grand bundle, VCG on one item
    for cell in holding:
        (fresh,) = audit_matrix(instances=3, seed=TABLE.seed + 1, presets=[cell.preset],
                                valuations=[cell.valuation])
        assert all(fresh.holds(p) for p in PROPERTIES), fresh


def test_the_paper_s_claims_are_in_the_table():
    """Theorems 3.1 and 4.1 (Mechanisms 1 and 2), Section 4.2 (the grand bundle for unit
    demand) and the counterexamples: Appendix A, dao-vickrey item by item for unit demand."""
    for valuation in ("single", "additive"):
        assert all(property_holds("dao-vickrey", valuation, p) for p in PROPERTIES)
    assert all(property_holds("grand-bundle", "unit-demand", p) for p in PROPERTIES)
    assert not property_holds("vcg-equal-split", "unit-demand", "dsic")
    assert not property_holds("dao-vickrey", "unit-demand", "dsic")
    assert not property_holds("dao-vickrey", "unit-demand", "ir")
    assert property_holds(resolve("dao-vickrey"), "single", "ir") is True
    assert property_holds(resolve(aggregation="sum"), "single", "ir") is None
    with pytest.raises(ValueError, match="unknown property 'truthful'"):
        property_holds("dao-vickrey", "single", "truthful")


def test_the_readme_shows_the_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_block(readme) == render_markdown(TABLE)
    catalogue = readme[readme.index("## Mechanisms"):readme.index(BEGIN)]
    rows = [line for line in catalogue.splitlines() if line.startswith("| `")]
    assert len(rows) == len(PRESETS)
    for row in rows:  # property claims come from the generated table only
        assert "truthful" not in row and "individually rational" not in row


def test_cli_matrix_writes_the_table_and_the_readme_block(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{BEGIN}\nold\n{END}\nafter\n", encoding="utf-8")
    out = tmp_path / "properties.json"
    assert main(["audit", "--matrix", "--instances", "1", "--seed", "3", "--out", str(out),
                 "--readme", str(readme)]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert (data["instances"], data["seed"]) == (1, 3)
    assert len(data["cells"]) == len(PRESETS) * len(VALUATION_ITEMS)
    table = load_table(out)
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith("\nafter\n")
    assert readme_block(text) == render_markdown(table) and "old" not in text
    assert render_markdown(table) in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "properties.json"]
