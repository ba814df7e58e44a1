"""The ``dao-abm`` command line (console script ``dao-abm = "dao_abm.cli:main"``).

Every command is one module registering itself on ``app`` with ``@app.command(...)``;
importing it here is what adds it to the CLI.
"""

from dao_abm.cli import (  # noqa: F401  (importing a command module registers it)
    auction_cmd,
    audit_cmd,
    compare_cmd,
    demo_cmd,
    paper_cmd,
    run_cmd,
    sweep_cmd,
    viz_cmd,
)
from dao_abm.cli.app import app, main

__all__ = ["app", "main"]
