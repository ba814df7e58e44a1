"""Stateless Q-learning bidders in a repeated single-item auction, many sessions at once.

The setting of Banchio & Skrzypacz ("Artificial Intelligence and Auction Design", 2022,
arXiv:2202.05947, §§2-4): n bidders with fixed values bid on an absolute grid every period;
the highest bid wins (ties: a uniformly random tied bidder) and pays its own bid (first
price) or the highest other bid (second price); the winner's reward is value - price, the
others' 0. The same with bidders in groups (DAOs, ``groups``): a group's bid aggregates its
members' bids (``wtp``: max_i i·b_(i), or ``sum``), the highest group bid wins (ties: a
uniformly random tied group, as B&S; the engine's rule, lowest index, would favour group 0),
pays its own bid (``first``) or the highest other group bid (``second``), and the winners
share the price (``max-equal-split``: the t = max{i : i·b_(i) >= p} highest bidders pay p/t
each; ``equal-split-all``: all k members pay p/k; ``proportional``: members with b > 0 pay
b·(p/Σb)); a member with access gets value - payment. Groups of one are B&S's auction.
Every bidder keeps one Q-vector over the grid and, in period t = 0, 1, ...,

- plays its greedy action (the first maximizer of Q), except that with probability
  ε_t = ε₀·exp(-β·t) it explores: a uniformly random action of the grid (possibly the greedy
  one);
- updates only the action a it played, from its own reward r (bandit feedback):
  Q[a] <- (1 - α)·Q[a] + α·(r + γ·max Q), max Q taken before the update.

Initial Q-values are "optimistic" by default, as the registered rule defines them
(``learning/rules/q_learning.py``): every entry max_b (v - b)⁺ / (1 - γ), the largest
discounted payoff any bid could earn (B&S say only "optimistic"; reading it per bid,
(v - b)⁺ / (1 - γ), gives the same outcomes: first price 0.228, second price 993/1000 at
(0.95, 0.95) over 1,000 sessions). A session has converged when the greedy profile has not
changed in its last ``window`` periods (B&S: 1,000).

Randomness. Everything random in a session is drawn up front from that session's own
generator (``session_rng``), so sessions are independent and sharding them changes nothing:

- exploration periods: the periods an agent explores form independent Bernoulli(ε_t)
  trials; they are drawn exactly as the steps of a Poisson process with cumulative hazard
  H(t) = Σ_{u<=t} -log(1 - ε_u) that contain at least one point (points: cumulative sums of
  Exp(1) draws), about ε₀/β = 125 per agent in B&S, with a uniform action each;
- tie-breaks: a 64-bit key per session; the tie in period t is broken by the splitmix64
  output number t of that key (a counter-based draw, so its cost is paid only on ties).

The period loop itself is deterministic given these draws. It has two implementations with
one signature, ``q_reference.advance`` (numpy, plain, vectorized over sessions) and
``q_compiled.advance`` (numba, sessions in parallel, greedy actions cached), held equal bit
for bit by ``tests/test_qgame.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dao_abm.mechanisms.compiled import AGGREGATION_CODES, SHARING_CODES

PRICE_RULES = ("first", "second")
#: The aggregations and cost-sharing rules the kernels play: those the compiled settle has.
AGGREGATIONS, SHARING = AGGREGATION_CODES, SHARING_CODES
#: Ties among the highest group bids: a fair coin among the tied groups (B&S), or always the
#: lowest group index (the engine's rule, ``mechanisms/ties.py``).
TIES = ("coin", "lowest")
#: Spawn-key word for the Q-learning sessions (kept apart from the model's streams).
_QGAME_KEY = 0x51


@dataclass(frozen=True)
class QGame:
    """The repeated auction and the learners' parameters.

    Attributes:
        values: ``(n,)`` bidders' fixed values.
        grid: ``(K,)`` the bids every bidder chooses among.
        price: "first" (the winner pays its bid) or "second" (the highest other bid).
        groups: ``(n,)`` each bidder's group, 0..G-1 (default: everyone alone).
        aggregation: "wtp" or "sum" (a group's bid from its members').
        sharing: "max-equal-split", "equal-split-all" or "proportional".
        alpha: learning rate α in (0, 1].
        gamma: discount γ in [0, 1).
        epsilon: initial exploration probability ε₀ in [0, 1].
        decay: β >= 0 in ε_t = ε₀·exp(-β·t).
        q_init: "optimistic" (max_b (v - b)⁺ / (1 - γ) for every bid) or a number.
        window: periods without a greedy change that count as converged.
        ties: "coin" (a uniformly random tied group, as B&S) or "lowest" (the tied group
            with the lowest index, as the engine): whether learning colludes under first
            price depends on it (README, Banchio & Skrzypacz).
    """

    values: np.ndarray
    grid: np.ndarray
    price: str = "first"
    alpha: float = 0.05
    gamma: float = 0.99
    epsilon: float = 0.025
    decay: float = 0.0002
    q_init: str | float = "optimistic"
    window: int = 1000
    groups: np.ndarray | None = None
    aggregation: str = "wtp"
    sharing: str = "max-equal-split"
    ties: str = "coin"
    n_bidders: int = field(init=False)
    order: np.ndarray = field(init=False, repr=False)
    starts: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # + 0.0 turns a -0.0 into +0.0 and changes nothing else (the compiled kernel's
        # branch-free reward relies on v - b never being -0.0)
        values = np.asarray(self.values, dtype=np.float64).reshape(-1) + 0.0
        grid = np.asarray(self.grid, dtype=np.float64).reshape(-1) + 0.0
        groups = (np.arange(values.size) if self.groups is None
                  else np.asarray(self.groups, dtype=np.int64).reshape(-1))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "n_bidders", int(values.size))
        for name, value, allowed in (("price rule", self.price, PRICE_RULES),
                                     ("aggregation", self.aggregation, AGGREGATIONS),
                                     ("sharing", self.sharing, SHARING),
                                     ("tie rule", self.ties, TIES)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; choose one of: "
                                 f"{', '.join(allowed)}")
        sizes = np.bincount(groups) if groups.size == values.size and groups.min() >= 0 else []
        if len(sizes) < 2 or (np.asarray(sizes) == 0).any():
            raise ValueError("groups: one index 0..G-1 per bidder, every group used, G >= 2")
        if grid.size < 2 or (grid < 0).any() or not np.isfinite(grid).all():
            raise ValueError("need at least 2 nonnegative bids on the grid")
        if not np.isfinite(values).all():
            raise ValueError("values must be finite")
        # members group by group (the kernels' layout): order[starts[j]:starts[j + 1]]
        object.__setattr__(self, "order", np.argsort(groups, kind="stable"))
        object.__setattr__(self, "starts", np.concatenate([[0], np.cumsum(sizes)]))
        if not (0 < self.alpha <= 1 and 0 <= self.gamma < 1 and 0 <= self.epsilon <= 1
                and self.decay >= 0):
            raise ValueError("need 0 < alpha <= 1, 0 <= gamma < 1, 0 <= epsilon <= 1, "
                             "decay >= 0")
        if self.q_init != "optimistic" and not isinstance(self.q_init, int | float):
            raise ValueError(f"q_init must be 'optimistic' or a number, got {self.q_init!r}")

    def initial_q(self) -> np.ndarray:
        """``(n, K)`` initial Q-values."""
        if self.q_init == "optimistic":
            best = np.maximum(self.values[:, None] - self.grid[None, :], 0.0).max(axis=1)
            return np.repeat((best / (1 - self.gamma))[:, None], self.grid.size, axis=1)
        return np.full((self.n_bidders, self.grid.size), float(self.q_init))

    def exploration(self, periods: int) -> np.ndarray:
        """``(periods,)`` ε_t for t = 0, ..., periods - 1."""
        return self.epsilon * np.exp(-self.decay * np.arange(periods))


@dataclass(eq=False)
class QState:
    """Sessions' state between calls of ``advance`` (arrays are updated in place).

    Attributes:
        q: ``(S, n, K)`` Q-values.
        greedy: ``(S, n)`` greedy actions (first maximizer of q).
        runner_up: ``(S, n)`` the first maximizer among the other actions (``q_compiled``'s
            cache; the reference recomputes it).
        t: periods played.
        event_time, event_action: ``(E,)`` every agent's exploration periods and actions,
            agent by agent (session-major), each agent's list closed by a period that never
            comes.
        cursor: ``(S, n)`` index of each agent's next exploration in ``event_time``.
        keys: ``(S,)`` uint64 tie-break keys.
        revenue: ``(S,)`` revenue summed since the last ``take_record``.
        changes: ``(S,)`` greedy changes since the last ``take_record``.
        last_change: ``(S,)`` the last period in which a greedy action changed (-1: never).
    """

    q: np.ndarray
    greedy: np.ndarray
    runner_up: np.ndarray
    t: int
    event_time: np.ndarray
    event_action: np.ndarray
    cursor: np.ndarray
    keys: np.ndarray
    revenue: np.ndarray
    changes: np.ndarray
    last_change: np.ndarray

    @property
    def n_sessions(self) -> int:
        return int(self.q.shape[0])


def session_rng(seed: int, session: int) -> np.random.Generator:
    """Session ``session``'s generator: spawn key ``(_QGAME_KEY, session)`` of the seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_QGAME_KEY, session)))


