"""Result folders: new names that never collide, written atomically.

A folder is filled under a temporary name next to its final one and renamed when complete,
so a folder that exists is whole, and an existing folder is never overwritten.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dao_abm.errors import DaoAbmError


def unique_folder(parent: Path, prefix: str) -> Path:
    """``parent/<prefix><UTC time>``, with a ``-2``, ``-3``, ... suffix if that name is taken."""
    base = parent / f"{prefix}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    folder, i = base, 1
    while folder.exists():
        i += 1
        folder = base.with_name(f"{base.name}-{i}")
    return folder


def write_atomically(folder: Path, fill: Callable[[Path], None], *, what: str = "run") -> Path:
    """Create ``folder`` by calling ``fill(tmp)`` on a temporary sibling, then renaming it.

    Raises:
        DaoAbmError: ``folder`` already exists.
    """
    if folder.exists():
        raise DaoAbmError(f"{folder}: already exists; a {what} never overwrites a folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "figures").mkdir(parents=True)
    try:
        fill(tmp)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
