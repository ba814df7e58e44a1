"""Sweep grids: parsing ``key=v1,v2``, the Cartesian product, seeds and cell ids."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dao_abm.errors import DaoAbmError
from dao_abm.experiments.grid import Axis, cell_id, expand, parse_axis, parse_grid, split_values
from dao_abm.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default.toml"
SMALL = ["rounds=5", "population.n_members=60", "daos.max_size=6"]

# Words TOML reads as something else (booleans, special floats) are not bare strings.
WORDS = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda w: w not in {"true", "false", "inf", "nan"})
SCALARS = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    WORDS,
)


def literal(value: object) -> str:
    """How a user would type ``value`` on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def kind(value: object) -> object:
    """Values are distinct when they differ or are of different kinds (1 vs true)."""
    if isinstance(value, bool):
        return ("bool", value)
    return ("num", value) if isinstance(value, int | float) else ("str", value)


@given(st.lists(SCALARS, min_size=1, max_size=6, unique_by=kind))
def test_values_are_toml_literals_in_order(values):
    axis = parse_axis("a.b=" + ",".join(literal(v) for v in values))
    assert axis.key == "a.b"
    assert len(axis.values) == len(values)
    for parsed, given_value in zip(axis.values, values, strict=True):
        assert kind(parsed) == kind(given_value)


@given(st.lists(st.one_of(WORDS, st.lists(st.integers(0, 99), max_size=3).map(str)),
                min_size=1, max_size=6))
def test_split_values_respects_brackets(pieces):
    assert split_values(",".join(pieces)) == pieces


def test_examples_of_the_brief():
    assert parse_axis("learning.rule=logit,hedge") == Axis("learning.rule", ("logit", "hedge"))
    assert parse_axis("population.n_members=100,200").values == (100, 200)
    assert parse_axis("values.sigma = 0.5, 1").values == (0.5, 1)
    assert parse_axis("daos.sizes=[2,2],[3, 1]").values == ([2, 2], [3, 1])
    assert parse_axis('values.distribution="a,b",c').values == ("a,b", "c")


@pytest.mark.parametrize("expr", ["foo", "=1,2", "a.b=", "a.b=  ", "a=1,,2", "a=1,", "a=1,1",
                                  "a=1,1.0", "a=x,x", "seed=1,2", "name=a,b",
                                  "output.figures=true,false"])
def test_malformed_expressions(expr):
    with pytest.raises(DaoAbmError, match=r"^--grid"):
        parse_axis(expr)


def test_one_key_once():
    with pytest.raises(DaoAbmError, match="more than once"):
        parse_grid(["a=1", "a=2"])
    assert parse_axis("a=1,true").values == (1, True)  # different kinds: not a repeat


@pytest.fixture(scope="module")
def base():
    return load_scenario(DEFAULT, SMALL)


def test_cartesian_product_then_seeds(base):
    axes = parse_grid(["learning.rule=best-response,logit", "population.n_members=40,50,60"])
    cells = expand(base, axes, 2)
    assert len(cells) == 2 * 3 * 2
    assert [c.point for c in cells] == [p for p in range(6) for _ in range(2)]
    assert [c.seed for c in cells] == [base.seed, base.seed + 1] * 6
    last = [(c.params["learning.rule"], c.params["population.n_members"]) for c in cells[::2]]
    assert last == [("best-response", 40), ("best-response", 50), ("best-response", 60),
                    ("logit", 40), ("logit", 50), ("logit", 60)]
    assert cells[-1].scenario.learning.rule == "logit"
    assert cells[-1].scenario.population.n_members == 60
    assert len({c.cell_id for c in cells}) == len(cells)


def test_no_grid_is_the_scenario_itself(base):
    cells = expand(base, [], 3)
    assert [c.scenario for c in cells] == [dataclasses.replace(base, seed=base.seed + i)
                                           for i in range(3)]


def test_cell_id_is_stable_and_ignores_names(base):
    ids = [c.cell_id for c in expand(base, parse_grid(["values.sigma=0.5,1.0"]), 2)]
    assert ids == [c.cell_id for c in expand(base, parse_grid(["values.sigma=0.5,1.0"]), 2)]
    renamed = dataclasses.replace(base, name="other", description="x")
    assert cell_id(renamed) == cell_id(base)
    quiet = dataclasses.replace(base, output=dataclasses.replace(base.output, figures=False))
    assert cell_id(quiet) == cell_id(base)
    assert cell_id(dataclasses.replace(base, rounds=6)) != cell_id(base)


@pytest.mark.parametrize(("grid", "message"), [
    (["foo.bar=1,2"], "default.toml: foo: unknown key"),
    (["learning.rul=logit"], "default.toml: learning.rul: unknown key"),
    (["learning.rule=logit,nope"], "learning.rule: 'nope' is not one of"),
    (["population.n_members=10,x"], "population.n_members: expected an integer"),
    (["seed.x=1"], "seed is not a table"),
])
def test_every_cell_is_validated_up_front(base, grid, message):
    with pytest.raises(DaoAbmError, match=message):
        expand(base, parse_grid(grid), 2, source=str(DEFAULT))


def test_seeds_must_be_positive(base):
    with pytest.raises(DaoAbmError, match="--seeds 0"):
        expand(base, [], 0)
