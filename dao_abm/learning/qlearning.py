"""Q-learning bidders, as in the algorithmic-collusion literature on auctions.

Following Banchio & Skrzypacz (2022, "Artificial Intelligence and Auction Design",
arXiv:2202.05947): each (member, item) keeps a Q-table over the K grid options, explores
ε-greedily with ε_t = ε_0 · exp(-decay · t), and updates only the option it played, from
its realized (bandit) utility r:

    Q[s, a] <- (1 - α) Q[s, a] + α (r + γ max_a' Q[s', a']).

The state s is either nothing ("stateless") or the last price of the member's lot, relative
to the member's value scale and bucketed by the grid ("last-price"; K + 1 states). The
reward is the member's total utility of the round. Counterfactual utilities are computed
only to report the gain (epsilon) and external regret; they never enter the learning.
"""

from __future__ import annotations

import numpy as np

from dao_abm.learning.hedge import ExternalRegret
from dao_abm.learning.market import Market
from dao_abm.learning.payoffs import payoffs, relative_grid
from dao_abm.learning.revision import Revision, finish
from dao_abm.learning.rules import LEARNING_RULES

STATES = ("stateless", "last-price")


@LEARNING_RULES.register("q-learning")
class QLearning:
    """ε-greedy Q-learning over the candidate grid.

    Args:
        alpha: learning rate α in (0, 1].
        gamma: discount factor γ in [0, 1).
        epsilon: initial exploration probability ε_0.
        decay: ε_t = ε_0 · exp(-decay · t), t the number of steps taken.
        state: "stateless" or "last-price".
        q_init: initial Q-values.
    """

    def __init__(self, alpha: float = 0.05, gamma: float = 0.95, epsilon: float = 1.0,
                 decay: float = 1e-3, state: str = "stateless", q_init: float = 0.0) -> None:
        if not (0 < alpha <= 1 and 0 <= gamma < 1 and 0 <= epsilon <= 1 and decay >= 0):
            raise ValueError("need 0 < alpha <= 1, 0 <= gamma < 1, 0 <= epsilon <= 1, decay >= 0")
        if state not in STATES:
            raise ValueError(
                f"unknown Q-learning state {state!r}; choose one of: {', '.join(STATES)}"
            )
        self.alpha, self.gamma, self.epsilon, self.decay = alpha, gamma, epsilon, decay
        self.state_kind, self.q_init = state, q_init
        self.reset(0, 0, grid=None, rng=np.random.default_rng(0))

    def reset(self, n_members: int, n_items: int, *, grid=None, rng: np.random.Generator) -> None:
        self.grid = grid
        self.q: np.ndarray | None = None  # (n, m, states, K), built on the first step
        self.state: np.ndarray | None = None  # (n, m)
        self.t = 0
        self.regret = ExternalRegret()

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """One round; ``members`` is ignored: every member's options feed its memory."""
        pay = payoffs(market, values_or_samples, strategies, self.grid)
        n, m, k = pay.options.shape
        if self.q is None:
            states = 1 if self.state_kind == "stateless" else k + 1
            self.q = np.full((n, m, states, k), float(self.q_init))
            self.state = np.zeros((n, m), dtype=np.int64)
        played = np.abs(pay.options - pay.strategies[..., None]).argmin(axis=-1)
        nxt = self._next_state(pay.prices, pay.scale)
        member, item = np.indices((n, m))
        target = pay.current[:, None] + self.gamma * self.q[member, item, nxt].max(axis=-1)
        q_played = self.q[member, item, self.state, played]
        self.q[member, item, self.state, played] = (1 - self.alpha) * q_played + self.alpha * target
        self.state, self.t = nxt, self.t + 1
        action = self._act(self.q[member, item, nxt], rng)
        new = np.take_along_axis(pay.options, action[..., None], axis=-1)[..., 0]
        regret = self.regret.update(pay)
        return finish(np.asarray(strategies, dtype=np.float64), new, revising, pay.gain, regret)

    def _next_state(self, prices: np.ndarray, scale: np.ndarray) -> np.ndarray:
        if self.state_kind == "stateless":
            return np.zeros(prices.shape, dtype=np.int64)
        relative = prices / np.maximum(scale, 1e-12)[:, None]
        return np.searchsorted(relative_grid(self.grid_1d), relative)

    @property
    def grid_1d(self) -> np.ndarray | None:
        return self.grid if self.grid is None or np.ndim(self.grid) == 1 else None

    def _act(self, q: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(n, m)`` ε-greedy actions from ``q`` ``(n, m, K)``; greedy ties at random."""
        eps = self.epsilon * np.exp(-self.decay * (self.t - 1))
        noise = rng.random(q.shape)
        greedy = np.where(q == q.max(axis=-1, keepdims=True), noise, -1.0).argmax(axis=-1)
        explore = rng.random(q.shape[:-1]) < eps
        return np.where(explore, rng.integers(q.shape[-1], size=q.shape[:-1]), greedy)
