"""The command line starts light: which modules a command imports (not how long it takes;
``benchmarks/cli.py`` times it), and what a command says when its extra is missing.

Each command runs in a fresh interpreter that reports ``sys.modules`` afterwards, so what
this test process has imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dao_abm.cli import main
from dao_abm.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
#: Slow to import, and needed by no command's options or help.
HEAVY = ("pandas", "matplotlib", "mesa", "dask", "distributed", "scipy.optimize", "scipy.stats",
         "networkx", "numba", "pyarrow", "solara", "altair", "ipyvuetify", "rich", "tqdm")
#: Run the CLI on argv (JSON), then print which HEAVY modules got imported.
PROBE = """
import json, sys
from dao_abm.cli import main
status = main(json.loads(sys.argv[1]))
heavy = json.loads(sys.argv[2])
print(json.dumps([name for name in heavy if name in sys.modules]), file=sys.stderr)
sys.exit(status)
"""


def heavy_imports(argv: list[str], tmp_path: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [
    ["--help"], ["run", "--help"], ["paper", "--help"], ["viz", "--help"],
    ["sweep", "--help"], ["compare", "--help"], ["audit", "--help"],
], ids=" ".join)
def test_help_imports_nothing_heavy(argv, tmp_path):
    assert heavy_imports(argv, tmp_path) == []


def test_a_small_auction_imports_nothing_heavy(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text((ROOT / "models" / "paper_instances.jsonl").read_text().splitlines()[0])
    assert heavy_imports(["auction", str(one), "--json"], tmp_path) == []


def test_demo_imports_only_the_solver_it_needs(tmp_path):
    # two of its instances are unit-demand: OPT and VCG solve assignment problems
    assert heavy_imports(["demo"], tmp_path) == ["scipy.optimize"]


@pytest.mark.parametrize("module", EXTRAS["viz"])
def test_viz_without_its_extra_says_which_to_install(module, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # what `import module` sees when missing
    assert main(["viz", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"dao-abm: error: dao-abm viz needs the viz extra ({module} is missing): "
                   "pip install 'dao-abm[viz]'"]


@pytest.mark.parametrize("module", EXTRAS["cluster"])
def test_sweep_on_a_cluster_without_its_extra_says_which_to_install(
        module, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, module, None)
    status = main(["sweep", "default", "--rounds", "1", "--set", "population.n_members=20",
                   "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "s"), "-q"])
    assert status == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"dao-abm: error: --scheduler tcp://127.0.0.1:9 needs the cluster extra ({module} is "
        "missing): pip install 'dao-abm[cluster]'"]


#: The core without the viz and cluster extras: their modules cannot be imported.
WITHOUT_EXTRAS = """
import json, sys
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None
from dao_abm.cli import main
sys.exit(main(json.loads(sys.argv[2])))
"""


@pytest.mark.parametrize("argv", [
    ["run", "default", "--rounds", "2", "--set", "population.n_members=40", "-q",
     "--out", "run"],
    ["sweep", "default", "--rounds", "2", "--set", "population.n_members=40", "-q",
     "--grid", "mechanism.preset=dao-vickrey,split-the-bill", "--workers", "2", "--out", "sweep"],
], ids=lambda argv: argv[0])
def test_the_core_runs_without_the_extras(argv, tmp_path):
    blocked = [name for modules in EXTRAS.values() for name in modules]
    proc = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, json.dumps(blocked),
                           json.dumps(argv)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / argv[-1]).is_dir() and any((tmp_path / argv[-1]).iterdir())
