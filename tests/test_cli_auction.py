"""``dao-abm auction`` (and ``demo``): hand-computed outputs and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dao_abm.cli import main
from dao_abm.cli.auction_cmd import AUCTION_KEYS

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "models" / "paper_instances.jsonl"
DELTA = 0.001
H5 = 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5  # = 137/60


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def auction_json(capsys, tmp_path, instance: dict | str, *options) -> list[dict]:
    path = tmp_path / "inst.json"
    path.write_text(instance if isinstance(instance, str) else json.dumps(instance))
    code, out, err = cli(capsys, "auction", path, "--json", *options)
    assert (code, err) == (0, "")
    return [json.loads(line) for line in out.splitlines()]


def test_mechanism_1_by_hand(capsys, tmp_path):
    """WTP = (max(5, 2·4, 3·1), 7) = (8, 7): G1 wins at 7 and t(7) = 2 (2·4 >= 7 > 3·1), so
    members 1 and 2 pay 3.5 and member 3 is excluded; welfare 9, OPT 10."""
    (result,) = auction_json(capsys, tmp_path, {"groups": [[5, 4, 1], [7]]})
    assert list(result) == list(AUCTION_KEYS)
    assert result == {
        "group_bids": [8.0, 7.0],
        "group_items": [[0], []],
        "group_payments": [7.0, 0.0],
        "member_items": [[[0], [0], []], [[]]],
        "member_payments": [[3.5, 3.5, 0.0], [0.0]],
        "welfare": 9.0,
        "optimal_welfare": 10.0,
        "approximation_ratio": 10 / 9,
        "revenue": 7.0,
    }


def test_parts_override_the_preset(capsys, tmp_path):
    """First price: G1 pays its WTP 8, and t(8) = 2 (2·4 >= 8): 4 each."""
    (result,) = auction_json(capsys, tmp_path, {"groups": [[5, 4, 1], [7]]},
                             "--upper", "first-price")
    assert result["member_payments"] == [[4.0, 4.0, 0.0], [0.0]]
    (result,) = auction_json(capsys, tmp_path, {"groups": [[5, 4, 1], [7]]},
                             "-m", "split-the-bill")
    assert result["group_bids"] == [10.0, 7.0]
    assert result["member_payments"] == [[7 / 3] * 3, [0.0]]


def test_json_lines_one_line_per_instance_in_order(capsys):
    code, out, _ = cli(capsys, "auction", PAPER, "--json")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 5
    assert [r["group_bids"] for r in results[:3]] == [[8.0, 7.0], [1 - DELTA, 1.0],
                                                      [1.0, 1 - DELTA]]
    assert results[3]["group_bids"] == [[10.02, 0.01], [10.0, 0.01]]  # per group, per item
    assert all(set(r) == set(AUCTION_KEYS) for r in results)


def test_theorem_3_4_instances_lose_h_n_minus_1(capsys):
    """n = 6, δ = 0.001: WTP of the five-member group is max_i i(1/i - δ) = 1 - δ < 1, so the
    single member wins both instances at 1 - δ: welfare 1, OPT = H_5 - 5δ, ratio H_5 - 5δ."""
    code, out, _ = cli(capsys, "auction", PAPER, "--json")
    assert code == 0
    for result, winner in zip([json.loads(line) for line in out.splitlines()[1:3]], (1, 0),
                              strict=True):
        assert result["group_items"][winner] == [0]
        assert result["welfare"] == 1.0
        assert result["revenue"] == pytest.approx(1 - DELTA, abs=1e-15)
        assert result["approximation_ratio"] == pytest.approx(H5 - 5 * DELTA, rel=1e-14)
        assert result["approximation_ratio"] == pytest.approx(137 / 60 - 0.005, rel=1e-14)


def test_appendix_a_under_vcg(capsys, tmp_path):
    """VCG on group bids (10.02, 0.01) and (10, 0.01): G1 gets r at 10 - (10.03 - 10.02) =
    9.99, paid by member 1 alone (2·4.99 < 9.99); G2 gets s at 0."""
    line = PAPER.read_text().splitlines()[3]
    (result,) = auction_json(capsys, tmp_path, line, "-m", "vcg-equal-split")
    assert result["group_items"] == [[0], [1]]
    assert result["group_payments"] == pytest.approx([9.99, 0.0], abs=1e-12)
    assert result["member_items"] == [[[0], []], [[1]]]
    assert result["welfare"] == pytest.approx(10.03, abs=1e-12)
    assert result["optimal_welfare"] == pytest.approx(15.02, abs=1e-12)  # G1 gets r, G2 s


def test_grand_bundle_reports_one_bid_per_group(capsys, tmp_path):
    """Lemma 4.8 (n = 4, ε = 0.01): the bundle bids all equal 1 + ε, G1 wins every item by
    the tie rule; welfare 1 + ε against OPT = n + ε."""
    line = PAPER.read_text().splitlines()[4]
    (result,) = auction_json(capsys, tmp_path, line, "-m", "grand-bundle")
    assert result["group_bids"] == [1.01] * 4
    assert result["group_items"] == [[0, 1, 2, 3], [], [], []]
    assert result["approximation_ratio"] == pytest.approx(4.01 / 1.01, rel=1e-14)


def test_ratio_is_null_when_only_welfare_is_zero(capsys, tmp_path):
    """Summed bids 2.1 win at 2.05 > WTP = 2: nobody can be charged, nobody gets access."""
    (result,) = auction_json(capsys, tmp_path, {"groups": [[1, 1, 0.1], [2.05]]},
                             "--aggregation", "sum")
    assert (result["welfare"], result["approximation_ratio"]) == (0.0, None)
    assert result["optimal_welfare"] == pytest.approx(2.1)
    assert result["revenue"] == 2.05 and result["member_payments"] == [[0.0] * 3, [0.0]]
    (result,) = auction_json(capsys, tmp_path, {"groups": [[0, 0], [0]]})
    assert result["approximation_ratio"] == 1.0


def test_table_shows_the_numbers(capsys, tmp_path):
    path = tmp_path / "inst.json"
    path.write_text('{"groups": [[5, 4, 1], [7]]}')
    code, out, err = cli(capsys, "auction", path)
    assert (code, err) == (0, "")
    assert "dao-vickrey (wtp / second-price / max-equal-split)" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["1", "8", "1", "7"] in lines  # group 1: bid 8, won item 1, pays 7
    assert ["1.2", "4", "1", "3.5"] in lines  # member 2 of group 1
    assert ["1.3", "1", "-", "0"] in lines  # excluded
    assert "welfare 9, OPT 10, OPT/welfare 1.11111, revenue 7" in out


def test_demo_runs_the_paper_instances(capsys):
    code, out, err = cli(capsys, "demo")
    assert (code, err) == (0, "")
    assert out.count("Appendix A") == 2 and "split-the-bill" in out
    assert "welfare 1, OPT 2.27833, OPT/welfare 2.27833, revenue 0.999" in out


BAD_FILES = {
    "malformed.json": ('{"groups": [[1, 2]', "malformed JSON"),
    "nan.json": ('{"groups": [[NaN, 1]]}', "member 1 of group 1 has a non-finite bid nan"),
    "inf.json": ('{"groups": [[Infinity]]}', "non-finite bid inf"),
    "negative.json": ('{"groups": [[1, -1]]}', "member 2 of group 1 has a negative bid -1.0"),
    "nogroups.json": ('{"groups": []}', "no groups"),
    "emptydao.json": ('{"groups": [[1], []]}', "group 2 is empty"),
    "length.json": ('{"items": 2, "groups": [[[1, 2, 3]]]}', "has 3 item bids, expected 2"),
    "valuation.json": ('{"valuation": "xor", "groups": [[1]]}', "choose one of: additive"),
    "lines.jsonl": ('{"groups": [[1]]}\n{"groups": [[2]]}\n{"groups": [[3], []]}\n',
                    "lines.jsonl line 3: group 2 is empty"),
}
BAD_OPTIONS = [
    (["-m", "dutch"], "unknown mechanism 'dutch'; choose one of: dao-vickrey, grand-bundle"),
    (["--aggregation", "median"], "unknown aggregation 'median'; choose one of: wtp, sum"),
    (["--upper", "english"], "unknown upper mechanism 'english'; choose one of: second-price"),
    (["--cost-sharing", "shapley"], "unknown cost-sharing rule 'shapley'; choose one of:"),
    (["--bogus"], "No such option: --bogus"),
]


def assert_one_line_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith("dao-abm: error: ")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_exit_2_with_one_line(capsys, tmp_path, name):
    text, message = BAD_FILES[name]
    (tmp_path / name).write_text(text)
    assert_one_line_error(*cli(capsys, "auction", tmp_path / name), message)


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS, ids=[o[0] for o, _ in BAD_OPTIONS])
def test_bad_options_exit_2_with_one_line(capsys, options, message):
    assert_one_line_error(*cli(capsys, "auction", PAPER, *options), message)


def test_missing_file_and_argument(capsys, tmp_path):
    assert_one_line_error(*cli(capsys, "auction", tmp_path / "nope.json"), "nope.json: no such")
    assert_one_line_error(*cli(capsys, "auction"), "Missing argument 'FILE'")
    assert_one_line_error(*cli(capsys, "bid"), "No such command 'bid'")


def subprocess_cli(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dao_abm.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def test_subprocess_errors_have_no_traceback(tmp_path):
    (tmp_path / "lines.jsonl").write_text('{"groups": [[1]]}\n{"groups": [[2]]}\n'
                                          '{"groups": [[NaN]]}\n')
    done = subprocess_cli("auction", tmp_path / "lines.jsonl", "--json")
    assert_one_line_error(done.returncode, done.stdout, done.stderr,
                          "lines.jsonl line 3: member 1 of group 1 has a non-finite bid nan")
    done = subprocess_cli("auction", PAPER, "--mechanism", "dutch")
    assert_one_line_error(done.returncode, done.stdout, done.stderr, "unknown mechanism")


def test_subprocess_json_lines():
    done = subprocess_cli("auction", PAPER, "--json")
    assert (done.returncode, done.stderr) == (0, "")
    assert [json.loads(line)["revenue"] for line in done.stdout.splitlines()] == \
        pytest.approx([7.0, 0.999, 0.999, 10.01, 4.01])
