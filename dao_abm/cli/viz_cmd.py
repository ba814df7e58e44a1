"""``dao-abm viz``: watch a scenario in the browser (Mesa's SolaraViz page, ``dao_abm.viz``).

The scenario and its ``--set`` overrides are validated here, so a bad one is one error line
and exit 2 before any server starts. The server is ``solara run dao_abm/viz/app.py`` in a
child process, handed the scenario through environment variables (``dao_abm.viz``); Ctrl-C
or SIGTERM stops it. It listens on 127.0.0.1 unless ``--host`` says otherwise. It needs the
``viz`` extra (``pip install 'dao-abm[viz]'``) and says so when it is missing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from dao_abm.cli.app import SetOpt, app
from dao_abm.errors import DaoAbmError
from dao_abm.extras import require
from dao_abm.scenario import load_scenario, scenario_file

#: No usage telemetry; no warnings about Mesa's own components (solara's rules-of-hooks
#: check) or about session cookies over plain http on localhost.
QUIET_SERVER = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_CHECK_HOOKS": "off",
    "PYTHONWARNINGS": "ignore:Cookies with samesite=none require https",
}



@app.command("viz")
def viz(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario TOML file (see models/), or a bundled scenario's name.",
        show_default="the bundled default")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).",
                                      min=0, max=65535)] = 8765,
    set_: SetOpt = None,
    compare: Annotated[str | None, typer.Option(
        "--compare", help="KEY=A,B: two runs side by side on the same population and random "
        "numbers, e.g. mechanism.preset=crowdfund,dao-vickrey or "
        "learning.tie_policy=keep,random.", show_default=False)] = None,
) -> int:
    """Watch a scenario in the browser: graph, bids and metrics, with step/play/reset."""
    require("viz", "dao-abm viz")
    from dao_abm.viz import DEFAULT_SCENARIO, server_env
    from dao_abm.viz.live import parse_compare, side_by_side_cells

    scenario = DEFAULT_SCENARIO if scenario is None else scenario_file(scenario)
    overrides = list(set_ or [])
    spec = load_scenario(scenario, overrides)  # DaoAbmError: one line, exit 2
    if compare is not None:
        side_by_side_cells(spec, parse_compare(compare))  # both runs must validate
    port = check_address(host, port)
    typer.echo(f"dao-abm viz: {spec.name} at http://{host}:{port}/ (Ctrl-C to stop)")
    env = os.environ | server_env(scenario, overrides, compare) | QUIET_SERVER
    if os.environ.get("PYTHONWARNINGS"):
        env["PYTHONWARNINGS"] += "," + os.environ["PYTHONWARNINGS"]
    return serve(server_command(host, port), env)


def check_address(host: str, port: int) -> int:
    """The port to serve on (a free one for 0); DaoAbmError unless ``host:port`` can be
    listened on (the port is taken, the address is not this machine's)."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, port), family=family) as probe:
            return probe.getsockname()[1]
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise DaoAbmError(f"--host {host} --port {port}: cannot listen there ({reason})") from None


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line serving the page (no browser, no version check)."""
    from dao_abm.viz import APP_PATH

    return [sys.executable, "-m", "solara", "run", str(APP_PATH), "--host", host,
            "--port", str(port), "--production", "--no-open", "--no-check-version"]


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits or this process is interrupted or terminated; returns
    the server's exit status (0 when stopped by Ctrl-C or SIGTERM)."""
    server = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
