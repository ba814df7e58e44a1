"""Members learning how to bid against a two-level mechanism (Mesa-free).

Pure functions and small classes; every random draw comes from the ``rng`` keyword::

    from dao_abm.learning import Market, best_response
    market = Market("dao-vickrey", groups)
    revision = best_response(market, values, bids, revising=mask, rng=rng)

Modules: ``market`` (what members bid into), ``critical`` and ``slots`` (Mechanism 1's
critical bids), ``deviation`` (utilities of unilateral deviations), ``payoffs`` (grids and
payoff tables), ``best_response`` / ``exact`` / ``ties`` (best responses and tie policies),
``rules``, ``hedge``, ``qlearning`` (learning rules), ``protocols`` (who revises),
``dynamics``, ``breakpoints`` and ``epsilon`` (the equilibrium gain, and its kind). Grid
rules take ``members=`` to evaluate only some members (the revising ones).
"""

from dao_abm.learning.best_response import best_response, best_response_shading
from dao_abm.learning.critical import critical_bids
from dao_abm.learning.deviation import deviation_utilities
from dao_abm.learning.dynamics import State, dynamics
from dao_abm.learning.epsilon import Epsilon, epsilon_kind, fixed_value_epsilon
from dao_abm.learning.hedge import ExternalRegret, Hedge
from dao_abm.learning.market import Market
from dao_abm.learning.payoffs import DEFAULT_GRID, Payoffs, payoffs
from dao_abm.learning.protocols import PROTOCOLS, revising_members
from dao_abm.learning.qlearning import QLearning
from dao_abm.learning.revision import Revision
from dao_abm.learning.rules import LEARNING_RULES, BestResponse, Logit
from dao_abm.learning.ties import TIE_POLICIES

__all__ = [
    "DEFAULT_GRID",
    "LEARNING_RULES",
    "PROTOCOLS",
    "TIE_POLICIES",
    "BestResponse",
    "Epsilon",
    "ExternalRegret",
    "Hedge",
    "Logit",
    "Market",
    "Payoffs",
    "QLearning",
    "Revision",
    "State",
    "best_response",
    "best_response_shading",
    "critical_bids",
    "deviation_utilities",
    "dynamics",
    "epsilon_kind",
    "fixed_value_epsilon",
    "payoffs",
    "revising_members",
]
