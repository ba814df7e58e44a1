"""Q-learning bidders, as Banchio & Skrzypacz (2022) define them.

"Artificial Intelligence and Auction Design" (arXiv:2202.05947): each (member, item) keeps
a Q-table over the K grid options, plays ε-greedily with ε_t = ε_0 · exp(-β t) (t = rounds
played), and after playing a with realized payoff r (bandit feedback: this round's payoff,
not a mean over value draws) updates only that entry:

    Q[s, a] <- (1 - α) Q[s, a] + α (r + γ max_a' Q[s', a']).

The state s is nothing ("stateless", the paper's baseline) or the last price of the
member's lot bucketed by its grid ("last-price", K + 1 states). Initial Q-values are
"optimistic", every entry max_k (v - b_k)+ / (1 - γ), the largest discounted payoff any
bid could earn, so every option is tried; or "zero". Convergence as the paper defines it
(B&S §3: "the greedy action profile unchanged for K periods", K = 1,000 there;
``converge_rounds``): ``stable_rounds`` counts the updates since the greedy policy (the
first maximizer of Q in every state, every member and item) last changed, the initial Q's
greedy policy counting as the first, and ``converged`` is ``stable_rounds >= K``; the run
reports it per round and session (``converged`` in metrics.csv). Feedback: ``bandit``
(default) or ``expected`` (mean utility over sampled values; not the paper's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dao_abm.learning.choice import epsilon_greedy
from dao_abm.learning.contract import GridRule, param, register_rule
from dao_abm.learning.feedback import Feedback

STATES = ("stateless", "last-price")
Q_INIT = ("optimistic", "zero")


@register_rule
class QLearning(GridRule):
    """ε-greedy tabular Q-learning over the candidate grid."""

    name = "q-learning"
    feedback = ("bandit", "expected")

    @dataclass(frozen=True)
    class Params:
        alpha: float = param(0.05, "q-learning: learning rate α", gt=0.0, max=1.0)
        gamma: float = param(0.99, "q-learning: discount factor γ", min=0.0, lt=1.0)
        exploration: float = param(0.025, "q-learning: initial exploration rate ε_0",
                                   min=0.0, max=1.0)
        decay: float = param(2e-4, "q-learning: β in ε_t = ε_0 · exp(-β t)", min=0.0)
        state: str = param("stateless", "q-learning: what a member conditions on",
                           choices=STATES)
        q_init: str = param("optimistic", "q-learning: initial Q-values, max_k (v - b_k)+ / "
                                          "(1 - γ) everywhere, or 0", choices=Q_INIT)
        converge_rounds: int = param(1000, "q-learning: K, converged once the greedy bid "
                                           "profile has not changed for K rounds (B&S: 1,000)",
                                     min=1)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.q: np.ndarray | None = None  # (n, m, states, K), built on the first round
        self.state: np.ndarray | None = None  # (n, m)
        self.t = 0
        self.greedy: np.ndarray | None = None  # (n, m, states) greedy option of each state
        self.stable_rounds = 0  # updates since the greedy policy last changed

    @property
    def converged(self) -> bool:
        """Whether the greedy policy has been unchanged for ``converge_rounds`` updates."""
        return self.stable_rounds >= self.params.converge_rounds

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        n, m, k = fb.options.shape
        p = self.params
        if self.q is None:
            self.q = np.zeros((n, m, 1 if p.state == "stateless" else k + 1, k))
            if p.q_init == "optimistic":
                self.q += (fb.headroom / (1.0 - p.gamma))[:, :, None, None]
            self.state = np.zeros((n, m), dtype=np.int64)
            self.greedy = self.q.argmax(axis=-1)
        member, item = np.indices((n, m))
        nxt = self._next_state(fb)
        target = fb.reward[:, None] + p.gamma * self.q[member, item, nxt].max(axis=-1)
        played = self.q[member, item, self.state, fb.played]
        self.q[member, item, self.state, fb.played] = (1 - p.alpha) * played + p.alpha * target
        self.state = nxt
        q_now = self.q[member, item, nxt]
        greedy = self.q.argmax(axis=-1)
        same = np.array_equal(greedy, self.greedy)
        self.stable_rounds = self.stable_rounds + 1 if same else 0
        self.greedy = greedy
        epsilon = p.exploration * np.exp(-p.decay * self.t)
        self.t += 1
        return epsilon_greedy(q_now, epsilon, rng)

    def _next_state(self, fb: Feedback) -> np.ndarray:
        if self.params.state == "stateless":
            return np.zeros(fb.prices.shape, dtype=np.int64)
        bids = fb.options * fb.scale[:, None, None] if fb.shading else fb.options
        return (bids <= fb.prices[..., None]).sum(axis=-1)
