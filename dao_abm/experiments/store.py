"""The sweep folder on disk: one Parquet part per finished cell, combined at the end.

Layout of a sweep folder::

    .lock                        held while a sweep runs here (one sweep per folder at once)
    sweep.json                   the sweep: scenario, grid, seeds, every cell id in order
    scenario.toml                the base scenario, resolved
    cells/<cell_id>.parquet      one finished cell: its metrics, one row per round, and its
                                 summary as JSON in the file's key-value metadata
    metrics.parquet              every cell's rows, with cell_id, point, grid keys and seed
    summary.parquet, .csv        one row per cell: grid keys, seed, final values, converged
    points.csv                   per grid point: mean and 95% interval over seeds
    figures/*.png

Every file is written under a ``*.tmp`` name in its own folder and renamed into place
(``os.replace``, atomic on POSIX), so a file under its final name is whole: a process killed
at any moment leaves at most a ``*.tmp`` file, which the next run removes. A part depends on
its cell id alone (the grid columns are added when combining), so one folder can hold the
cells of several sweeps and a sweep that grows reuses the cells it shares.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dao_abm.errors import DaoAbmError

SUMMARY_KEY = b"dao_abm.summary"
MANIFEST = "sweep.json"


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary ``<name>.<pid>.tmp`` beside ``path``; rename it to ``path`` when
    the block succeeds, delete it when the block fails."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON atomically."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet (``.parquet``) or CSV (anything else) atomically."""
    with atomic(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` (``fcntl.flock``, released when the process dies) so that two
    sweeps never run in one folder at once (each would delete the other's ``*.tmp``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DaoAbmError(f"{folder}: another sweep is running in this folder") from None
        yield


def part_path(folder: Path, cell_id: str) -> Path:
    """Where the finished cell ``cell_id`` is stored."""
    return folder / "cells" / f"{cell_id}.parquet"


def prepare(folder: Path) -> int:
    """Create ``folder/cells``; delete ``*.tmp`` files a killed run left; return how many."""
    cells = folder / "cells"
    cells.mkdir(parents=True, exist_ok=True)
    stale = [*folder.glob("*.tmp"), *cells.glob("*.tmp"), *folder.glob("figures/*.tmp")]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def finished_ids(folder: Path) -> set[str]:
    """Ids of the cells stored in ``folder`` (whole files only: ``*.tmp`` never counts)."""
    return {path.stem for path in (folder / "cells").glob("*.parquet")}


def write_part(folder: Path, cell_id: str, metrics: pd.DataFrame, summary: Mapping) -> Path:
    """Store one finished cell: ``metrics`` rows, ``summary`` in the file metadata."""
    table = pa.Table.from_pandas(metrics, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[SUMMARY_KEY] = json.dumps(dict(summary)).encode()
    path = part_path(folder, cell_id)
    with atomic(path) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp)
    return path


def read_part(path: Path) -> tuple[pd.DataFrame, dict]:
    """The ``(metrics, summary)`` stored by ``write_part``."""
    table = pq.read_table(path)
    summary = json.loads(table.schema.metadata[SUMMARY_KEY])
    return table.to_pandas(), summary


def tidy(items: Iterable[tuple[Mapping[str, Any], pd.DataFrame, Mapping]]
         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables from ``(keys, metrics, summary)`` per run, in the order given.

    Returns:
        ``(metrics, runs)``: every run's metrics rows with its ``keys`` as leading columns,
        and one row per run of its keys then its summary (keys win a name clash).
    """
    frames, rows = [], []
    for keys, metrics, summary in items:
        columns = {key: _scalar(value) for key, value in keys.items()}
        extra = metrics.drop(columns=[c for c in columns if c in metrics])
        frames.append(pd.concat([pd.DataFrame(columns, index=extra.index), extra], axis=1))
        rows.append({**summary, **columns})
    if not rows:
        return pd.DataFrame(), pd.DataFrame()
    runs = pd.DataFrame(rows)
    runs = runs[[*columns, *(c for c in runs if c not in columns)]]
    if "converged_round" in runs:
        runs["converged_round"] = runs["converged_round"].astype("Int64")
    metrics = pd.concat(frames, ignore_index=True)
    return _uniform(metrics, columns), _uniform(runs, columns)


def _uniform(frame: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    """Key columns that mix kinds (``1`` and ``"a"``) as text, so Parquet can store them."""
    for key in keys:
        kinds = {type(v) for v in frame[key]}
        if len(kinds) > 1 and not kinds <= {int, float}:
            frame[key] = frame[key].map(str)
    return frame


def _scalar(value: Any) -> Any:
    """Grid values that are lists or tables become their JSON text, so columns stay flat."""
    return json.dumps(value) if isinstance(value, list | dict) else value
