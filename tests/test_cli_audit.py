"""``dao-abm audit``: verdicts as JSON and text, exit 0 whatever the verdict, 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dao_abm.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "models" / "paper_instances.jsonl"
REPORT_KEYS = {"mechanism", "instances", "members_checked", "violations", "tie_violations",
               "max_gain", "witness", "budget_violations", "ir_violations", "ir_witness",
               "budget_witness"}


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def audit_json(capsys, *args) -> dict:
    code, out, err = cli(capsys, "audit", *args, "--json")
    assert (code, err) == (0, "")
    (line,) = out.splitlines()
    return json.loads(line)


def test_mechanism_1_passes_on_random_instances(capsys):
    report = audit_json(capsys, "--instances", 80, "--seed", 4)
    assert set(report) == REPORT_KEYS
    assert report["mechanism"] == "dao-vickrey (wtp / second-price / max-equal-split)"
    assert report["instances"] == 80
    assert (report["violations"], report["tie_violations"], report["witness"]) == (0, 0, None)
    assert (report["budget_violations"], report["ir_violations"]) == (0, 0)


def test_same_seed_same_report(capsys):
    args = ("--instances", 20, "--seed", 9, "-m", "split-the-bill")
    assert audit_json(capsys, *args) == audit_json(capsys, *args)
    assert audit_json(capsys, *args) != audit_json(capsys, "--instances", 20, "--seed", 10,
                                                   "-m", "split-the-bill")


def test_multi_item_random_instances(capsys):
    report = audit_json(capsys, "--instances", 20, "--valuation", "unit-demand", "--items", 2,
                        "-m", "grand-bundle")
    assert (report["violations"], report["witness"]) == (0, None)
    report = audit_json(capsys, "--instances", 20, "--valuation", "additive", "--upper",
                        "first-price")
    assert report["violations"] > 0
    assert len(report["witness"]["value"]) == 3  # default items for multi-item classes


def test_appendix_a_violation_from_the_paper_file(capsys):
    report = audit_json(capsys, PAPER, "-m", "vcg-equal-split")
    assert report["instances"] == 5 and report["violations"] == 1
    assert report["max_gain"] == pytest.approx(0.01, abs=1e-12)
    witness = report["witness"]
    assert (witness["instance"], witness["group"], witness["member"], witness["item"]) == \
        (3, 0, 1, 1)
    assert witness["value"] == [4.99, 0.01]


def test_violations_exit_0_and_read_well(capsys):
    code, out, err = cli(capsys, "audit", "--instances", 30, "-m", "split-the-bill")
    assert (code, err) == (0, "")
    assert "truthfulness: VIOLATED by" in out
    assert "individual rationality:" in out and "below 0" in out
    assert "e.g. instance" in out and "utility" in out
    code, out, _ = cli(capsys, "audit", PAPER, "-m", "vcg-equal-split")
    assert "member 2 of group 1 (value (4.99, 0.01)) bids (4.99, 0.03) on item 2" in out
    assert "utility 0 -> 0.01" in out
    code, out, _ = cli(capsys, "audit", "--instances", 10)
    assert "no profitable misreport found" in out and "budget balance: holds" in out


@pytest.mark.parametrize(("args", "message"), [
    ([], "give FILE or --instances N"),
    ([PAPER, "--instances", 3], "not both"),
    (["--instances", 0], "Invalid value for '--instances'"),
    (["--instances", "many"], "Invalid value for '--instances'"),
    (["--instances", 2, "--valuation", "xor"], "unknown valuation 'xor'"),
    (["--instances", 2, "--items", 3], "'single' cannot have 3 items"),
    ([PAPER, "--items", 2], "--valuation and --items describe random instances"),
    (["--instances", 2, "-m", "dutch"], "unknown mechanism 'dutch'"),
    (["--instances", 2, "--cost-sharing", "x"], "unknown cost-sharing rule 'x'"),
    ([ROOT / "no-such.jsonl"], "no-such.jsonl: no such file"),
    (["--instances", 2, "--out", "x.json"], "--out and --readme go with --matrix"),
    (["--matrix", PAPER], "drop FILE, --valuation and --items"),
    (["--matrix", "--valuation", "additive"], "drop FILE, --valuation and --items"),
    (["--matrix", "-m", "split-the-bill"], "--matrix audits every preset"),
    (["--matrix", "--upper", "vcg"], "--matrix audits every preset"),
    (["--matrix", "--instances", 0], "Invalid value for '--instances'"),
    (["--matrix", "--readme", ROOT / "no-such.md"], "--readme " + str(ROOT / "no-such.md")),
    (["--matrix", "--readme", PAPER], "no property-table block"),
    (["--matrix", "--out", ROOT / "no-such-dir" / "p.json"], "does not exist"),
])
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    code, out, err = cli(capsys, "audit", *args)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith("dao-abm: error: ") and message in err
    assert "Traceback" not in err


def test_subprocess_audit():
    done = subprocess.run(
        [sys.executable, "-m", "dao_abm.cli", "audit", "--instances", "5", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["violations"] == 0
    done = subprocess.run(
        [sys.executable, "-m", "dao_abm.cli", "audit", "--instances", "-3"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("dao-abm: error:") and len(done.stderr.splitlines()) == 1
