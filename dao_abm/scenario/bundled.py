"""The scenarios that ship inside the package: the source tree's ``models/``, as package data.

``dao_abm/scenario/models`` is a link to ``models/`` at the top of the source tree, and the
wheel carries the files it points to (``[tool.setuptools.package-data]``), so one set of
files serves a checkout, an editable install and an installed wheel, found through
``importlib.resources`` wherever dao-abm runs. ``models/`` stays the folder users copy and
edit; commands that need a file of their own (``dao-abm demo``'s instances, the paper's
scenarios, ``dao-abm viz``'s default) read the bundled one, and a scenario argument that is
not a file but the name of a bundled scenario (``dao-abm run default``) means that one.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from dao_abm.errors import DaoAbmError


def bundled_folder() -> Path:
    """The bundled ``models/`` folder: scenarios (``*.toml``), their ``data/`` and
    ``paper_instances.jsonl``.

    Scenarios name their data files relative to themselves, so this must be a real folder,
    which it is wherever pip installs dao-abm (never zipped).
    """
    folder = files("dao_abm.scenario") / "models"
    if not isinstance(folder, Path):  # pragma: no cover - a zipped install
        raise DaoAbmError(f"the bundled scenarios are not files on disk ({folder}); "
                          "install dao-abm with pip")
    return folder


def bundled_names() -> list[str]:
    """The bundled scenarios' names: their file names without ``.toml``, sorted."""
    return sorted(path.stem for path in bundled_folder().glob("*.toml"))


def scenario_file(path: str | Path) -> Path:
    """``path`` when it exists or is not a bare name; else the bundled scenario it names
    (``"default"`` -> ``.../models/default.toml``) if there is one; else ``path``."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1 or path.suffix:
        return path
    bundled = bundled_folder() / f"{path.name}.toml"
    return bundled if bundled.is_file() else path
