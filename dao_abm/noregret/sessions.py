"""Many sessions of Hedge or EXP3 members learning a shading factor, values redrawn each
round: the setting, the compiled run, and its reference (the registered rule objects).

A session: groups of the given sizes (DAOs; a size of 1 is an individual bidder), every
member with a fresh U[0, 1] value each round, bidding factor × value with the factor drawn
from its weights over ``factors`` (a grid holding 1, truthful bidding). Session s draws
everything from its own child of ``SeedSequence(seed)``: first the initial factors (uniform),
then per block of rounds a ``(B, n)`` block of values and one of sampling uniforms. So a
session's path does not depend on how many other sessions run beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dao_abm.errors import DaoAbmError
from dao_abm.learning import LEARNING_RULES, Feedback, Market, deviation_utilities
from dao_abm.mechanisms import Groups
from dao_abm.noregret.auction import MECHANISMS
from dao_abm.noregret.kernel import RULES, advance

#: Shading factors: 0.1, 0.2, ..., 1 (holds 1; no zero bid, so group bids never tie).
FACTORS = tuple(round(0.1 * j, 10) for j in range(1, 11))
#: Rounds per block of draws (the block size is part of the random stream's layout).
BLOCK = 1000


@dataclass(frozen=True)
class Setting:
    """One experiment cell.

    Attributes:
        mechanism: one of ``auction.MECHANISMS``.
        sizes: group sizes (two DAOs of k: ``(k, k)``; a DAO against one bidder: ``(k, 1)``).
        rule: "hedge" (full feedback) or "exp3" (bandit feedback).
        params: the rule's parameters by name (``[learning.params]``; defaults otherwise).
        factors: the shading factors, sorted, holding 1.
        sessions, rounds: how many independent sessions, of how many rounds.
        every: record the metrics every this many rounds.
        seed: the root seed.
    """

    mechanism: str = "dao-vickrey"
    sizes: tuple[int, ...] = (1, 1)
    rule: str = "hedge"
    params: dict = field(default_factory=dict)
    factors: tuple[float, ...] = FACTORS
    sessions: int = 64
    rounds: int = 10_000
    every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise DaoAbmError(f"mechanism: {self.mechanism!r} is not one of "
                              f"{', '.join(MECHANISMS)}")
        if self.rule not in RULES:
            raise DaoAbmError(f"learning.rule: {self.rule!r} is not one of {', '.join(RULES)}")
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise DaoAbmError(f"sizes: need at least two groups of >= 1 member, got "
                              f"{self.sizes}")
        f = np.asarray(self.factors, dtype=np.float64)
        if f.ndim != 1 or (f < 0).any() or not (f == 1.0).any() or (np.diff(f) <= 0).any():
            raise DaoAbmError("learning.grid: factors must be increasing, >= 0, and hold 1")
        for key in ("sessions", "rounds", "every"):
            if getattr(self, key) < 1:
                raise DaoAbmError(f"{key}: must be >= 1, got {getattr(self, key)}")
        self.learner()  # bad parameters fail here, named learning.params.<name>

    def learner(self):
        """The registered rule object with these parameters (``LEARNING_RULES``)."""
        try:
            return LEARNING_RULES[self.rule](**self.params)
        except (TypeError, ValueError) as err:
            raise DaoAbmError(str(err)) from None

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.sizes))).astype(np.int64)

    @property
    def n(self) -> int:
        return int(sum(self.sizes))


@dataclass(frozen=True, eq=False)
class Trace:
    """What a run recorded.

    Attributes:
        rounds: ``(R,)`` the recorded rounds (every, 2·every, ...).
        w1, share, factor, modal: ``(R, S, G)`` per session and group: mean weight on factor
            1, share of members with weight on it > 1/2, mean expected factor, share whose
            likeliest factor is 1 (``kernel.advance``).
        weights: ``(S, n, K)`` every member's final weights.
        choice: ``(S, n)`` the factor index each member plays next.
    """

    setting: Setting
    rounds: np.ndarray
    w1: np.ndarray
    share: np.ndarray
    factor: np.ndarray
    modal: np.ndarray
    weights: np.ndarray
    choice: np.ndarray

    def overall(self, metric: str) -> np.ndarray:
        """``(R, S)`` a metric over all members (groups weighted by size)."""
        sizes = np.asarray(self.setting.sizes, dtype=np.float64)
        return getattr(self, metric) @ sizes / sizes.sum()


def _generators(setting: Setting) -> list[np.random.Generator]:
    return [np.random.default_rng(s)
            for s in np.random.SeedSequence(setting.seed).spawn(setting.sessions)]


def _blocks(setting: Setting, gens: list[np.random.Generator]):
    """Yield ``(t0, values, uniforms)`` per block, each ``(S, B, n)``."""
    n = setting.n
    for t0 in range(0, setting.rounds, BLOCK):
        b = min(BLOCK, setting.rounds - t0)
        draws = [(g.random((b, n)), g.random((b, n))) for g in gens]
        yield t0, np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws])


def _start(setting: Setting, gens):
    k, s, n = len(setting.factors), setting.sessions, setting.n
    choice = np.stack([g.integers(k, size=n) for g in gens]).astype(np.int64)
    r, groups = setting.rounds // setting.every, len(setting.sizes)
    records = [np.zeros((r, s, groups)) for _ in range(4)]
    return choice, records


def run(setting: Setting) -> Trace:
    """Run every session with the compiled loop (``kernel.advance``)."""
    gens = _generators(setting)
    choice, records = _start(setting, gens)
    rule = setting.learner()
    eta = rule.params.eta
    gamma = getattr(rule.params, "exploration", 0.0)
    factors = np.asarray(setting.factors, dtype=np.float64)
    k, s, n = factors.size, setting.sessions, setting.n
    state = np.zeros((s, n, k))
    last = np.full((s, n, k), 1.0 / k)
    for t0, values, uniforms in _blocks(setting, gens):
        advance(MECHANISMS.index(setting.mechanism), RULES.index(setting.rule), eta, gamma,
                factors, int(np.flatnonzero(factors == 1.0)[0]), setting.starts, values,
                uniforms, choice, state, last, t0, setting.every, *records)
    return _trace(setting, records, last, choice)


def _trace(setting: Setting, records, weights, choice) -> Trace:
    rounds = setting.every * np.arange(1, setting.rounds // setting.every + 1)
    return Trace(setting, rounds, *records, weights=weights, choice=choice)


class _Uniforms:
    """Stands in for a Generator inside ``learning.choice.sample``: hands out the round's
    pre-drawn uniforms, so the reference consumes exactly the compiled loop's draws."""

    def __init__(self) -> None:
        self.next: np.ndarray | None = None

    def random(self, shape) -> np.ndarray:
        return self.next.reshape(shape)


