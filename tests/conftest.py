"""Shared test settings: a modest hypothesis profile so the suite stays fast, and the longest
files first so that ``make test``'s workers finish together.

``HYPOTHESIS_PROFILE=thorough`` runs ten times as many examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dao-abm",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("dao-abm"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dao-abm"))

#: The files that take longest (the paper's quick tables, the viz servers and Chromium, the
#: claims' learning runs, fresh interpreters), longest first. ``make test`` hands whole files
#: to its workers in collection order (``--dist loadfile --no-loadscope-reorder``); starting
#: these first keeps a long file from starting last, while the other workers sit idle. Only
#: the order changes, so a stale entry costs time, never a test.
LONGEST_FIRST = ("test_paper.py", "test_claims.py", "test_viz_browser.py", "test_cli_startup.py",
                 "test_learning_members.py", "test_learning_deviation.py", "test_sessions.py",
                 "test_qgame.py", "test_mechanisms_properties.py", "test_cli_run.py",
                 "test_wheel.py", "test_sweep.py", "test_notebook.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the files of ``LONGEST_FIRST`` first, in that order; the rest keep theirs."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort
