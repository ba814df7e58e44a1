"""The two-level mechanism engine: pure functions on flat member arrays (no Mesa, no I/O).

Compose a mechanism from three registry names, or take a preset::

    from dao_abm.mechanisms import Groups, preset
    groups = Groups.from_sizes([3, 1])
    outcome = preset("dao-vickrey").run([5.0, 4.0, 1.0, 7.0], groups)
"""

from dao_abm.mechanisms.aggregation import AGGREGATIONS
from dao_abm.mechanisms.cost_sharing import COST_SHARING
from dao_abm.mechanisms.groups import Groups
from dao_abm.mechanisms.outcome import Outcome
from dao_abm.mechanisms.presets import PRESETS, preset, resolve
from dao_abm.mechanisms.two_level import VALUATIONS, TwoLevelMechanism, bundle_bids
from dao_abm.mechanisms.upper import UPPER_MECHANISMS
from dao_abm.mechanisms.welfare import (
    approximation_ratio,
    member_values,
    optimal_welfare,
    utilities,
    welfare,
)

__all__ = [
    "AGGREGATIONS",
    "COST_SHARING",
    "PRESETS",
    "UPPER_MECHANISMS",
    "VALUATIONS",
    "Groups",
    "Outcome",
    "TwoLevelMechanism",
    "approximation_ratio",
    "bundle_bids",
    "member_values",
    "optimal_welfare",
    "preset",
    "resolve",
    "utilities",
    "welfare",
]