def run_reference(setting: Setting) -> tuple[np.ndarray, np.ndarray]:
    """The same sessions stepped by the registered rule object (``Hedge.learn`` /
    ``Exp3.learn``) on the library's payoffs (``deviation_utilities`` for full feedback,
    the engine's realized utilities for bandit feedback), one round at a time for all
    sessions at once. Slow; for tests.

    Returns:
        ``choice`` ``(S, n)``: the factor index each member plays next, and ``weights``
        ``(S, n, K)``: the rule's ``probabilities()`` (``Trace.weights`` of ``run``).
    """
    gens = _generators(setting)
    choice, _ = _start(setting, gens)
    factors = np.asarray(setting.factors, dtype=np.float64)
    k, s, n = factors.size, setting.sessions, setting.n
    market = Market(setting.mechanism, Groups.from_sizes(list(setting.sizes)))
    rule, stub = setting.learner(), _Uniforms()
    rule.reset(s * n, 1, grid=factors, rng=np.random.default_rng(0))
    options = np.broadcast_to(factors, (s * n, 1, k))
    zeros = np.zeros((s * n, 1))
    for _, values, uniforms in _blocks(setting, gens):
        for b in range(values.shape[1]):
            v = values[:, b]
            bids = factors[choice] * v
            if rule.mode == "full":
                table = deviation_utilities(market, v, bids, v[..., None] * factors)
                utils, reward = table.reshape(s * n, 1, k), None
            else:
                utils, reward = None, market.utilities(v, bids).reshape(s * n)
            fb = Feedback(rule.mode, options, choice.reshape(s * n, 1), reward, utils,
                          v.reshape(s * n), zeros, zeros, factors[choice].reshape(s * n, 1),
                          zeros + 1.0, True, True, None)
            stub.next = uniforms[:, b]
            choice = rule.learn(fb, stub).reshape(s, n)
    return choice, rule.probabilities().reshape(s, n, k)
