"""Auction instances: the stable JSON format, a file loader and a random generator.

The format (one JSON object per instance; the CLI and other tools rely on it)::

    {"items": 2, "valuation": "unit-demand",
     "groups": [[[10.02, 0], [4.99, 0.01]], [[10, 0.01]]]}

- ``items``: m, a positive integer (default 1).
- ``valuation``: "additive" or "unit-demand" (default "additive"; Section 2 of the paper).
  With m = 1 both mean the single-item setting ("single" is accepted there too).
- ``groups``: a non-empty list of non-empty groups (DAOs); a member is its bid, a number
  when m = 1, or a list of m item bids. Bids are finite and >= 0 and are read as true values.

Members are numbered group by group in file order. A file holds one JSON object, or JSON
Lines (one instance per line, blank lines skipped). Messages number groups, members and
items from 1, as the paper does; arrays index from 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import Groups

#: Keys an instance object may have.
KEYS = ("items", "valuation", "groups")
#: Valuation classes a file may name (Section 2).
FILE_VALUATIONS = ("additive", "unit-demand")


@dataclass(frozen=True, eq=False)
class Instance:
    """One auction: the DAOs and their members' bids (read as true values).

    Attributes:
        groups: the membership, members numbered group by group.
        bids: ``(n,)`` when ``n_items == 1``, else ``(n, m)``; finite, >= 0, read-only.
        valuation: the engine's class: "single" when m = 1, else "additive" or "unit-demand".
        n_items: m, the number of items.
        group_sizes: ``(k,)`` members per group.
    """

    groups: Groups
    bids: np.ndarray
    valuation: str
    n_items: int
    group_sizes: tuple[int, ...]

    def to_dict(self) -> dict:
        """The instance in the JSON format above (``load_instances`` reads it back)."""
        starts = np.cumsum((0, *self.group_sizes))
        groups = [self.bids[a:b].tolist() for a, b in pairwise(starts)]
        if self.n_items == 1:
            return {"groups": groups}
        return {"items": self.n_items, "valuation": self.valuation, "groups": groups}


def make_instance(groups: Sequence[Sequence], valuation: str = "additive") -> Instance:
    """Build an instance from per-group member bids (numbers when m = 1, else rows of m).

    Raises ``ValueError`` on bad shapes or values; files go through ``parse_instance``,
    whose messages say where the problem is.
    """
    arrays = [np.asarray(g, dtype=np.float64) for g in groups]
    if not arrays or any(a.ndim == 0 or a.shape[0] == 0 for a in arrays):
        raise ValueError("an instance needs at least one group and no empty group")
    bids = np.concatenate(arrays)
    if bids.ndim == 2 and bids.shape[1] == 1:
        bids = bids[:, 0]
    n_items = 1 if bids.ndim == 1 else bids.shape[1]
    if not np.isfinite(bids).all() or (bids < 0).any():
        raise ValueError("bids must be finite and >= 0")
    if n_items == 1:
        valuation = "single"
    elif valuation not in FILE_VALUATIONS:
        raise ValueError(f"unknown valuation {valuation!r}; choose one of: additive, unit-demand")
    bids.setflags(write=False)
    sizes = tuple(int(a.shape[0]) for a in arrays)
    return Instance(Groups.from_sizes(list(sizes)), bids, valuation, n_items, sizes)


def parse_instance(data: object, where: str = "instance") -> Instance:
    """Validate one decoded JSON object; every problem is a one-line ``DaoAbmError``
    prefixed with ``where`` (e.g. ``"inst.jsonl line 3"``)."""
    try:
        return _parse(data)
    except DaoAbmError as exc:
        raise DaoAbmError(f"{where}: {exc}") from None


def _parse(data: object) -> Instance:
    if not isinstance(data, dict):
        hint = " (write several instances as JSON Lines)" if isinstance(data, list) else ""
        raise DaoAbmError(f"an instance must be a JSON object, not {_kind(data)}{hint}")
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        raise DaoAbmError(f"unknown key {unknown[0]!r}; allowed keys: {', '.join(KEYS)}")
    m = data.get("items", 1)
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise DaoAbmError(f"items must be a positive integer, not {m!r}")
    valuation = data.get("valuation", "additive")
    if valuation not in FILE_VALUATIONS and not (valuation == "single" and m == 1):
        raise DaoAbmError(
            f"unknown valuation {valuation!r}; choose one of: {', '.join(FILE_VALUATIONS)}"
        )
    groups = data.get("groups")
    if groups is None or groups == []:
        raise DaoAbmError("no groups (\"groups\" must list at least one group)")
    if not isinstance(groups, list):
        raise DaoAbmError(f"groups must be a list of groups, not {_kind(groups)}")
    rows = [_parse_group(group, j, m) for j, group in enumerate(groups, 1)]
    return make_instance(rows, valuation)


def _parse_group(group: object, j: int, m: int) -> list[list[float]]:
    if not isinstance(group, list):
        raise DaoAbmError(f"group {j} must be a list of members, not {_kind(group)}")
    if not group:
        raise DaoAbmError(f"group {j} is empty")
    return [_parse_member(member, i, j, m) for i, member in enumerate(group, 1)]


def _parse_member(member: object, i: int, j: int, m: int) -> list[float]:
    who = f"member {i} of group {j}"
    if not isinstance(member, list):
        if m > 1:
            raise DaoAbmError(f"{who} must be a list of {m} item bids, not {_kind(member)}")
        member = [member]
    if len(member) != m:
        raise DaoAbmError(f"{who} has {len(member)} item bids, expected {m}")
    for item, bid in enumerate(member, 1):
        on = f" for item {item}" if m > 1 else ""
        if isinstance(bid, bool) or not isinstance(bid, int | float):
            raise DaoAbmError(f"{who} has a bid{on} that is not a number: {bid!r}")
        if not math.isfinite(bid):
            raise DaoAbmError(f"{who} has a non-finite bid {bid}{on}")
        if bid < 0:
            raise DaoAbmError(f"{who} has a negative bid {float(bid)}{on}")
    return [float(bid) for bid in member]


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def load_instances(path: str | Path) -> list[Instance]:
    """Read a file of one JSON instance or of JSON Lines, in file order.

    A file is JSON Lines when it has several non-blank lines and the first one is a JSON
    object by itself; otherwise the whole file is one JSON value.

    Raises:
        DaoAbmError: one line naming the file, the line for JSON Lines, and the problem.
    """
    text = _read(Path(path))
    lines = [(no, line) for no, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise DaoAbmError(f"{path}: the file is empty")
    if len(lines) > 1 and _is_object(lines[0][1]):
        return [_load(line, f"{path} line {no}", with_line=False) for no, line in lines]
    return [_load(text, str(path), with_line=True)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DaoAbmError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DaoAbmError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise DaoAbmError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise DaoAbmError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _load(text: str, where: str, *, with_line: bool) -> Instance:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except DaoAbmError as exc:
        raise DaoAbmError(f"{where}: {exc}") from None
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}" if with_line else f"column {exc.colno}"
        raise DaoAbmError(f"{where}: malformed JSON: {exc.msg} ({at})") from None
    return parse_instance(data, where)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise DaoAbmError(f"duplicate key {key!r}")
    return dict(pairs)


def random_instances(
    n: int,
    *,
    rng: np.random.Generator,
    valuation: str = "single",
    n_items: int = 1,
    groups: tuple[int, int] = (2, 5),
    sizes: tuple[int, int] = (1, 6),
    high: float = 10.0,
) -> list[Instance]:
    """``n`` random instances with continuous values, all drawn from ``rng``.

    Each instance has k ~ Uniform{groups[0], ..., groups[1]} groups (2..5 by default), each
    of size Uniform{sizes[0], ..., sizes[1]} (1..6), and every member's value for every item
    drawn i.i.d. Uniform(0, ``high``) (0..10). Exact ties then have probability zero.

    Args:
        n: number of instances (>= 0).
        rng: the only source of randomness.
        valuation: "single", "additive" or "unit-demand"; with ``n_items == 1`` every class
            is the single-item setting and the instances say "single".
        n_items: m (must be 1 for "single").
    """
    if valuation not in ("single", *FILE_VALUATIONS):
        raise DaoAbmError(
            f"unknown valuation {valuation!r}; choose one of: single, additive, unit-demand"
        )
    if n_items < 1 or (valuation == "single" and n_items != 1):
        raise DaoAbmError(f"valuation {valuation!r} cannot have {n_items} items (single: 1 item;"
                          " additive and unit-demand: 1 or more)")
    out = []
    for _ in range(n):
        k = int(rng.integers(groups[0], groups[1] + 1))
        group_sizes = rng.integers(sizes[0], sizes[1] + 1, size=k)
        values = rng.uniform(0.0, high, size=(int(group_sizes.sum()), n_items))
        split = np.split(values, np.cumsum(group_sizes)[:-1])
        out.append(make_instance(split, "additive" if valuation == "single" else valuation))
    return out
