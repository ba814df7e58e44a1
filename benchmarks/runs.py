"""End-to-end runs: ``dao-abm run <scenario> -q --out <tmp>`` as a subprocess, data and
figures included, for ``models/constitution_dao.toml`` (17,438 bidders, 1,000 rounds,
crowdfund) and ``models/million_members.toml`` (1,000,000 members, 100 rounds, dao-vickrey).

Each run is started by a fresh helper process that waits for it and reports the wall time
of the child and the child's peak resident memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss``
after it exits), so earlier children of this process do not count. Times are the best of
``REPEATS`` runs (``BENCH_RUN_REPEATS`` overrides it), peaks the largest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: Figure -> (comparison, threshold) checked by run.py.
TARGETS = {
    "constitution_dao_run_s": ("<=", 20.0),
    "constitution_dao_peak_mb": ("<=", 1024.0),
    "million_members_run_s": ("<=", 120.0),
    "million_members_peak_mb": ("<=", 6144.0),
}

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"constitution_dao": 2, "million_members": 2}  # name -> repeats
REPEATS_ENV = "BENCH_RUN_REPEATS"

#: Runs in the helper process: time one child, then read the children's peak RSS (KiB).
HELPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                      text=True)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak_kib, "code": done.returncode,
                  "stderr": done.stderr[-2000:]}))
"""


def dao_abm_command() -> list[str]:
    """The ``dao-abm`` script beside this interpreter, else ``python -m dao_abm.cli``."""
    script = Path(sys.executable).with_name("dao-abm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dao_abm.cli"]


def child_seconds_and_peak_mb(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of ``command``, run by a fresh ``HELPER``."""
    done = subprocess.run([sys.executable, "-c", HELPER, *command], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed:\n{report['stderr']}")
    return report["seconds"], report["peak_kib"] / 1024


def run_once(name: str) -> tuple[float, float]:
    """Seconds and peak MB of one ``dao-abm run`` of ``models/<name>.toml``."""
    with tempfile.TemporaryDirectory() as tmp:
        return child_seconds_and_peak_mb([
            *dao_abm_command(), "run", str(ROOT / "models" / f"{name}.toml"), "-q",
            "--out", str(Path(tmp) / "run")])


def measure() -> dict[str, float]:
    out: dict[str, float] = {}
    for name, repeats in SCENARIOS.items():
        repeats = int(os.environ.get(REPEATS_ENV, repeats))
        runs = [run_once(name) for _ in range(repeats)]
        out[f"{name}_run_s"] = min(seconds for seconds, _ in runs)
        out[f"{name}_peak_mb"] = max(peak for _, peak in runs)
    return out
