"""How fast the command line starts, against importing numpy in the same interpreter.

Each figure is the best wall time of ``REPEATS`` runs of a fresh process (the three commands
take turns, so a busy moment of the machine hits all of them alike):

* ``numpy_import_s``: ``python -c "import numpy"``, the floor of any command of ours;
* ``cli_startup_s``: ``dao-abm --help``;
* ``auction_small_s``: ``dao-abm auction`` on a file of one instance (the first of
  ``models/paper_instances.jsonl``, Mechanism 1 by hand), the table printed;
* ``cli_startup_over_numpy``, ``auction_small_over_numpy``: the ratios (targets 3 and 4).

Heavy modules (pandas, matplotlib, Mesa, Dask, scipy.optimize) are imported only by the
commands that use them; ``tests/test_cli_startup.py`` checks which modules ``--help`` and
``auction`` import, and this file how long they take.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {"cli_startup_over_numpy": ("<=", 3.0), "auction_small_over_numpy": ("<=", 4.0)}

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 9


def dao_abm_command() -> list[str]:
    """The ``dao-abm`` script beside this interpreter, else ``python -m dao_abm.cli``."""
    script = Path(sys.executable).with_name("dao-abm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dao_abm.cli"]


def wall_time(command: list[str]) -> float:
    """Seconds from starting ``command`` to its exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.jsonl"
        lines = (ROOT / "models" / "paper_instances.jsonl").read_text().splitlines()
        one.write_text(lines[0] + "\n")
        commands = {
            "numpy_import_s": [sys.executable, "-c", "import numpy"],
            "cli_startup_s": [*dao_abm_command(), "--help"],
            "auction_small_s": [*dao_abm_command(), "auction", str(one)],
        }
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(REPEATS):
            for key, command in commands.items():
                best[key] = min(best[key], wall_time(command))
    numpy_s = best["numpy_import_s"]
    return {**best,
            "cli_startup_over_numpy": best["cli_startup_s"] / numpy_s,
            "auction_small_over_numpy": best["auction_small_s"] / numpy_s}
