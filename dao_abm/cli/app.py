"""The ``dao-abm`` command line: the Typer ``app``, the options commands share, and ``main``.

One module per command (``auction_cmd.py``, ``audit_cmd.py``, ``demo_cmd.py``, ...), each
registering itself with ``@app.command("name")`` on the ``app`` below; ``dao_abm/cli/__init__``
imports every command module. To add a command, write ``<name>_cmd.py`` and import it there.
``dao-abm --help`` imports every command module, so a command module imports at its top only
what its options need (typer, the mechanism registries, this module); pandas, matplotlib,
Mesa, Dask and the rest are imported inside the command function (``tests/test_cli_startup``).

Conventions for every command: results go to stdout; a problem is one stderr line
``dao-abm: error: <message>`` and exit status 2, never a traceback. JSON output indexes
groups, members and items from 0; tables and messages number them from 1, as the paper does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from dao_abm.mechanisms import (
    AGGREGATIONS,
    COST_SHARING,
    PRESETS,
    UPPER_MECHANISMS,
    TwoLevelMechanism,
    resolve,
)

try:  # typer >= 0.29 vendors click; its click exceptions derive from TyperException
    from typer import TyperException as ClickError
except ImportError:  # pragma: no cover - older typer depends on click itself
    from click import ClickException as ClickError

# Plain click help (no rich markup): rich costs a tenth of a second at every start.
app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """Agent-based simulation of two-level auctions whose bidders are groups (DAOs)."""


# Mechanism options shared by every command that runs a mechanism (see ``mechanism_from``).
MechanismOpt = Annotated[str, typer.Option(
    "--mechanism", "-m", help=f"Preset mechanism: {', '.join(PRESETS)}.")]
AggregationOpt = Annotated[str | None, typer.Option(
    help=f"Override the preset's aggregation: {', '.join(AGGREGATIONS.names())}.",
    show_default=False)]
UpperOpt = Annotated[str | None, typer.Option(
    help=f"Override the preset's upper mechanism: {', '.join(UPPER_MECHANISMS.names())}.",
    show_default=False)]
CostSharingOpt = Annotated[str | None, typer.Option(
    help=f"Override the preset's cost sharing: {', '.join(COST_SHARING.names())}.",
    show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# Scenario overrides shared by run, compare, sweep and viz (see ``dao_abm.scenario``).
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override a scenario key, e.g. --set learning.rule=logit (repeatable; the "
    "value is read as TOML).", show_default=False)]
ScenarioArg = Annotated[Path, typer.Argument(
    help="Scenario TOML file (see models/), or a bundled scenario's name, e.g. default.")]


def mechanism_from(
    mechanism: str, aggregation: str | None, upper: str | None, cost_sharing: str | None
) -> TwoLevelMechanism:
    """The preset ``mechanism`` with the parts given overriding it (ValueError naming the
    valid choices when a name is unknown)."""
    return resolve(mechanism, aggregation=aggregation, upper=upper, cost_sharing=cost_sharing)


def mechanism_label(mech: TwoLevelMechanism) -> str:
    """``"dao-vickrey (wtp / second-price / max-equal-split)"``, or just the parts."""
    parts = f"{mech.aggregation} / {mech.upper} / {mech.cost_sharing}"
    names = [name for name, preset in PRESETS.items() if preset == mech]
    return f"{names[0]} ({parts})" if names else parts


def format_number(x: float | list[float]) -> str:
    """Six significant digits; a list of item values as ``(a, b, ...)``."""
    if isinstance(x, list):
        return "(" + ", ".join(format_number(v) for v in x) + ")"
    return f"{x:.6g}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Bad input of any kind (``DaoAbmError``, an engine ``ValueError``, a bad flag, an
    unreadable file) prints one line ``dao-abm: error: ...`` to stderr and returns 2.
    Without arguments it prints the help.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        status = command.main(args=args or ["--help"], prog_name="dao-abm", standalone_mode=False)
    except (ClickError, ValueError, OSError) as exc:  # DaoAbmError is a ValueError
        typer.echo(f"dao-abm: error: {_one_line(exc)}", err=True)
        return 2
    except typer.Abort:
        typer.echo("dao-abm: aborted", err=True)
        return 1
    return status if isinstance(status, int) else 0


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ClickError):
        text = exc.format_message()
    elif isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())
