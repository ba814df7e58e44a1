"""Tests for dao_abm.population.values: value models, draws and the amounts CSV loader."""

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dao_abm.errors import DaoAbmError
from dao_abm.population.values import (
    DISTRIBUTIONS,
    ValueModel,
    draw_values,
    load_amounts_csv,
)

MODELS = {
    "uniform": ValueModel("uniform", low=1.0, high=3.0),
    "lognormal": ValueModel("lognormal", mean=0.5, sigma=0.7),
    "pareto": ValueModel("pareto", alpha=2.5, scale=2.0),
    "empirical": ValueModel("empirical", amounts=np.array([0.0, 1.5, 4.0])),
}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("n_items", [None, 3])
@pytest.mark.parametrize("size", [(), 4, (2, 5)])
def test_draw_shape_dtype_and_range(name, n_items, size):
    draws = draw_values(MODELS[name], 7, n_items, rng=rng(), size=size)
    batch = (size,) if isinstance(size, int) else size
    expected = (*batch, 7) if n_items is None else (*batch, 7, n_items)
    assert draws.shape == expected
    assert draws.dtype == np.float64
    assert np.isfinite(draws).all() and (draws >= 0).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_draws_reproducible_for_seed_and_differ_across_seeds(name):
    a = draw_values(MODELS[name], 50, 2, rng=rng(11))
    b = draw_values(MODELS[name], 50, 2, rng=rng(11))
    c = draw_values(MODELS[name], 50, 2, rng=rng(12))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_uniform_mean_and_bounds():
    draws = draw_values(ValueModel("uniform", low=2.0, high=6.0), 100_000, rng=rng(1))
    assert abs(draws.mean() - 4.0) < 0.02  # standard error 0.0037
    assert draws.min() >= 2.0 and draws.max() <= 6.0


def test_lognormal_median_is_exp_mean():
    draws = draw_values(ValueModel("lognormal", mean=1.5, sigma=0.8), 100_000, rng=rng(2))
    assert np.median(draws) == pytest.approx(np.exp(1.5), rel=0.02)
    assert np.log(draws).std() == pytest.approx(0.8, rel=0.02)


def test_pareto_is_type_one_with_minimum_scale():
    draws = draw_values(ValueModel("pareto", alpha=3.0, scale=2.0), 100_000, rng=rng(3))
    assert draws.min() >= 2.0
    assert draws.min() < 2.01
    # P(v > 2 * scale) = 2 ** -alpha = 0.125; standard error 0.001
    assert abs((draws > 4.0).mean() - 0.125) < 0.006


def test_empirical_resamples_the_amounts_uniformly():
    amounts = np.array([1.0, 2.0, 10.0, 10.0])
    draws = draw_values(ValueModel("empirical", amounts=amounts), 40_000, rng=rng(4))
    assert set(np.unique(draws)) == {1.0, 2.0, 10.0}
    assert abs((draws == 10.0).mean() - 0.5) < 0.015


def test_fixed_returns_given_values_over_the_batch():
    values = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 6.0]])
    draws = draw_values(ValueModel("fixed", values=values), 3, 2, rng=rng(), size=4)
    assert draws.shape == (4, 3, 2)
    np.testing.assert_array_equal(draws[2], values)
    draws[0, 0, 0] = 99.0  # a copy, not a view of the model
    assert ValueModel("fixed", values=values).values[0, 0] == 1.0


def test_fixed_shape_mismatch_raises():
    model = ValueModel("fixed", values=np.ones(3))
    with pytest.raises(DaoAbmError, match="shape"):
        draw_values(model, 4, rng=rng())
    with pytest.raises(DaoAbmError, match="shape"):
        draw_values(model, 3, 2, rng=rng())


@pytest.mark.parametrize("n_items", [None, 2])
def test_member_scale_multiplies_each_members_draws(n_items):
    scale = np.array([0.0, 1.0, 2.5, 10.0])
    base = draw_values(MODELS["lognormal"], 4, n_items, rng=rng(5), size=3)
    scaled_model = ValueModel("lognormal", mean=0.5, sigma=0.7, member_scale=scale)
    scaled = draw_values(scaled_model, 4, n_items, rng=rng(5), size=3)
    factor = scale if n_items is None else scale[:, None]
    np.testing.assert_allclose(scaled, base * factor)
    member_axis = 1
    assert (scaled.take(0, axis=member_axis) == 0).all()
    assert (scaled.take(3, axis=member_axis) > 0).all()


def test_member_scale_length_must_match():
    model = ValueModel("uniform", member_scale=np.ones(3))
    with pytest.raises(DaoAbmError, match="member_scale has 3 entries but n_members is 5"):
        draw_values(model, 5, rng=rng())


def test_extreme_tails_stay_finite():
    model = ValueModel("pareto", alpha=0.002, scale=1.0, member_scale=np.full(1000, 1e300))
    draws = draw_values(model, 1000, rng=rng(6))
    assert np.isfinite(draws).all()


def test_unknown_distribution_lists_choices():
    with pytest.raises(ValueError, match="unknown distribution 'normal'") as info:
        ValueModel("normal")
    for name in DISTRIBUTIONS:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("low", -1.0),
        ("low", float("nan")),
        ("high", float("inf")),
        ("mean", float("nan")),
        ("sigma", -0.1),
        ("alpha", 0.0),
        ("alpha", float("-inf")),
        ("scale", -2.0),
        ("scale", "1"),
    ],
)
def test_bad_scalar_parameter_is_named(field, bad):
    with pytest.raises(ValueError, match=f"ValueModel.{field}"):
        ValueModel("uniform", **{field: bad})


