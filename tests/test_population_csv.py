"""Tests for dao_abm.population.members_csv: loading members from a CSV file."""

import numpy as np
import pandas as pd
import pytest

from dao_abm.errors import DaoAbmError
from dao_abm.population.members_csv import load_members


def write(tmp_path, text: str, name: str = "members.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_single_value_happy_path(tmp_path):
    table = load_members(write(tmp_path, "id,value,stake\n1,2.5,10\n2,0,3\n5,1e2,7\n"))
    assert table.ids.dtype == np.int64
    np.testing.assert_array_equal(table.ids, [1, 2, 5])
    np.testing.assert_array_equal(table.values, [2.5, 0.0, 100.0])
    assert table.values.dtype == np.float64
    assert table.dao is None and table.dao_names is None
    assert table.n_members == 3 and table.n_items is None
    assert list(table.attributes.columns) == ["stake"]
    assert table.attributes["stake"].tolist() == [10, 3, 7]
    assert pd.api.types.is_numeric_dtype(table.attributes["stake"])
    np.testing.assert_array_equal(table.lines, [2, 3, 4])


def test_several_items_ordered_by_index_and_dao_labels(tmp_path):
    rows = ["id,value_2,dao,value_1,city", "ann,1,red,10,paris", "bob,2,blue,20,oslo", ""]
    text = "\n".join([*rows, "cy,3,red,30,rome\n"])
    table = load_members(write(tmp_path, text))
    np.testing.assert_array_equal(table.ids, ["ann", "bob", "cy"])
    np.testing.assert_array_equal(table.values, [[10, 1], [20, 2], [30, 3]])
    assert table.n_items == 2
    np.testing.assert_array_equal(table.dao, [0, 1, 0])
    assert table.dao.dtype == np.int64
    np.testing.assert_array_equal(table.dao_names, ["red", "blue"])
    assert table.attributes["city"].tolist() == ["paris", "oslo", "rome"]
    np.testing.assert_array_equal(table.lines, [2, 3, 5])


def test_zero_based_value_columns_and_numeric_dao(tmp_path):
    table = load_members(write(tmp_path, "id,value_0,value_1,dao\na,1,2,7\nb,3,4,3\nc,5,6,7\n"))
    np.testing.assert_array_equal(table.values, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(table.dao, [0, 1, 0])
    np.testing.assert_array_equal(table.dao_names, ["7", "3"])
    assert table.attributes.shape == (3, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"members\.csv: empty file"),
        ("id,value\n", r"members\.csv: no data rows"),
        ("name,value\na,1\n", r"members\.csv line 1: missing required column 'id'"),
        ("id,score\na,1\n", r"members\.csv line 1: missing value column"),
        ("id,value,value_1\na,1,2\n", r"members\.csv line 1: both 'value' and 'value_<i>'"),
        ("id,value_1,value_3\na,1,2\n", r"line 1: value columns must be value_1\.\.value_m"),
        ("id,value_2\na,1\n", r"line 1: value columns must be value_1\.\.value_m"),
        ("id,value,value\na,1,2\n", r"members\.csv line 1: duplicate column\(s\) value"),
        ("id,value\na,1\nb,2\nc,nan\n", r"members\.csv line 4: value is NaN"),
        ("id,value\na,1\nb,NA\n", r"members\.csv line 3: value is NaN"),
        ("id,value\na,1\nb,2\nc,3\nd,-4.5\n", r"members\.csv line 5: negative value -4\.5"),
        ("id,value\na,1\nb,lots\n", r"members\.csv line 3: non-numeric value 'lots'"),
        ("id,value\na,1\nb,\n", r"members\.csv line 3: missing value$"),
        ("id,value\na,inf\n", r"members\.csv line 2: non-finite value inf"),
        ("id,value_1,value_2\na,1,2\nb,3,-1\n", r"members\.csv line 3: negative value_2 -1"),
        ("id,value\na,1\n\n\nb,x\n", r"members\.csv line 5: non-numeric value 'x'"),
        ("id,value\na,1\nb,2\na,3\n", r"line 4: duplicate id 'a' \(first on line 2\)"),
        ("id,value\n7,1\n07,2\n", r"line 3: duplicate id '07' \(first on line 2\)"),
        ("id,value\na,1\n,2\n", r"members\.csv line 3: missing id"),
        ("id,value,dao\na,1,x\nb,2,\n", r"members\.csv line 3: missing dao label"),
        ("id,value\na,1\nb,2,3\n", r"members\.csv: cannot read CSV: .*line 3"),
    ],
)
def test_errors_name_file_line_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DaoAbmError, match=message) as info:
        load_members(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(DaoAbmError, match=r"absent\.csv: file not found"):
        load_members(tmp_path / "absent.csv")


def test_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="line 2"):
        load_members(write(tmp_path, "id,value\na,-1\n"))


def test_whitespace_is_stripped(tmp_path):
    table = load_members(write(tmp_path, " id , value \n x , 1.5 \n"))
    np.testing.assert_array_equal(table.ids, ["x"])
    np.testing.assert_array_equal(table.values, [1.5])
