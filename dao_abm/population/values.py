"""Value models: how each member's private values v_i(l) >= 0 are drawn (paper Section 2).

A :class:`ValueModel` names a distribution and its parameters; :func:`draw_values` draws a
whole population (and any leading batch of profiles) in one vectorized call. Values of
different members and items are independent; member i's draws are multiplied by
``member_scale[i]``, which gives each member its own distribution.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from dao_abm.errors import DaoAbmError
from dao_abm.population.members_csv import parse_numbers, read_table

DISTRIBUTIONS = ("empirical", "fixed", "lognormal", "pareto", "uniform")
_ARRAY_FIELDS = ("amounts", "values", "member_scale")
# (name, lower bound, bound is strict); bound None = any finite number.
_SCALAR_RULES = (
    ("low", 0.0, False),
    ("high", 0.0, False),
    ("mean", None, False),
    ("sigma", 0.0, False),
    ("alpha", 0.0, True),
    ("scale", 0.0, True),
)


@dataclass(frozen=True, eq=False)
class ValueModel:
    """Distribution of member values; frozen and validated on construction.

    Attributes:
        distribution: one of ``"empirical"``, ``"fixed"``, ``"lognormal"``, ``"pareto"``,
            ``"uniform"``.
        low: uniform lower bound, >= 0.
        high: uniform upper bound, >= low.
        mean: lognormal: mean of the underlying normal (the median is ``exp(mean)``); may
            be negative.
        sigma: lognormal: standard deviation of the underlying normal, >= 0.
        alpha: pareto (type I) shape, > 0; ``P(v > x) = (scale / x) ** alpha`` for x >= scale.
        scale: pareto minimum value, > 0.
        amounts: empirical: 1-D array of nonnegative amounts, resampled with replacement
            (e.g. from :func:`load_amounts_csv`). Required for, and only for, "empirical".
        values: fixed: the values themselves, shape (n_members,) or (n_members, n_items);
            every draw returns them. Required for, and only for, "fixed".
        member_scale: optional per-member multiplier, shape (n_members,), >= 0; default
            all ones.

    Arrays are stored as read-only float64 copies; equality compares them elementwise.
    """

    distribution: str = "uniform"
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    sigma: float = 1.0
    alpha: float = 2.0
    scale: float = 1.0
    amounts: np.ndarray | None = None
    values: np.ndarray | None = None
    member_scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise DaoAbmError(
                f"ValueModel: unknown distribution {self.distribution!r}; "
                f"valid choices: {', '.join(DISTRIBUTIONS)}"
            )
        for name, bound, strict in _SCALAR_RULES:
            object.__setattr__(self, name, _check_scalar(name, getattr(self, name), bound, strict))
        if self.high < self.low:
            raise DaoAbmError(f"ValueModel.high must be >= low ({self.low}), got {self.high}")
        for name in _ARRAY_FIELDS:
            object.__setattr__(self, name, _check_array(name, getattr(self, name)))
        for name, owner in (("amounts", "empirical"), ("values", "fixed")):
            given = getattr(self, name) is not None
            if given != (self.distribution == owner):
                need = "requires" if not given else "is only for distribution"
                raise DaoAbmError(f"ValueModel.{name} {need} {owner!r}")
        if self.amounts is not None and (self.amounts.ndim != 1 or self.amounts.size == 0):
            raise DaoAbmError("ValueModel.amounts must be a non-empty 1-D array")
        if self.values is not None and self.values.ndim not in (1, 2):
            raise DaoAbmError("ValueModel.values must have shape (n,) or (n, m)")
        if self.member_scale is not None and self.member_scale.ndim != 1:
            raise DaoAbmError("ValueModel.member_scale must have shape (n_members,)")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueModel):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and np.array_equal(a, b)
    return a == b


def _check_scalar(name: str, value: object, bound: float | None, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise DaoAbmError(f"ValueModel.{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DaoAbmError(f"ValueModel.{name} must be finite, got {number}")
    if bound is not None and (number <= bound if strict else number < bound):
        relation = ">" if strict else ">="
        raise DaoAbmError(f"ValueModel.{name} must be {relation} {bound}, got {number}")
    return number


def _check_array(name: str, value: object) -> np.ndarray | None:
    if value is None:
        return None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise DaoAbmError(f"ValueModel.{name} must be an array of numbers") from None
    if not np.isfinite(array).all():
        raise DaoAbmError(f"ValueModel.{name} contains NaN or inf")
    if (array < 0).any():
        raise DaoAbmError(f"ValueModel.{name} contains a negative number ({array.min()})")
    array.flags.writeable = False
    return array


def _fixed(model: ValueModel, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    member_shape = shape[len(shape) - model.values.ndim :]
    if model.values.shape != member_shape:
        raise DaoAbmError(
            f"ValueModel.values has shape {model.values.shape}, draw asks for {member_shape}"
        )
    return np.broadcast_to(model.values, shape).copy()


Sampler = Callable[[ValueModel, tuple[int, ...], np.random.Generator], np.ndarray]
_SAMPLERS: dict[str, Sampler] = {
    "fixed": _fixed,
    "uniform": lambda m, shape, rng: rng.uniform(m.low, m.high, size=shape),
    "lognormal": lambda m, shape, rng: rng.lognormal(m.mean, m.sigma, size=shape),
    "pareto": lambda m, shape, rng: m.scale * (1.0 + rng.pareto(m.alpha, size=shape)),
    "empirical": lambda m, shape, rng: m.amounts[rng.integers(m.amounts.size, size=shape)],
}


def draw_values(
    model: ValueModel,
    n_members: int,
    n_items: int | None = None,
    *,
    rng: np.random.Generator,
    size: int | tuple[int, ...] = (),
) -> np.ndarray:
    """Draw every member's values, vectorized over members, items and a leading batch.

    Args:
        model: the value model.
        n_members: number of members n >= 1.
        n_items: number of items m >= 1, or None for a single item (no item axis).
        rng: the only source of randomness.
        size: leading batch shape (e.g. number of independent profiles); ``()`` for one.

    Returns:
        float64 array, finite and >= 0, of shape ``(*size, n)`` if ``n_items`` is None,
        else ``(*size, n, m)``. For "fixed", the model's values broadcast over ``size``.
        Draws overflowing float64 (extreme pareto/lognormal tails) are clipped to the
        largest finite float.

    Raises:
        DaoAbmError: bad ``n_members``/``n_items``/``size``, or ``member_scale``/fixed
            ``values`` whose shape does not match.
    """
    n_members = _check_count("n_members", n_members)
    batch = (size,) if isinstance(size, int | np.integer) else tuple(size)
    batch = tuple(_check_count("size", s, minimum=0) for s in batch)
    member_shape = (n_members,)
    if n_items is not None:
        member_shape = (n_members, _check_count("n_items", n_items))
    scale = model.member_scale
    if scale is not None and scale.shape != (n_members,):
        raise DaoAbmError(
            f"ValueModel.member_scale has {scale.size} entries but n_members is {n_members}"
        )
    draws = np.asarray(_SAMPLERS[model.distribution](model, batch + member_shape, rng), np.float64)
    with np.errstate(over="ignore"):
        if scale is not None:
            draws *= scale if n_items is None else scale[:, None]
        return np.minimum(draws, np.finfo(np.float64).max, out=draws)


def _check_count(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DaoAbmError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def load_amounts_csv(path: str | os.PathLike[str], column: str | None = None) -> np.ndarray:
    """Read amounts (e.g. past contributions) for an "empirical" :class:`ValueModel`.

    Args:
        path: CSV file with a header row.
        column: the column to read; default: the only column, else the first column whose
            every non-blank cell is a number.

    Returns:
        float64 array of shape (n_rows,), finite and >= 0.

    Raises:
        DaoAbmError: missing/empty file, no such or no numeric column, a header that is a
            number (headerless file), or a missing/non-numeric/NaN/inf/negative amount;
            the message names the file and CSV line, e.g.
            ``amounts.csv line 7: negative amount -3.0``.
    """
    name = os.fspath(path)
    table = read_table(path)
    if column is None:
        column = _pick_numeric_column(table, name)
    elif column not in table.columns:
        raise DaoAbmError(f"{name} line 1: no column {column!r} (columns: {_names(table)})")
    if not pd.isna(pd.to_numeric(column, errors="coerce")):
        raise DaoAbmError(
            f"{name} line 1: header {column!r} is a number; add a header line such as 'amount'"
        )
    return parse_numbers(table[column], path=path, what="amount")


def _pick_numeric_column(table: pd.DataFrame, name: str) -> str:
    if len(table.columns) == 1:
        return table.columns[0]
    for col in table.columns:
        cells = table[col][table[col] != ""]
        if len(cells) and pd.to_numeric(cells, errors="coerce").notna().all():
            return col
    raise DaoAbmError(f"{name}: no numeric column (columns: {_names(table)}); pass column=")


def _names(table: pd.DataFrame) -> str:
    return ", ".join(map(str, table.columns))
