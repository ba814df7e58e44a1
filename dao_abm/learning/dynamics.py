"""Learning without Mesa: a generator of states, one per round (as in Nashpy).

    for state in dynamics(market, values, bids, rule="best-response",
                          protocol="simultaneous", rounds=50, rng=rng):
        if state.epsilon == 0 and not state.changed.any():
            break  # a Nash equilibrium (over the rule's deviations)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from dao_abm.deviations.market import Market
from dao_abm.learning.contract import LEARNING_RULES
from dao_abm.learning.protocols import revising_members

Values = np.ndarray | Callable[[int, np.random.Generator], np.ndarray]


@dataclass(frozen=True, eq=False)
class State:
    """The profile after one round.

    Attributes:
        round_index: 0-based round.
        strategies: strategies after the round's revision (bids or shading factors).
        revising: ``(n,)`` who was allowed to revise.
        gain: ``(n,)`` each member's gain from deviating, measured on the profile the
            round *started* from (so 0 everywhere means that profile was an equilibrium).
        changed: ``(n,)`` who changed strategy.
        regret: ``(n,)`` cumulative external regret (Hedge, Q-learning) or None.
    """

    round_index: int
    strategies: np.ndarray
    revising: np.ndarray
    gain: np.ndarray
    changed: np.ndarray
    regret: np.ndarray | None

    @property
    def epsilon(self) -> float:
        return float(self.gain.max())


def dynamics(
    market: Market,
    values: Values,
    bids: np.ndarray,
    *,
    rule,
    protocol: str,
    rounds: int,
    rng: np.random.Generator,
    grid=None,
    fraction: float = 0.1,
) -> Iterator[State]:
    """Repeat: pick who revises, let the rule revise, yield the state.

    Args:
        market: mechanism, DAOs, valuation class.
        values: fixed values ``(n[, m])``, value samples ``(S, n[, m])`` (then strategies
            are shading factors), or a callable ``(round_index, rng) -> array`` giving
            fresh values or samples each round. Rules with ``full`` or ``bandit`` feedback
            on shading factors learn from one profile: pass ``(1, n[, m])``.
        bids: initial strategies ``(n[, m])``: bids, or shading factors with samples.
        rule: a name in ``LEARNING_RULES`` (default parameters) or a rule instance.
        protocol: a name in ``protocols.PROTOCOLS``.
        rounds: number of rounds.
        rng: the only source of randomness.
        grid: candidate grid passed to ``rule.reset`` (see ``payoffs.py``).
        fraction: revision probability of the "inertia" protocol.

    Yields:
        ``State`` after each round.
    """
    rule = LEARNING_RULES[rule]() if isinstance(rule, str) else rule
    strategies = np.array(bids, dtype=np.float64)
    n_items = 1 if market.valuation == "single" else strategies.shape[-1]
    rule.reset(market.n_members, n_items, grid=grid, rng=rng)
    for t in range(rounds):
        revising = revising_members(
            protocol, market.n_members, groups=market.groups, round_index=t, rng=rng,
            fraction=fraction,
        )
        now = values(t, rng) if callable(values) else values
        revision = rule.step(market, now, strategies, revising=revising, rng=rng)
        strategies = revision.strategies
        yield State(t, strategies, revising, revision.gain, revision.changed, revision.regret)
