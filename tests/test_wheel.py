"""An installed wheel works outside the checkout.

Builds the wheel from a copy of the source tree (so the build writes nothing into the
checkout), installs it into a fresh virtual environment in a temporary folder, and runs the
commands a new user would, from another temporary folder. The new environment sees this
environment's site-packages for the dependencies (a ``.pth`` line after its own
site-packages), so nothing is downloaded; ``dao_abm`` itself must come from the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What a build of the wheel reads.
SOURCES = ("pyproject.toml", "README.md", "dao_abm", "models")


@dataclass(frozen=True)
class Installed:
    """The wheel, and a fresh environment with it installed."""

    wheel: Path
    venv: Path
    cwd: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.venv / "bin" / args[0]), *args[1:]], cwd=self.cwd,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{args}: {proc.stderr[-3000:]}"
        return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"),
                    str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("dao_abm-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    cwd = tmp / "elsewhere"
    cwd.mkdir()
    return Installed(wheel, venv, cwd)


def test_the_wheel_carries_every_file_of_the_package(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    package = ROOT / "dao_abm"
    expected = {path.relative_to(ROOT).as_posix() for path in package.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    assert expected - names == set()
    assert "dao_abm/scenario/models/data/theorem_3_4.csv" in names  # through the link


def test_dao_abm_is_imported_from_the_new_environment(installed):
    proc = installed.run("python", "-c", "import dao_abm; print(dao_abm.__file__)")
    assert Path(proc.stdout.strip()).is_relative_to(installed.venv)


def test_demo(installed):
    out = installed.run("dao-abm", "demo").stdout
    assert out.count("Mechanism 1 by hand") == 2  # under both mechanisms
    assert "welfare 9, OPT 10" in out


def test_run_on_a_bundled_scenario(installed):
    # tie policy lowest: the numpy best response, not the numba kernel, which a fresh
    # install would spend some 20 s compiling
    out = installed.run("dao-abm", "run", "theorem_3_4", "--rounds", "3", "-q", "--out", "run",
                        "--set", "learning.tie_policy=lowest").stdout
    assert "dao-abm run: theorem_3_4" in out
    assert "11 in 2 DAOs" in out  # the bundled data/theorem_3_4.csv: ten members and one
    assert {p.name for p in (installed.cwd / "run").iterdir()} >= {
        "metrics.csv", "summary.json", "scenario.toml", "run.json", "figures"}


def test_paper_experiment(installed):
    out = installed.run("dao-abm", "paper", "theorem-3-4", "--quick", "--out", "figures",
                        timeout=300).stdout
    assert "dao-abm paper theorem-3-4" in out
    assert (installed.cwd / "figures" / "theorem-3-4.png").stat().st_size > 0
    assert (installed.cwd / "figures" / "theorem-3-4.csv").stat().st_size > 0


def test_viz_help(installed):
    out = installed.run("dao-abm", "viz", "--help").stdout
    assert "Watch a scenario in the browser" in out