def test_lognormal_mean_may_be_negative():
    assert ValueModel("lognormal", mean=-2.0).mean == -2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"distribution": "uniform", "low": 3.0, "high": 1.0}, "ValueModel.high"),
        ({"distribution": "empirical"}, "ValueModel.amounts requires 'empirical'"),
        ({"distribution": "fixed"}, "ValueModel.values requires 'fixed'"),
        ({"distribution": "uniform", "amounts": [1.0]}, "ValueModel.amounts is only for"),
        ({"distribution": "empirical", "amounts": [1.0, np.nan]}, "ValueModel.amounts"),
        ({"distribution": "empirical", "amounts": [1.0, -1.0]}, "ValueModel.amounts"),
        ({"distribution": "empirical", "amounts": []}, "ValueModel.amounts"),
        ({"distribution": "fixed", "values": [[[1.0]]]}, "ValueModel.values"),
        ({"distribution": "uniform", "member_scale": [1.0, -1.0]}, "ValueModel.member_scale"),
        ({"distribution": "uniform", "member_scale": [np.inf]}, "ValueModel.member_scale"),
    ],
)
def test_bad_arrays_and_combinations(kwargs, message):
    with pytest.raises(DaoAbmError, match=message):
        ValueModel(**kwargs)


@pytest.mark.parametrize(("n_members", "n_items"), [(0, None), (3, 0), (2.5, None), (True, 2)])
def test_bad_counts(n_members, n_items):
    with pytest.raises(DaoAbmError, match="must be an integer"):
        draw_values(MODELS["uniform"], n_members, n_items, rng=rng())


def test_model_is_frozen_readonly_and_compares_arrays():
    a = ValueModel("empirical", amounts=[1.0, 2.0])
    assert a == ValueModel("empirical", amounts=np.array([1.0, 2.0]))
    assert a != ValueModel("empirical", amounts=[1.0, 3.0])
    assert a != ValueModel("uniform")
    with pytest.raises(AttributeError):
        a.low = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        a.amounts[0] = 5.0


def test_global_random_state_untouched():
    np.random.seed(123)  # noqa: NPY002 (checking the legacy global state)
    random.seed(123)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()  # noqa: NPY002
    for model in MODELS.values():
        draw_values(model, 20, 2, rng=rng(), size=3)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(0, 100),
    width=st.floats(0, 100),
    sigma=st.floats(0, 5),
    alpha=st.floats(0.05, 10),
    n=st.integers(1, 20),
    m=st.none() | st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_draws_always_finite_nonnegative(low, width, sigma, alpha, n, m, seed):
    models = [
        ValueModel("uniform", low=low, high=low + width),
        ValueModel("lognormal", mean=low, sigma=sigma),
        ValueModel("pareto", alpha=alpha, scale=low + 1e-3),
    ]
    for model in models:
        draws = draw_values(model, n, m, rng=rng(seed), size=2)
        assert draws.shape == ((2, n) if m is None else (2, n, m))
        assert np.isfinite(draws).all() and (draws >= 0).all()


# ---------------------------------------------------------------- load_amounts_csv


def write(tmp_path, text: str, name: str = "amounts.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_load_amounts_single_column(tmp_path):
    path = write(tmp_path, "amount\n1.5\n2\n0\n1e3\n")
    np.testing.assert_array_equal(load_amounts_csv(path), [1.5, 2.0, 0.0, 1000.0])


def test_load_amounts_picks_first_numeric_column_or_named(tmp_path):
    path = write(tmp_path, "donor,amount,fee\nann,10,1\nbo,20,2\n")
    np.testing.assert_array_equal(load_amounts_csv(path), [10.0, 20.0])
    np.testing.assert_array_equal(load_amounts_csv(path, column="fee"), [1.0, 2.0])


def test_load_amounts_feeds_empirical_model(tmp_path):
    amounts = load_amounts_csv(write(tmp_path, "amount\n3\n4\n"))
    draws = draw_values(ValueModel("empirical", amounts=amounts), 100, rng=rng())
    assert set(np.unique(draws)) <= {3.0, 4.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount\n1\n2\n3\n4\n5\n-3.0\n", r"amounts\.csv line 7: negative amount -3\.0$"),
        ("amount\n1\nnan\n", r"amounts\.csv line 3: amount is NaN"),
        ("amount\n1\n\n2\nabc\n", r"amounts\.csv line 5: non-numeric amount 'abc'"),
        ("amount\n1\ninf\n", r"amounts\.csv line 3: non-finite amount inf"),
        ("a,amount\nx,1\ny,\n", r"amounts\.csv line 3: missing amount"),
        ("", r"amounts\.csv: empty file"),
        ("amount\n", r"amounts\.csv: no data rows"),
        ("name,city\nann,paris\n", r"amounts\.csv: no numeric column \(columns: name, city\)"),
        ("12.5\n3\n", r"amounts\.csv line 1: header '12\.5' is a number"),
        ("amount\n1\n2,3\n", r"amounts\.csv: cannot read CSV: .*line 3"),
    ],
)
def test_load_amounts_errors_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DaoAbmError, match=message):
        load_amounts_csv(path, column="amount" if text.startswith("a,") else None)


def test_load_amounts_missing_file_and_column(tmp_path):
    with pytest.raises(DaoAbmError, match=r"nope\.csv: file not found"):
        load_amounts_csv(tmp_path / "nope.csv")
    path = write(tmp_path, "amount\n1\n")
    with pytest.raises(DaoAbmError, match=r"line 1: no column 'value' \(columns: amount\)"):
        load_amounts_csv(path, column="value")
