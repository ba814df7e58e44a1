"""Shared test settings: a modest hypothesis profile so the suite stays fast.

``HYPOTHESIS_PROFILE=thorough`` runs ten times as many examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dao-abm",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("dao-abm"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dao-abm"))
