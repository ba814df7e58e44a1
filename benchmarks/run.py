"""Run every benchmark module and print its figures (``make bench``).

A benchmark module is any ``benchmarks/*.py`` (other than this file and names starting
with ``_``) that defines ``measure() -> dict[str, float]``. It may also define
``TARGETS = {key: ("<=" | ">=", threshold)}``; those figures are marked PASS or FAIL.

Output: one readable line per figure as each module finishes, then, on the LAST line, one
JSON object holding every figure of every module (keys must be unique across modules).

Usage::

    .venv/bin/python benchmarks/run.py                 # every module
    .venv/bin/python benchmarks/run.py --only engine   # some modules (repeat or comma-list)
    .venv/bin/python benchmarks/run.py --strict        # exit 1 if a target FAILs
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
COMPARE = {"<=": lambda value, bound: value <= bound, ">=": lambda value, bound: value >= bound}


def discover(only: set[str] | None) -> list[tuple[str, ModuleType]]:
    """Benchmark modules in this folder, by name, with a ``measure`` function."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    found = []
    for path in sorted(HERE.glob("*.py")):
        name = path.stem
        if name == "run" or name.startswith("_") or (only is not None and name not in only):
            continue
        spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # so worker processes can unpickle its functions
        spec.loader.exec_module(module)
        if callable(getattr(module, "measure", None)):
            found.append((name, module))
    if only is not None and (missing := only - {name for name, _ in found}):
        raise SystemExit(f"no benchmark module {', '.join(sorted(missing))} in {HERE}; "
                         f"choose from: {', '.join(available())}")
    return found


def available() -> list[str]:
    return [p.stem for p in sorted(HERE.glob("*.py")) if p.stem != "run"
            and not p.stem.startswith("_")]


def readable(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def verdict(key: str, value: float, targets: dict) -> str:
    if key not in targets:
        return ""
    op, bound = targets[key]
    return f"  [{'PASS' if COMPARE[op](value, bound) else 'FAIL'}: target {op} {readable(bound)}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=None,
                        help="module name(s) to run, e.g. --only engine (comma-separated ok)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    only = None if args.only is None else {n for arg in args.only for n in arg.split(",") if n}

    figures: dict[str, float] = {}
    failed, errors = [], []
    for name, module in discover(only):
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            result = module.measure()
        except Exception:  # report, keep going with the other modules
            traceback.print_exc()
            errors.append(name)
            continue
        targets = getattr(module, "TARGETS", {})
        for key, value in result.items():
            if key in figures:
                raise SystemExit(f"benchmark figure {key!r} of {name} is already taken")
            figures[key] = float(value)
            line = verdict(key, float(value), targets)
            failed += [key] if "FAIL" in line else []
            print(f"{name}.{key} = {readable(float(value))}{line}", flush=True)
        print(f"   ({name} took {time.perf_counter() - start:.1f} s)", flush=True)
    print(json.dumps(figures, sort_keys=True))
    if errors:
        return 1
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
