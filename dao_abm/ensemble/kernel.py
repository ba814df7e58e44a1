"""Which scenarios the compiled Q-learning kernel runs (``qgame.py``), and its game for them.

``dao-abm run`` runs a scenario on the kernel, for any number of sessions (so session 0 of
an ensemble is still the run with ``sessions = 1``), when the scenario is the kernel's
setting: ``learning.rule = "q-learning"`` with bandit feedback and no state, the
simultaneous protocol (every member acts every period), fixed values, one item, an absolute
grid without the value added, and a mechanism whose aggregation is ``wtp`` or ``sum``, upper
mechanism ``first-price`` or ``second-price`` and cost sharing one of the kernel's three
(``qgame.SHARING``). Elsewhere the generic loop runs (``SessionEnsemble``). The kernel
draws its randomness its own way (``qgame.py``), so the Mesa model of such a scenario (the
viz, the Python API) follows the same rule on other random numbers.
"""

from __future__ import annotations

import numpy as np

from dao_abm.ensemble.qgame import AGGREGATIONS, SHARING, QGame
from dao_abm.model.population import build_population
from dao_abm.model.session import instance_rng
from dao_abm.scenario import Scenario, mechanism_of
from dao_abm.scenario.checks import scenario_grid

UPPERS = {"first-price": "first", "second-price": "second"}


def kernel_game(scenario: Scenario) -> QGame | None:
    """The kernel's game of ``scenario``, or None when it is not the kernel's setting."""
    spec, params = scenario.learning, scenario.learning.params
    mechanism = mechanism_of(scenario)
    fits = (spec.rule == "q-learning" and spec.feedback in ("", "bandit")
            and params.state == "stateless" and spec.protocol == "simultaneous"
            and not scenario.values.redraw and scenario.population.valuation == "single"
            and spec.grid_scale == "absolute" and not spec.grid_value
            and mechanism.aggregation in AGGREGATIONS and mechanism.upper in UPPERS
            and mechanism.cost_sharing in SHARING and not scenario.daos.reform)
    if not fits:
        return None
    population = build_population(scenario, instance_rng(scenario.seed))
    grid = scenario_grid(scenario).points
    values = np.asarray(population.values, dtype=np.float64).reshape(-1)
    q_init = "optimistic" if params.q_init == "optimistic" else 0.0  # the rule's meanings
    return QGame(values=values, grid=grid, price=UPPERS[mechanism.upper],
                 groups=population.labels, aggregation=mechanism.aggregation,
                 sharing=mechanism.cost_sharing, alpha=params.alpha, gamma=params.gamma,
                 epsilon=params.exploration, decay=params.decay, q_init=q_init,
                 window=params.converge_rounds)
