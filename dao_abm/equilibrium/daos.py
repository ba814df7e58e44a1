"""Members of DAOs under private values: bid functions learned on the engine.

A market of DAOs, one per entry of ``sizes`` (a size of 1 is an individual), bidding for one
item under a two-level mechanism (a preset of ``dao_abm.mechanisms``). Every member draws
an i.i.d. value from the prior afresh every auction, and the members of a DAO all play one
bid function (symmetric within a DAO).

A member of DAO j with value v who bids b, everyone else following the current bid
functions, expects ``u_j(v, b) = v·A_j(b) − P_j(b)``: ``A_j(b)`` is its probability of
access and ``P_j(b)`` its expected payment, and neither depends on v. So one engine batch
over (candidate bids x a fixed sample of everyone else's values) gives ``u_j`` at every
value knot at once; the sample is drawn once (common random numbers), so learning is
deterministic given the seed. The learner is SODA's (``soda``): dual averaging per value
knot over the bid grid with steps scaled by the knot's best utility, each DAO's bid function
read off as the monotone function with the learned bid distribution, β = G⁻¹∘F.

Mechanism 1 (``dao-vickrey``) is truthful (Theorem 3.1), so every DAO size should learn the
identity; ``crowdfund`` and ``split-the-bill`` are not, and what they learn is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dao_abm.equilibrium.bid_functions import Prior, cell_weights
from dao_abm.equilibrium.soda import TINY, read_off, softmax
from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import Groups, preset


@dataclass(frozen=True)
class DaoMarket:
    """DAOs of the given sizes competing for one item, and the learner's grids.

    Attributes:
        sizes: one DAO per entry (members each).
        mechanism: a preset name (``dao_abm.mechanisms.PRESETS``).
        prior: every member's value distribution.
        samples: value profiles in the common sample the utilities are averaged over.
        value_points, bid_points: the grids of values and of candidate bids.
        bid_cap: the highest candidate bid, as a multiple of the prior's high end (1: no
            member bids above the highest value; above it, Mechanism 1's top value knot is
            indifferent between all overbids, as nobody's bid exceeds 1 in a 2-bidder market).
        shared: one bid function for every member of every DAO (a symmetric market, e.g.
            two DAOs of one size); else one per DAO.
    """

    sizes: tuple[int, ...]
    mechanism: str
    prior: Prior = field(default_factory=Prior.uniform)
    samples: int = 512
    value_points: int = 33
    bid_points: int = 41
    bid_cap: float = 1.0
    shared: bool = False

    def __post_init__(self) -> None:
        preset(self.mechanism)  # ValueError naming the presets
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise DaoAbmError(f"sizes must list at least 2 DAO sizes >= 1 (got {self.sizes})")

    @cached_property
    def groups(self) -> Groups:
        return Groups.from_sizes(list(self.sizes))

    @property
    def n_functions(self) -> int:
        """J: how many bid functions are learned (1 when shared, else one per DAO)."""
        return 1 if self.shared else len(self.sizes)

    @cached_property
    def first_members(self) -> np.ndarray:
        """``(J,)`` the member that stands for each bid function (its DAO's first)."""
        return np.array([int(np.flatnonzero(self.groups.labels == j)[0])
                         for j in range(self.n_functions)])

    @cached_property
    def values(self) -> np.ndarray:
        return np.linspace(self.prior.low, self.prior.high, self.value_points)

    @cached_property
    def weights(self) -> np.ndarray:
        """``(K,)`` prior mass of each value knot's cell."""
        return cell_weights(self.prior, self.values)

    @cached_property
    def bids(self) -> np.ndarray:
        return np.linspace(0.0, self.bid_cap * self.prior.high, self.bid_points)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """``(S, n)`` i.i.d. member values (the common random numbers)."""
        return self.prior.dist.rvs(size=(self.samples, self.groups.n_members),
                                   random_state=rng)

    def read_off(self, sigma: np.ndarray) -> np.ndarray:
        """``(J, K)`` each DAO's pure bid function on the value knots, β = G⁻¹∘F."""
        mass = np.einsum("k,jkm->jm", self.weights, sigma)
        return read_off(mass, self.bids, self.prior.cdf(self.values))

    def member_bids(self, beta: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``(..., n)`` every member's bid: its DAO's bid function at its value."""
        if self.shared:
            return np.interp(values, self.values, beta[0])
        out = np.empty_like(values)
        for j in range(len(self.sizes)):
            cols = self.groups.labels == j
            out[..., cols] = np.interp(values[..., cols], self.values, beta[j])
        return out

    def utilities(self, beta: np.ndarray, sample: np.ndarray,
                  candidates: np.ndarray | None = None) -> np.ndarray:
        """``(J, K, C)`` interim utility of DAO j's member at value knot k bidding candidate
        c (default: the bid grid), everyone else following ``beta`` on ``sample``: one
        engine batch of J·C·S auctions."""
        cand = self.bids if candidates is None else np.asarray(candidates, dtype=np.float64)
        n_dao, s = self.n_functions, sample.shape[0]
        bids = np.broadcast_to(self.member_bids(beta, sample),
                               (n_dao, cand.size, s, sample.shape[1])).copy()
        for j, i in enumerate(self.first_members):
            bids[j, :, :, i] = cand[:, None]
        outcome = preset(self.mechanism).run(bids.reshape(-1, bids.shape[-1]), self.groups,
                                             validate=False)
        access = outcome.access[:, 0, :].reshape(bids.shape)
        paid = outcome.member_payments.reshape(bids.shape)
        rows = np.arange(n_dao)
        a = access[rows, :, :, self.first_members].mean(axis=-1)  # (J, C)
        p = paid[rows, :, :, self.first_members].mean(axis=-1)
        return self.values[None, :, None] * a[:, None, :] - p[:, None, :]

    def relative_utility_loss(self, beta: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """``(J,)`` 1 − E[u(v, β(v))]/E[max_b u(v, b)] over the value knots (prior
        weights), the best over the bid grid and β's own bids, everyone else following
        ``beta`` on ``sample`` (pass a fresh sample for an estimate not fitted to it)."""
        own = np.unique(beta)
        util = self.utilities(beta, sample, np.union1d(self.bids, own))
        cand = np.union1d(self.bids, own)
        pick = np.searchsorted(cand, beta)  # (J, K): each knot's own bid
        own_u = np.take_along_axis(util, pick[..., None], axis=2)[..., 0]
        best = self.weights @ util.max(axis=2).T
        return (best - self.weights @ own_u.T) / np.maximum(best, TINY)


@dataclass(frozen=True)
class DaoState:
    """After ``iteration`` steps: strategies ``sigma`` ``(J, K, M)``, each DAO's bid function
    ``beta`` ``(J, K)`` on the value knots and its relative utility loss ``(J,)``."""

    iteration: int
    sigma: np.ndarray
    beta: np.ndarray
    relative_loss: np.ndarray


def learn_daos(market: DaoMarket, *, rng: np.random.Generator, eta: float = 50.0,
               beta: float = 0.05, iterations: int = 300, tol: float = 1e-3,
               start: np.ndarray | None = None) -> Iterator[DaoState]:
    """SODA on the market: yields the state after every step; stops when every DAO's
    relative utility loss (on the common sample) is below ``tol`` or after ``iterations``.

    Args:
        market: the DAOs, the mechanism and the grids (or anything with ``DaoMarket``'s
            interface: ``pledges.PledgeMarket``).
        rng: draws the common sample, then the random initial strategies.
        eta, beta: step ``η_t = eta·t^(−beta)`` on utilities scaled per value knot.
        iterations: the most steps.
        tol: the stopping relative utility loss.
        start: ``(K,)`` or ``(J, K)`` starting bids at the value knots: the initial
            strategies put most mass near them (log-weights fall by 1 per mean bid-grid
            step).
            None: random (log-weights U[0, 1), so nearly uniform over the bid grid; read
            off as G⁻¹∘F that is close to the identity, so a run meant to show the identity
            being learned should start elsewhere).
    """
    sample = market.sample(rng)
    dual = rng.uniform(0.0, 1.0, size=(market.n_functions, market.value_points,
                                       market.bids.size))
    if start is not None:
        step = np.diff(market.bids).mean()
        start = np.broadcast_to(start, dual.shape[:2])
        dual = dual - np.abs(market.bids - start[..., None]) / step
    for t in range(1, iterations + 1):
        sigma = softmax(dual)
        profile = market.read_off(sigma)
        util = market.utilities(profile, sample)
        best = market.weights @ util.max(axis=2).T
        own = np.einsum("k,jkm,jkm->j", market.weights, sigma, util)
        loss = (best - own) / np.maximum(best, TINY)
        yield DaoState(t - 1, sigma, profile, loss)
        if (loss < tol).all():
            return
        scale = np.maximum(util.max(axis=2, keepdims=True), TINY)
        dual = dual + eta * t ** (-beta) * util / scale
