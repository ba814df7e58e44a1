"""Epsilon's cost per epsilon round, and what it finds, on three shipped scenarios.

For ``models/default.toml`` (dao-vickrey, 600 members), ``models/split_the_bill.toml``
(split-the-bill, 300 members) and ``models/constitution_dao.toml`` (17,438 members,
crowdfund), the model is stepped ``ROUNDS`` rounds from its seed, then at that profile
(values fixed, the current bids) two measurements of every member's gain are timed, best
of ``REPEATS``:

- ``eps_grid_*``: the value grid alone (``bid_payoffs`` on the learner's grid, every
  member): what max_gain measured before ``learning.epsilon`` for grid markets (the exact
  critical-bid path under dao-vickrey, which is unchanged);
- ``eps_*``: ``Learner.epsilon`` = ``fixed_value_epsilon`` (grid, absolute range,
  breakpoints; exact where it is).

``*_max_gain_grid`` / ``*_max_gain`` are the two max_gains at that profile, and
``eps_*_per_round_ms`` the new cost spread over rounds (``metrics.epsilon_every``: 1 for
default and split_the_bill, 10 for ConstitutionDAO). On main before ``learning.epsilon`` an
epsilon round of a grid market cost the grid figure (the rule evaluated every member);
now the rule evaluates only the revisers and epsilon costs the new figure.
"""

from __future__ import annotations

from pathlib import Path

from engine import best_ms

from dao_abm.deviations.payoffs import bid_payoffs
from dao_abm.learning import best_response
from dao_abm.model.model import DaoAuctionModel
from dao_abm.scenario import load_scenario

MODELS = Path(__file__).resolve().parent.parent / "models"
#: (label, scenario file, rounds stepped before measuring).
SCENARIOS = (("default", "default.toml", 30), ("split_the_bill", "split_the_bill.toml", 30),
             ("constitution", "constitution_dao.toml", 60))
REPEATS = 5


def one(label: str, file: str, rounds: int) -> dict[str, float]:
    model = DaoAuctionModel(load_scenario(MODELS / file, []))
    for _ in range(rounds):
        model.step()
    learner = model.learner
    market, values, bids = learner.market, model.values, model.strategies
    if market.exact(1):
        nobody = values < 0

        def old():
            return best_response(market, values, bids, revising=nobody, rng=model.learning_rng)
    else:
        def old():
            return bid_payoffs(market, values, bids, learner.grid)

    def new():
        return learner.epsilon(values, bids)

    return {
        f"eps_grid_{label}_ms": best_ms(old, REPEATS),
        f"eps_{label}_ms": best_ms(new, REPEATS),
        f"{label}_max_gain_grid": float(old().gain.max()),
        f"{label}_max_gain": float(new().max()),
        f"eps_{label}_per_round_ms": best_ms(new, REPEATS) / learner.epsilon_every,
    }


def measure() -> dict[str, float]:
    out: dict[str, float] = {}
    for label, file, rounds in SCENARIOS:
        out |= one(label, file, rounds)
    return out
