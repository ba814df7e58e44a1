"""Members learning how to bid against a two-level mechanism (Mesa-free).

Pure functions and small classes; every random draw comes from the ``rng`` keyword::

    from dao_abm.learning import Market, best_response
    market = Market("dao-vickrey", groups)
    revision = best_response(market, values, bids, revising=mask, rng=rng)

Modules: ``contract`` (the ``Rule`` contract, ``LEARNING_RULES`` and ``register_rule``),
``rules/`` (one file per rule, each registering itself), ``feedback`` (bandit, full,
expected), ``choice`` (softmax and ε-greedy draws), ``regret``, ``revision``, ``ties`` (tie
policies among a member's equally good strategies), ``protocols`` (who revises),
``dynamics`` (the Mesa-free loop); best responses: ``best_response``, ``exact`` and its
compiled twin ``exact_numba``; ``epsilon`` (the equilibrium gain, and its kind).

What a member gets if it alone bids x (``Market``, payoff tables, critical bids, grids)
is answered in ``dao_abm.deviations``; its main names are re-exported here for the Python
API. Which group wins among equal group bids: ``dao_abm.mechanisms.ties``.
"""

from dao_abm.deviations.critical import critical_bids
from dao_abm.deviations.deviation import deviation_utilities
from dao_abm.deviations.grids import GRID_SCALES, Grid
from dao_abm.deviations.market import Market
from dao_abm.deviations.payoffs import DEFAULT_GRID, Payoffs, payoffs
from dao_abm.learning import rules as _rules  # noqa: F401  (registers the shipped rules)
from dao_abm.learning.best_response import best_response, best_response_shading
from dao_abm.learning.contract import (
    LEARNING_RULES,
    GridRule,
    Rule,
    check_params,
    param,
    register_rule,
)
from dao_abm.learning.dynamics import State, dynamics
from dao_abm.learning.epsilon import Epsilon, epsilon_kind, fixed_value_epsilon
from dao_abm.learning.feedback import FEEDBACK, Feedback, observe
from dao_abm.learning.protocols import PROTOCOLS, revising_members
from dao_abm.learning.regret import ExternalRegret
from dao_abm.learning.revision import Revision
from dao_abm.learning.rules.best_response import BestResponse
from dao_abm.learning.rules.exp3 import Exp3
from dao_abm.learning.rules.fictitious_play import FictitiousPlay
from dao_abm.learning.rules.hedge import Hedge
from dao_abm.learning.rules.logit import Logit
from dao_abm.learning.rules.q_learning import QLearning
from dao_abm.learning.ties import TIE_POLICIES

__all__ = [
    "DEFAULT_GRID",
    "FEEDBACK",
    "GRID_SCALES",
    "LEARNING_RULES",
    "PROTOCOLS",
    "TIE_POLICIES",
    "BestResponse",
    "Epsilon",
    "Exp3",
    "ExternalRegret",
    "Feedback",
    "FictitiousPlay",
    "Grid",
    "GridRule",
    "Hedge",
    "Logit",
    "Market",
    "Payoffs",
    "QLearning",
    "Revision",
    "Rule",
    "State",
    "best_response",
    "best_response_shading",
    "check_params",
    "critical_bids",
    "deviation_utilities",
    "dynamics",
    "epsilon_kind",
    "fixed_value_epsilon",
    "observe",
    "param",
    "payoffs",
    "register_rule",
    "revising_members",
]
