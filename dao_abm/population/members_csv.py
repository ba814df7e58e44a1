"""Members from a CSV file, and the CSV helpers shared by the population loaders.

File format (one member per row, header on line 1)::

    id,value_1,value_2,dao,stake
    alice,3.5,0.0,red,10
    bob,1.0,2.5,red,4

* ``id`` (required): unique; kept as int64 if every id is an integer, else as strings.
* values: either one ``value`` column (single item) or ``value_1..value_m`` (or
  ``value_0..value_{m-1}``) for m items; finite and nonnegative.
* ``dao`` (optional): any labels; mapped to 0..k-1 in order of first appearance.
* every other column is kept in :attr:`MemberTable.attributes`.

Errors are :class:`~dao_abm.errors.DaoAbmError` naming the file, the CSV line (the header is
line 1; blank lines count but are skipped) and the problem.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dao_abm.errors import DaoAbmError

_NAN_WORDS = frozenset({"nan", "-nan", "+nan", "na", "n/a", "null", "none"})
_INT_RE = r"[+-]?\d{1,18}"
_VALUE_COL = re.compile(r"value_(\d+)")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV with a header row into a frame of stripped strings.

    Args:
        path: the CSV file.

    Returns:
        Frame of ``str`` cells (missing cells are ``""``) indexed by the CSV line number of
        each row (header = line 1); entirely blank lines are dropped.

    Raises:
        DaoAbmError: missing/unreadable file, CSV syntax error, empty file, duplicate header,
            or a header with no data rows.
    """
    name = os.fspath(path)
    try:
        raw = pd.read_csv(
            path, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except FileNotFoundError:
        raise DaoAbmError(f"{name}: file not found") from None
    except pd.errors.EmptyDataError:
        raise DaoAbmError(f"{name}: empty file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DaoAbmError(f"{name}: cannot read CSV: {first}") from None
    raw = raw.fillna("").apply(lambda col: col.str.strip())
    header = list(raw.iloc[0])
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DaoAbmError(f"{name} line 1: duplicate column(s) {', '.join(duplicated)}")
    table = raw.iloc[1:].set_axis(header, axis=1)
    table.index = table.index + 1
    table = table[(table != "").any(axis=1)]
    if table.empty:
        raise DaoAbmError(f"{name}: no data rows after the header")
    return table


def parse_numbers(column: pd.Series, *, path: str | os.PathLike[str], what: str) -> np.ndarray:
    """Parse a column of :func:`read_table` into finite nonnegative floats.

    Args:
        column: string cells indexed by CSV line number, shape (n,).
        path: the file, for messages.
        what: the noun used in messages, e.g. ``"amount"`` or ``"value_2"``.

    Returns:
        float64 array of shape (n,).

    Raises:
        DaoAbmError: on the first (lowest line) missing, non-numeric, NaN, infinite or
            negative cell, e.g. ``amounts.csv line 7: negative amount -3.0``.
    """
    text = column.astype(str)
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(np.float64)
    is_nan_word = text.str.lower().isin(_NAN_WORDS).to_numpy()
    problems = [
        ((text == "").to_numpy(), "missing {what}"),
        (np.isnan(numbers) & ~is_nan_word & (text != "").to_numpy(), "non-numeric {what} {t!r}"),
        (is_nan_word, "{what} is NaN ({t!r})"),
        (np.isinf(numbers), "non-finite {what} {t}"),
        (numbers < 0, "negative {what} {t}"),
    ]
    bad = np.zeros(len(text), dtype=bool)
    for mask, _ in problems:
        bad |= mask
    if bad.any():
        row = int(np.argmax(bad))
        template = next(msg for mask, msg in problems if mask[row])
        detail = template.format(what=what, t=text.iloc[row])
        raise DaoAbmError(f"{os.fspath(path)} line {text.index[row]}: {detail}")
    return numbers


@dataclass(frozen=True, eq=False)
class MemberTable:
    """Members read from a CSV file.

    Attributes:
        ids: member ids, shape (n,); int64 if every id is an integer, else ``str``.
        values: float64 values, shape (n,) for a ``value`` column or (n, m) for
            ``value_1..value_m``.
        dao: compact int64 DAO labels 0..k-1 in order of first appearance, shape (n,),
            or None without a ``dao`` column.
        attributes: the remaining columns, one row per member (index 0..n-1); columns whose
            every cell is numeric are converted to numbers.
        dao_names: the original DAO label of each compact label, shape (k,), or None.
        lines: CSV line number of each member, shape (n,) (for later error messages).
    """

    ids: np.ndarray
    values: np.ndarray
    dao: np.ndarray | None
    attributes: pd.DataFrame
    dao_names: np.ndarray | None = None
    lines: np.ndarray | None = None

    @property
    def n_members(self) -> int:
        """Number of members n."""
        return len(self.ids)

    @property
    def n_items(self) -> int | None:
        """Number of items m, or None for a single-item ``value`` column."""
        return None if self.values.ndim == 1 else self.values.shape[1]


def load_members(path: str | os.PathLike[str]) -> MemberTable:
    """Load members (ids, values, optional DAO labels, attributes) from a CSV file.

    Args:
        path: CSV file in the format described in the module docstring.

    Returns:
        The parsed :class:`MemberTable`.

    Raises:
        DaoAbmError: missing file, empty file, missing ``id``/value column, bad value
            (missing, non-numeric, NaN, infinite, negative), missing or duplicate id, missing
            dao label; the message names the file and CSV line.
    """
    name = os.fspath(path)
    table = read_table(path)
    if "id" not in table.columns:
        raise DaoAbmError(f"{name} line 1: missing required column 'id'{_cols(table)}")
    value_cols = _value_columns(table, name)
    ids = _parse_ids(table["id"], name)
    columns = [parse_numbers(table[c], path=path, what=c) for c in value_cols]
    values = columns[0] if value_cols == ["value"] else np.stack(columns, axis=1)
    dao, dao_names = _parse_dao(table, name)
    rest = table.drop(columns=["id", *value_cols, "dao"], errors="ignore")
    attributes = rest.reset_index(drop=True).apply(_maybe_numeric)
    lines = table.index.to_numpy(np.int64)
    return MemberTable(ids, values, dao, attributes, dao_names, lines)


def _cols(table: pd.DataFrame) -> str:
    return f" (columns: {', '.join(map(str, table.columns))})"


def _value_columns(table: pd.DataFrame, name: str) -> list[str]:
    """Names of the value columns: ``["value"]`` or ``value_1..value_m`` in item order."""
    numbered = {int(m.group(1)): c for c in table.columns if (m := _VALUE_COL.fullmatch(c))}
    if "value" in table.columns and numbered:
        raise DaoAbmError(f"{name} line 1: both 'value' and 'value_<i>' columns; use one")
    if "value" in table.columns:
        return ["value"]
    if not numbered:
        raise DaoAbmError(
            f"{name} line 1: missing value column: need 'value' or 'value_1..value_m'"
            + _cols(table)
        )
    keys = sorted(numbered)
    start = keys[0]
    if start not in (0, 1) or keys != list(range(start, start + len(keys))):
        got = ", ".join(numbered[k] for k in keys)
        raise DaoAbmError(f"{name} line 1: value columns must be value_1..value_m, got {got}")
    return [numbered[k] for k in keys]


def _parse_ids(column: pd.Series, name: str) -> np.ndarray:
    """Ids as int64 when all are integers, else str; rejects missing and duplicate ids."""
    missing = column == ""
    if missing.any():
        raise DaoAbmError(f"{name} line {missing.idxmax()}: missing id")
    if column.str.fullmatch(_INT_RE).all():
        ids = column.astype(np.int64)
    else:
        ids = column
    dup = ids.duplicated(keep="first")
    if dup.any():
        line = dup.idxmax()
        first = ids.index[(ids == ids.loc[line]).to_numpy()][0]
        raise DaoAbmError(
            f"{name} line {line}: duplicate id {column.loc[line]!r} (first on line {first})"
        )
    return ids.to_numpy(dtype=np.int64 if ids.dtype == np.int64 else str)


def _parse_dao(table: pd.DataFrame, name: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Compact DAO labels in order of first appearance, and the original labels."""
    if "dao" not in table.columns:
        return None, None
    column = table["dao"]
    missing = column == ""
    if missing.any():
        raise DaoAbmError(f"{name} line {missing.idxmax()}: missing dao label")
    codes, uniques = pd.factorize(column, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=str)


def _maybe_numeric(column: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(column)
    except (ValueError, TypeError):
        return column
