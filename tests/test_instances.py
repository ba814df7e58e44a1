"""The JSON instance format, the file loader and the random generator (dao_abm.instances)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dao_abm.errors import DaoAbmError
from dao_abm.instances import load_instances, make_instance, random_instances


def write(tmp_path, text: str, name: str = "inst.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_single_item_file_numbers_members_group_by_group(tmp_path):
    (inst,) = load_instances(write(tmp_path, '{"groups": [[5, 4, 1], [7]]}'))
    assert inst.valuation == "single"
    assert inst.n_items == 1
    assert inst.group_sizes == (3, 1)
    assert_array_equal(inst.bids, [5.0, 4.0, 1.0, 7.0])
    assert_array_equal(inst.groups.labels, [0, 0, 0, 1])


def test_multi_item_file_defaults_to_additive(tmp_path):
    text = '{"items": 2, "groups": [[[1, 2]], [[3, 4], [5, 6]]]}'
    (inst,) = load_instances(write(tmp_path, text))
    assert inst.valuation == "additive"
    assert inst.bids.shape == (3, 2)
    assert_array_equal(inst.groups.labels, [0, 1, 1])


def test_unit_demand_and_one_item_lists(tmp_path):
    text = '{"items": 1, "valuation": "unit-demand", "groups": [[[2.5]], [3]]}'
    (inst,) = load_instances(write(tmp_path, text))
    assert inst.valuation == "single"  # one item: every class is the single-item setting
    assert_array_equal(inst.bids, [2.5, 3.0])
    (inst,) = load_instances(write(tmp_path, '{"items": 2, "valuation": "unit-demand", '
                                             '"groups": [[[1, 0]], [[0, 1]]]}'))
    assert inst.valuation == "unit-demand"


def test_pretty_printed_object_is_one_instance(tmp_path):
    text = json.dumps({"items": 2, "groups": [[[1, 2], [3, 4]]]}, indent=2)
    (inst,) = load_instances(write(tmp_path, text))
    assert_array_equal(inst.bids, [[1, 2], [3, 4]])


def test_json_lines_in_order_skipping_blank_lines(tmp_path):
    text = '{"groups": [[1]]}\n\n{"groups": [[2], [3]]}\n   \n{"groups": [[4, 5]]}\n'
    insts = load_instances(write(tmp_path, text, "inst.jsonl"))
    assert [inst.bids.tolist() for inst in insts] == [[1.0], [2.0, 3.0], [4.0, 5.0]]
    assert [inst.group_sizes for inst in insts] == [(1,), (1, 1), (2,)]


def test_to_dict_round_trips(tmp_path):
    a = make_instance([[[1.5, 0.0], [2.0, 3.0]], [[4.0, 0.25]]], "unit-demand")
    b = make_instance([[5, 4, 1], [7]])
    lines = "\n".join(json.dumps(inst.to_dict()) for inst in (a, b))
    back = load_instances(write(tmp_path, lines, "round.jsonl"))
    for before, after in zip((a, b), back, strict=True):
        assert_array_equal(before.bids, after.bids)
        assert (before.valuation, before.group_sizes) == (after.valuation, after.group_sizes)


def test_bids_are_read_only():
    inst = make_instance([[1, 2]])
    with pytest.raises(ValueError):
        inst.bids[0] = 3.0


BAD = [
    ("{\"groups\": [[1, 2]", "inst.json: malformed JSON"),
    ('{"groups": [[NaN]]}', "inst.json: member 1 of group 1 has a non-finite bid nan"),
    ('{"groups": [[1, Infinity]]}', "member 2 of group 1 has a non-finite bid inf"),
    ('{"groups": [[1e999]]}', "non-finite bid inf"),
    ('{"groups": [[1, 2], [3, 4, -1]]}', "inst.json: member 3 of group 2 has a negative bid -1.0"),
    ('{"items": 2, "groups": [[[1, -2]]]}', "member 1 of group 1 has a negative bid -2.0 for item"),
    ('{"groups": []}', "inst.json: no groups"),
    ('{"items": 1}', "inst.json: no groups"),
    ('{"groups": [[1], []]}', "inst.json: group 2 is empty"),
    ('{"groups": [[1], 2]}', "group 2 must be a list of members"),
    ('{"items": 2, "groups": [[[1, 2, 3]]]}', "member 1 of group 1 has 3 item bids, expected 2"),
    ('{"items": 2, "groups": [[[1, 2], 3]]}', "member 2 of group 1 must be a list of 2 item bids"),
    ('{"groups": [[1, "2"]]}', "member 2 of group 1 has a bid that is not a number: '2'"),
    ('{"groups": [[true]]}', "has a bid that is not a number: True"),
    ('{"valuation": "submodular", "groups": [[1]]}',
     "unknown valuation 'submodular'; choose one of: additive, unit-demand"),
    ('{"items": 2, "valuation": "single", "groups": [[[1, 2]]]}', "unknown valuation 'single'"),
    ('{"groups": [[1]], "bidders": 3}', "unknown key 'bidders'; allowed keys: items, valuation"),
    ('{"items": 0, "groups": [[1]]}', "items must be a positive integer, not 0"),
    ('{"items": 2.0, "groups": [[[1, 2]]]}', "items must be a positive integer, not 2.0"),
    ('{"items": "2", "groups": [[[1, 2]]]}', "items must be a positive integer, not '2'"),
    ('{"groups": [[1]], "groups": [[2]]}', "duplicate key 'groups'"),
    ("[[1], [2]]", "an instance must be a JSON object, not a list"),
    ("", "inst.json: the file is empty"),
    ("\n  \n", "inst.json: the file is empty"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_instances_raise_one_line(tmp_path, text, message):
    with pytest.raises(DaoAbmError) as info:
        load_instances(write(tmp_path, text))
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "inst.json") + ":")
    assert "\n" not in str(info.value)


def test_json_lines_errors_name_the_line(tmp_path):
    text = '{"groups": [[1]]}\n\n{"groups": [[1], []]}\n'
    with pytest.raises(DaoAbmError, match=r"inst\.jsonl line 3: group 2 is empty$"):
        load_instances(write(tmp_path, text, "inst.jsonl"))
    text = '{"groups": [[1]]}\n{"groups": [[2]]}\n{"groups": [[3]\n'
    with pytest.raises(DaoAbmError, match=r"inst\.jsonl line 3: malformed JSON: .*column"):
        load_instances(write(tmp_path, text, "inst.jsonl"))


def test_unreadable_files(tmp_path):
    with pytest.raises(DaoAbmError, match=r"nope\.json: no such file"):
        load_instances(tmp_path / "nope.json")
    with pytest.raises(DaoAbmError, match="is a directory"):
        load_instances(tmp_path)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DaoAbmError, match="not a UTF-8 text file"):
        load_instances(tmp_path / "bin.json")


def test_random_instances_follow_the_documented_distribution():
    insts = random_instances(400, rng=np.random.default_rng(3))
    ks = [inst.groups.n_groups for inst in insts]
    sizes = np.concatenate([inst.group_sizes for inst in insts])
    values = np.concatenate([inst.bids for inst in insts])
    assert (min(ks), max(ks)) == (2, 5)
    assert (sizes.min(), sizes.max()) == (1, 6)
    assert 0 <= values.min() and values.max() < 10
    assert abs(values.mean() - 5) < 0.3  # Uniform(0, 10)
    assert len(np.unique(values)) == values.size  # continuous: no ties
    assert {inst.valuation for inst in insts} == {"single"}


def test_random_instances_are_reproducible_and_multi_item():
    a = random_instances(5, rng=np.random.default_rng(7), valuation="unit-demand", n_items=3)
    b = random_instances(5, rng=np.random.default_rng(7), valuation="unit-demand", n_items=3)
    for x, y in zip(a, b, strict=True):
        assert_array_equal(x.bids, y.bids)
        assert x.valuation == "unit-demand" and x.bids.shape == (x.groups.n_members, 3)
    (one,) = random_instances(1, rng=np.random.default_rng(0), valuation="additive")
    assert one.valuation == "single"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"valuation": "submodular"}, "unknown valuation 'submodular'"),
    ({"valuation": "single", "n_items": 2}, "'single' cannot have 2 items"),
    ({"valuation": "additive", "n_items": 0}, "cannot have 0 items"),
])
def test_random_instances_reject_bad_settings(kwargs, message):
    with pytest.raises(DaoAbmError, match=message):
        random_instances(1, rng=np.random.default_rng(0), **kwargs)