def first_two(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First maximizer of ``q`` ``(..., K)`` and first maximizer among the others."""
    best = q.argmax(axis=-1)
    rest = q.copy()
    np.put_along_axis(rest, best[..., None], -np.inf, axis=-1)
    return best, rest.argmax(axis=-1)


def start(game: QGame, periods: int, sessions, *, seed: int) -> QState:
    """The state of sessions ``sessions`` (indices) before period 0, for ``periods`` periods.

    Each session draws, from ``session_rng(seed, s)``: its tie key, then agent by agent the
    exploration periods (Poisson points of the hazard, see the module docstring) and their
    actions.
    """
    sessions = list(sessions)
    n, k = game.n_bidders, game.grid.size
    eps = game.exploration(periods)
    hazard = np.cumsum(-np.log1p(-np.minimum(eps, 1 - 1e-16)))
    total = float(hazard[-1]) if periods else 0.0
    keys = np.empty(len(sessions), dtype=np.uint64)
    times, actions, counts = [], [], []
    for row, s in enumerate(sessions):
        rng = session_rng(seed, s)
        keys[row] = rng.integers(0, 2**63, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        for _ in range(n):
            when = _exploration_periods(hazard, total, rng)
            times += [when, [np.iinfo(np.int64).max]]
            actions += [rng.integers(k, size=when.size), [0]]
            counts.append(when.size + 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    q = np.broadcast_to(game.initial_q(), (len(sessions), n, k)).copy()
    greedy, runner_up = first_two(q)
    return QState(q=q, greedy=greedy, runner_up=runner_up, t=0,
                  event_time=np.concatenate(times).astype(np.int64),
                  event_action=np.concatenate(actions).astype(np.int64),
                  cursor=starts.reshape(len(sessions), n), keys=keys,
                  revenue=np.zeros(len(sessions)), changes=np.zeros(len(sessions), np.int64),
                  last_change=np.full(len(sessions), -1, dtype=np.int64))


def _exploration_periods(hazard: np.ndarray, total: float, rng: np.random.Generator
                         ) -> np.ndarray:
    """Sorted periods that hold at least one point of a unit Poisson process on [0, total]."""
    size = int(total + 6 * np.sqrt(total) + 16)
    points = np.cumsum(rng.standard_exponential(size))
    while points[-1] <= total:
        more = np.cumsum(rng.standard_exponential(size)) + points[-1]
        points = np.concatenate([points, more])
    points = points[points <= total]
    return np.unique(np.searchsorted(hazard, points, side="left"))


GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def tie_uniform(keys: np.ndarray, t: int) -> np.ndarray:
    """``(S,)`` uniforms in [0, 1) for period ``t``: splitmix64 output t of each key."""
    with np.errstate(over="ignore"):
        z = keys + GOLDEN * np.uint64(t + 1)
        z = (z ^ (z >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def converged(state: QState, window: int) -> np.ndarray:
    """``(S,)`` whether each session's greedy profile held for its last ``window`` periods."""
    return state.t - (state.last_change + 1) >= window


def stage_gain(game: QGame, greedy: np.ndarray) -> np.ndarray:
    """``(S,)`` the largest gain any bidder has from a one-shot deviation against the greedy
    profile, in expected stage reward (over tie-breaks): 0 at a stage-game Nash
    equilibrium."""
    from dao_abm.ensemble.q_reference import expected_outcome

    bids = game.grid[greedy]  # (S, n)
    now = expected_outcome(game, bids)[1]
    gain = np.zeros(bids.shape)
    for i in range(game.n_bidders):
        for b in game.grid:
            deviated = bids.copy()
            deviated[:, i] = b
            better = expected_outcome(game, deviated)[1][:, i] - now[:, i]
            gain[:, i] = np.maximum(gain[:, i], better)
    return gain.max(axis=1)
