"""Logit (smoothed) best response over the grid.

Option k is drawn with probability proportional to exp(u_k / (temperature · scale)), u_k
its utility against the others' current strategies and scale the member's value scale, so
the temperature is unit-free. As the temperature goes to 0 this is the best response
(McKelvey & Palfrey 1995, quantal response; Blume 1993, log-linear learning).
Feedback: ``expected`` (default) or ``full``. No memory: only revising members are evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.learning.choice import sample_softmax
from dao_abm.learning.contract import GridRule, param, register_rule
from dao_abm.learning.feedback import Feedback


@register_rule
class Logit(GridRule):
    """Logit response: a noisy best response that favours better options smoothly."""

    name = "logit"
    feedback = ("expected", "full")
    memory = False

    @dataclass(frozen=True)
    class Params:
        temperature: float = param(0.05, "logit: temperature λ in units of the member's value "
                                          "(0.01: nearly best response; 1: nearly uniform)",
                                   gt=0.0)

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        utils = fb.rows(fb.utilities)
        scale = np.repeat(fb.scale, fb.options.shape[1]) if fb.separable else fb.scale
        logits = utils / (self.params.temperature * np.maximum(scale, 1e-12))[:, None]
        return fb.per_item(sample_softmax(logits, rng))
