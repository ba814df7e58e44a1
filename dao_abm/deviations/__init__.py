"""What does member i get if it alone bids x? Exact deviation oracles (Mesa-free, no learning).

Every answer is exact, evaluated by the engine's rules or a closed form, for whole batches of
members and candidates at once:

- ``market``: what members bid into (mechanism, DAOs, valuation class) and which kernel
  evaluates a deviation there;
- ``critical`` and ``slots``: Mechanism 1's critical bids (Theorem 3.1), from the sorted
  layout of each DAO's bids;
- ``closed_forms``: the ``sum`` aggregation's deviations in O(1) per candidate;
- ``submarket``: any other mechanism, on small sub-markets batched by DAO size;
- ``deviation``: the utilities of unilateral deviations, whichever kernel applies;
- ``grids`` and ``payoffs``: candidate strategies and every member's payoff table over them;
- ``breakpoints``: the bids where a member's outcome changes (epsilon's candidates).

How members *use* these answers (best responses, learning rules, tie policies) lives in
``dao_abm.learning``; which group wins among equal group bids lives in
``dao_abm.mechanisms.ties``.
"""

from dao_abm.deviations.critical import critical_bids
from dao_abm.deviations.deviation import deviation_utilities
from dao_abm.deviations.grids import GRID_SCALES, Grid
from dao_abm.deviations.market import Market
from dao_abm.deviations.payoffs import DEFAULT_GRID, Payoffs, payoffs

__all__ = [
    "DEFAULT_GRID",
    "GRID_SCALES",
    "Grid",
    "Market",
    "Payoffs",
    "critical_bids",
    "deviation_utilities",
    "payoffs",
]
