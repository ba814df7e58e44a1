"""The literature's equilibrium metrics for a scenario run of individual bidders.

A run qualifies when it is the ground of ``equilibrium``: 2 to 16 bidders, each alone (DAOs
of one, no extra ``population.individuals`` with fixed values), values redrawn every round i.i.d.
from a uniform prior (``values.heterogeneity = 0``), one item, and a first- or second-price
upper mechanism (alone, a bidder pays the price under every cost-sharing rule). Then each
bidder's shading factor α_i is the bid function β_i(v) = α_i·v (``learning.strategy =
"shading"``), or its bid function on the knots is one (``"function"``), and
``metrics.equilibrium_metrics`` compares the final profile with the closed form (U[0, 1],
with the scenario's reserve) in the continuous game; without a closed form (U[a, b] other
than U[0, 1]) the distances are NaN and only the utility losses are reported.
"""

from __future__ import annotations

import numpy as np

from dao_abm.equilibrium.best_response import Game
from dao_abm.equilibrium.bid_functions import BidFunctions, Prior
from dao_abm.equilibrium.metrics import equilibrium_metrics
from dao_abm.mechanisms import TwoLevelMechanism
from dao_abm.scenario import Scenario

#: Size of the fixed value sample (prior quantiles) the run's metrics are estimated on.
SAMPLE_SIZE = 2048
#: Knots of the bid functions α·v (exact: they are linear).
KNOTS = 2
#: Most bidders the metrics are computed for (the asymmetric best response holds a
#: bidders x bidders x bids array per value block).
MAX_BIDDERS = 16


def game_of(scenario: Scenario, mechanism: TwoLevelMechanism, max_dao_size: int
            ) -> Game | None:
    """The continuous game a run of individual bidders plays, or None if it does not
    qualify (see the module docstring)."""
    pop, values = scenario.population, scenario.values
    reserve = float(np.max(mechanism.reserve))
    if (max_dao_size != 1 or pop.individuals or not values.redraw
            or pop.valuation != "single" or pop.n_items != 1
            or values.distribution != "uniform" or values.heterogeneity
            or mechanism.upper not in ("first-price", "second-price")
            or not 2 <= pop.n_members <= MAX_BIDDERS or reserve >= values.high):
        return None
    return Game(mechanism.upper, pop.n_members, prior=Prior.uniform(values.low, values.high),
                reserve=reserve, sample_size=SAMPLE_SIZE)


def shading_metrics(game: Game, alphas: np.ndarray) -> dict[str, float | None]:
    """``l2_to_bne`` … ``epsilon_interim`` of the profile β_i(v) = α_i·v (NaN -> None)."""
    knots = np.linspace(game.prior.low, game.prior.high, KNOTS)
    profile = BidFunctions(knots, np.asarray(alphas, dtype=np.float64).reshape(-1, 1) * knots)
    metrics = equilibrium_metrics(profile, game)
    return {key: (None if np.isnan(value) else value) for key, value in metrics.items()}


def function_metrics(game: Game, knots: np.ndarray, bids: np.ndarray
                     ) -> dict[str, float | None]:
    """``l2_to_bne`` … ``epsilon_interim`` of the bid functions ``bids`` ``(n, K)`` on
    ``knots`` (NaN -> None)."""
    metrics = equilibrium_metrics(BidFunctions(np.asarray(knots, dtype=np.float64),
                                               np.asarray(bids, dtype=np.float64)), game)
    return {key: (None if np.isnan(value) else value) for key, value in metrics.items()}


def profile_of(game: Game, learner: object, strategies: np.ndarray) -> BidFunctions:
    """The bid functions of a learner's strategies: alpha_i·v on the prior's support
    (shading factors), or the functions on the learner's knots."""
    if not getattr(learner, "function", False):
        knots = np.linspace(game.prior.low, game.prior.high, KNOTS)
        return BidFunctions(knots, np.asarray(strategies, dtype=np.float64).reshape(-1, 1)
                            * knots)
    return BidFunctions(learner.space.knots, strategies.reshape(game.n, -1))


def profile_metrics(game: Game, model: object) -> dict[str, float | None]:
    """The metrics of a model's or session's current strategies, shading factors or bid
    functions (``model.learner.function``)."""
    metrics = equilibrium_metrics(profile_of(game, model.learner, model.strategies), game)
    return {key: (None if np.isnan(value) else value) for key, value in metrics.items()}


def run_game(model: object) -> Game | None:
    """``game_of`` for a finished model or session (its scenario, mechanism and DAOs)."""
    return game_of(model.scenario, model.mechanism, int(model.groups.max_size))


def describe(game: Game, model: object) -> dict:
    """What run.json says about the estimator of the equilibrium metrics."""
    form = game.equilibrium
    return {"game": f"{game.auction}, {game.n} bidders, U[{game.prior.low:g}, "
                    f"{game.prior.high:g}] values, reserve {game.reserve:g}",
            "closed_form": form.source if form is not None else None,
            "profile": ("final shading factors as bid functions alpha_i * v"
                        if not getattr(model.learner, "function", False) else
                        "final bid functions on the learning.knots"),
            **game.describe()}


def run_json(model: object) -> dict:
    """``{"equilibrium_estimator": ...}`` for run.json when the run qualifies (summary.json's
    final metrics), and ``{"round_equilibrium_estimator": ...}`` when metrics.csv has the
    equilibrium metrics of recorded rounds (``Learner.round_estimator``)."""
    game = run_game(model)
    out = {} if game is None else {"equilibrium_estimator": describe(game, model)}
    rounds = model.learner.round_estimator()
    return out | ({"round_equilibrium_estimator": rounds} if rounds else {})
