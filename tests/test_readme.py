"""The README is a user's guide: its example runs and its reference tables are complete."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import matplotlib.pyplot as plt

from dao_abm.learning import LEARNING_RULES, PROTOCOLS, TIE_POLICIES
from dao_abm.mechanisms import AGGREGATIONS, COST_SHARING, PRESETS, UPPER_MECHANISMS
from dao_abm.scenario import describe_keys

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_shows_the_two_commands_first() -> None:
    quick = README.split("## Quick start", 1)[1]
    first_block = quick.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [
        ["make", "demo"], ["make", "test"]]


def test_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "the README should show the Python API"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for block in blocks:
                exec(compile(block, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
        plt.close("all")
    assert "[3.5 3.5 0.  0. ]" in out.getvalue()
    assert "9.0 10.0" in out.getvalue()


def test_every_scenario_key_is_documented() -> None:
    for key, _, _ in describe_keys():
        assert f"`{key}`" in README, key


def test_every_registry_name_is_documented() -> None:
    names = [*PRESETS, *AGGREGATIONS.names(), *UPPER_MECHANISMS.names(), *COST_SHARING.names(),
             *LEARNING_RULES.names(), *PROTOCOLS, *TIE_POLICIES]
    for name in names:
        assert f"`{name}`" in README, name


def test_every_shipped_scenario_is_listed() -> None:
    for path in (ROOT / "models").glob("*.toml"):
        assert path.name in README, path.name


def test_readme_images_exist() -> None:
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / image).is_file(), image
