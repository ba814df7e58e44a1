"""EXP3: exponential weights for the adversarial bandit, from realized payoffs only.

Each (member, item) plays option k with probability P_k = (1 - γ) · softmax(η · S)_k + γ / K
and, after playing A with reward x in [0, 1], updates every estimate S_k += 1 - 1{k = A}
(1 - x) / P_A (the loss-based importance-weighted estimator of Lattimore & Szepesvári 2020,
"Bandit Algorithms", Algorithm 9; the uniform mixture γ of Auer, Cesa-Bianchi, Freund &
Schapire 2002, which keeps every P_k >= γ / K, so the weights stay finite even when a
member did not draw its option, as under the inertia protocol). The reward is the
member's realized utility this round in units of its value, clipped to [0, 1]. The first
round's strategies are taken as drawn uniformly. Feedback: ``bandit`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.learning.choice import sample, softmax
from dao_abm.learning.contract import GridRule, param, register_rule
from dao_abm.learning.feedback import Feedback


@register_rule
class Exp3(GridRule):
    """Exponential weights with importance-weighted estimates of unplayed options."""

    name = "exp3"
    feedback = ("bandit",)

    @dataclass(frozen=True)
    class Params:
        eta: float = param(0.05, "exp3: learning rate η (about sqrt(ln K / (T K)) for T "
                                 "rounds and K options)", gt=0.0)
        exploration: float = param(0.05, "exp3: γ, the probability of a uniformly random "
                                         "option", gt=0.0, max=1.0)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.estimate: np.ndarray | None = None  # (n, m, K) S_k
        self.last: np.ndarray | None = None  # (n, m, K) the probabilities played with

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        n, m, k = fb.options.shape
        if self.estimate is None:
            self.estimate = np.zeros((n, m, k))
            self.last = np.full((n, m, k), 1.0 / k)
        x = np.clip(fb.reward / np.maximum(fb.scale, 1e-12), 0.0, 1.0)[:, None]  # (n, 1)
        p_played = np.take_along_axis(self.last, fb.played[..., None], axis=-1)[..., 0]
        self.estimate += 1.0
        member, item = np.indices((n, m))
        self.estimate[member, item, fb.played] -= (1.0 - x) / p_played
        self.last = self.probabilities()
        return sample(self.last, rng)

    def probabilities(self) -> np.ndarray:
        """``(n, m, K)`` the mixed strategy played next."""
        gamma = self.params.exploration
        k = self.estimate.shape[-1]
        return (1.0 - gamma) * softmax(self.params.eta * self.estimate) + gamma / k
