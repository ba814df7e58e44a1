"""Hedge (multiplicative weights) over the grid, with full feedback.

Each (member, item) plays option k with probability proportional to exp(η · U_k / scale),
U_k the option's cumulative utility so far against the others' actual strategies (full
information) and scale the member's value scale (Freund & Schapire 1997; Arora, Hazan &
Kale 2012). With rewards in [0, 1] its expected regret after T rounds is at most
ln K / η + η T / 8 (Cesa-Bianchi & Lugosi 2006, Theorem 2.2).
Feedback: ``full`` (default) or ``expected``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.learning.choice import sample, softmax
from dao_abm.learning.contract import GridRule, param, register_rule
from dao_abm.learning.feedback import Feedback


@register_rule
class Hedge(GridRule):
    """Multiplicative weights on cumulative utilities (no external regret)."""

    name = "hedge"
    feedback = ("full", "expected")

    @dataclass(frozen=True)
    class Params:
        eta: float = param(0.5, "hedge: learning rate η, applied to utilities in units of the "
                                "member's value", gt=0.0)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.total: np.ndarray | None = None  # (n, m, K) cumulative utility / scale

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        scaled = fb.utilities / np.maximum(fb.scale, 1e-12)[:, None, None]
        self.total = scaled if self.total is None else self.total + scaled
        return sample(self.probabilities(), rng)

    def probabilities(self) -> np.ndarray:
        """``(n, m, K)`` the mixed strategy played next."""
        return softmax(self.params.eta * self.total)
