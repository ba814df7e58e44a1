"""``examples/quickstart.ipynb`` runs from top to bottom (nbclient), so it cannot rot.

It runs in a temporary folder (the scenarios it names are bundled) and must show what it
promises: the run's table, two figures, the comparison table and the browser view.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is missing (pip install -e '.[dev]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient is missing (pip install -e '.[dev]')")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cwd = tmp_path_factory.mktemp("notebook")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def kinds(cell) -> set[str]:
    return {kind for output in cell.outputs for kind in output.get("data", {})}


def text(cell) -> str:
    return "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                   for output in cell.outputs)


def test_the_notebook_runs_without_errors(executed):
    assert all(output.output_type != "error" for cell in executed for output in cell.outputs)


def test_the_run_shows_its_last_rounds(executed):
    run = executed[0]
    assert "text/html" in kinds(run)
    assert "truthful_share" in text(run) and "29" in text(run)  # rounds 25..29


def test_the_figures_are_drawn(executed):
    assert "image/png" in kinds(executed[1])  # truthfulness over rounds
    assert "image/png" in kinds(executed[2])  # the comparison's two panels


def test_the_comparison_table_names_both_mechanisms(executed):
    shown = text(executed[2])
    assert "dao-vickrey" in shown and "crowdfund" in shown


def test_the_browser_view_renders_in_the_cell(executed):
    assert WIDGET in kinds(executed[3])
