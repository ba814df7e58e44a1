"""The optional parts of dao-abm and the extras that install them.

The core (engine, model, learning, run, compare, audit, paper, sweep on local processes)
needs none of these. ``pyproject.toml``'s ``[project.optional-dependencies]`` installs each
extra; ``EXTRAS`` names the modules its commands import, so a command can say, before it
starts, which extra is missing instead of failing on an import deep inside.
"""

from __future__ import annotations

from importlib.util import find_spec

from dao_abm.errors import DaoAbmError

#: Per extra, the modules its commands import.
EXTRAS: dict[str, tuple[str, ...]] = {
    # dao-abm viz: Mesa's SolaraViz page (solara; Mesa's visualization imports altair) and its
    # Vuetify widgets.
    "viz": ("solara", "altair", "ipyvuetify"),
    # dao-abm sweep --scheduler: a Dask cluster.
    "cluster": ("dask", "distributed"),
}


def require(extra: str, what: str) -> None:
    """Nothing when every module of ``extra`` can be imported; else DaoAbmError, one line:
    ``<what> needs the <extra> extra (<module> is missing): pip install 'dao-abm[<extra>]'``.

    Checks without importing (``importlib.util.find_spec``): the modules are slow to import
    and the command imports them itself, often in another process.
    """
    for module in EXTRAS[extra]:
        if find_spec(module) is None:
            raise DaoAbmError(f"{what} needs the {extra} extra ({module} is missing): "
                              f"pip install 'dao-abm[{extra}]'")
