"""Contributors of one DAO with pledges of every size, under private values, against a rival.

The model (ConstitutionDAO under private values, ``dao-abm paper
constitution-private-values``). Contributor i of the DAO has a *type* s_i > 0, its pledge in
the complete-information model, and every auction a fresh private value v_i = s_i·x_i with
x_i i.i.d. U[1 − w, 1 + w] (``noise`` = w), so E[v_i] = s_i. One rival (an individual) values
the item R, fixed or drawn U[R_low, R_high] afresh every auction, and bids R: the sale was an
ascending auction, where bidding up to one's value is dominant for a lone bidder, as it is in
Mechanism 1's second-price upper level. Contributors are put in buckets by pledge size, and
the members of a bucket play one bid function on the normalized scale, b_i = s_i·f_j(v_i/s_i):
a pledge as a share of the contributor's own type, whatever its size.

As in ``daos``: a member's access probability A_i(b) and expected payment P_i(b) do not
depend on its own value, so its interim utility is u_i(v, b) = v·A_i(b) − P_i(b), in units
of its type x·A_i(c·s_i) − P_i(c·s_i)/s_i at normalized value x and normalized bid c. A
bucket's utility is the mean of that over its *representatives* (the members at the
quantiles (k + 1/2)/r of the bucket's types), so learning costs per function and
representative, not per member: the others' bids are the whole population's, one row per
sampled auction (for the crowdfund only their sum matters, Σ_jk mass_jk·β_jk per auction with
the members' interpolation weights summed once per sample, ``Sample.mass``), and what a
representative's deviation to each candidate bid does is computed exactly from them
(``deviation``), for the two presets the DAO could have used:

- ``crowdfund`` (sum, first price, proportional): the DAO wins iff Σ_{k≠i} b_k + c ≥ R (the
  DAO, group 0, wins ties); a winning member has access iff c > 0 and pays c.
- ``dao-vickrey`` (Mechanism 1, §3.1): the DAO wins iff WTP = max_t t·b_(t) ≥ R, pays R, and
  the t = max{t : t·b_(t) ≥ R} top members get access at R/t each.

Both are checked against the engine (``preset(...).run``) member for member in the tests; the
learned functions are evaluated on the engine on fresh draws of the full population.

The learner is ``daos.learn_daos``: ``PledgeMarket`` offers ``DaoMarket``'s interface
(``sample``, ``utilities``, ``read_off``, grids and weights); its bid grid is uneven (the
extra ``LOWEST_BID``), which ``learn_daos`` allows (strategies sized by the grid, the start's
fall-off by the mean grid step).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from dao_abm.equilibrium.bid_functions import Prior, cell_weights
from dao_abm.equilibrium.soda import TINY, read_off
from dao_abm.errors import DaoAbmError
from dao_abm.mechanisms import Groups, optimal_welfare, preset, welfare

#: The presets with an exact deviation oracle here.
MECHANISMS = ("crowdfund", "dao-vickrey")
#: The lowest positive candidate bid, as a share of the bid grid's top: under crowdfund a
#: zero pledge forfeits access, so small contributors bid the least positive amount.
LOWEST_BID = 0.002


@dataclass(frozen=True)
class Sample:
    """The common random numbers of S auctions.

    Attributes:
        rival: ``(S,)`` the rival's value (its bid).
        cols: the members whose values are kept (``x``, ``knot``, ``frac`` have one column
            each): everyone for Mechanism 1, only the representatives for the crowdfund.
        x: ``(S, len(cols))`` normalized values.
        knot, frac: each x's value-knot cell and position in it (interpolation, done once).
        mass: ``(S, J, K)`` bucket j's types weighted by their interpolation weight on knot
            k, over all members, so Σ_i b_i = Σ_jk mass·β: the crowdfund's sum costs per
            function, not per member.
    """

    rival: np.ndarray
    cols: np.ndarray
    x: np.ndarray
    knot: np.ndarray
    frac: np.ndarray
    mass: np.ndarray


#: Auctions drawn at a time (bounds memory at CHUNK x n).
CHUNK = 128


@dataclass(frozen=True, eq=False)
class PledgeMarket:
    """One DAO of contributors with types ``pledges`` against one rival.

    Attributes:
        pledges: ``(n,)`` every contributor's type s_i > 0 (its value is s_i·x_i).
        buckets: ``(n,)`` bucket of each contributor, 0..J−1 (every bucket non-empty); the
            members of a bucket share one bid function.
        mechanism: ``"crowdfund"`` or ``"dao-vickrey"``.
        noise: w; x_i ~ U[1 − w, 1 + w], 0 < w <= 1.
        rival: (R_low, R_high): the rival's value, U[R_low, R_high] (fixed when equal).
        samples: auctions in the common sample.
        value_points, bid_points: grid sizes; values span [1 − w, 1 + w], bids [0, 1 + w]
            (plus ``LOWEST_BID``).
        representatives: r, members standing for each bucket.
    """

    pledges: np.ndarray
    buckets: np.ndarray
    mechanism: str
    noise: float = 1.0
    rival: tuple[float, float] = (1.0, 1.0)
    samples: int = 128
    value_points: int = 33
    bid_points: int = 41
    representatives: int = 5

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise DaoAbmError(f"mechanism must be one of {', '.join(MECHANISMS)} "
                              f"(got {self.mechanism!r})")
        if not 0 < self.noise <= 1:
            raise DaoAbmError(f"noise must be in (0, 1] (got {self.noise!r})")
        low, high = self.rival
        if not 0 < low <= high:
            raise DaoAbmError(f"rival must be (low, high) with 0 < low <= high (got {self.rival})")
        if self.pledges.ndim != 1 or (self.pledges <= 0).any() or self.pledges.size < 1:
            raise DaoAbmError("pledges must be a non-empty list of numbers > 0")
        if self.buckets.shape != self.pledges.shape or set(np.unique(self.buckets)) != set(
                range(int(self.buckets.max()) + 1)):
            raise DaoAbmError("buckets must label every contributor 0..J−1, none empty")

    @property
    def n(self) -> int:
        return self.pledges.size

    @property
    def n_functions(self) -> int:
        return int(self.buckets.max()) + 1

    @cached_property
    def prior(self) -> Prior:
        return Prior.uniform(1.0 - self.noise, 1.0 + self.noise)

    @cached_property
    def values(self) -> np.ndarray:
        return np.linspace(self.prior.low, self.prior.high, self.value_points)

    @cached_property
    def weights(self) -> np.ndarray:
        """``(K,)`` prior mass of each value knot's cell."""
        return cell_weights(self.prior, self.values)

    @cached_property
    def bids(self) -> np.ndarray:
        top = self.prior.high
        return np.union1d(np.linspace(0.0, top, self.bid_points), [LOWEST_BID * top])

    @cached_property
    def groups(self) -> Groups:
        """The DAO (group 0, wins ties) and the rival (group 1)."""
        return Groups.from_sizes([self.n, 1])

    @cached_property
    def reps(self) -> tuple[np.ndarray, np.ndarray]:
        """Representatives: member indices ``(R,)`` and a ``(J, R)`` matrix of weights that
        averages them per bucket (each bucket's rows sum to 1)."""
        index, bucket = [], []
        for j in range(self.n_functions):  # once per bucket, at construction
            members = np.flatnonzero(self.buckets == j)
            members = members[np.argsort(self.pledges[members], kind="stable")]
            q = (np.arange(self.representatives) + 0.5) / self.representatives
            chosen = np.unique(members[(q * members.size).astype(int)])
            index.append(chosen)
            bucket.append(np.full(chosen.size, j))
        index, bucket = np.concatenate(index), np.concatenate(bucket)
        weights = (bucket[None, :] == np.arange(self.n_functions)[:, None]).astype(float)
        return index, weights / weights.sum(axis=1, keepdims=True)

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Sample:
        """``size`` (default ``samples``) auctions, drawn ``CHUNK`` at a time: every member's
        x (kept for the members the mechanism's deviations need) and the rival's value."""
        size = self.samples if size is None else size
        cols = np.arange(self.n) if self.mechanism == "dao-vickrey" else self.reps[0]
        parts = [self._draw(rng, min(CHUNK, size - lo), cols) for lo in range(0, size, CHUNK)]
        rival, _, x, knot, frac, mass = (np.concatenate(a) for a in zip(*(
            (p.rival, p.cols, p.x, p.knot, p.frac, p.mass) for p in parts), strict=True))
        return Sample(rival, cols, x, knot, frac, mass)

    def _draw(self, rng: np.random.Generator, size: int, cols: np.ndarray) -> Sample:
        x = rng.uniform(self.prior.low, self.prior.high, size=(size, self.n))
        rival = rng.uniform(*self.rival, size=size)
        knot, frac = self.cells(x)
        j, k = self.n_functions, self.values.size
        cell = (np.arange(size)[:, None] * j + self.buckets[None, :]) * k + knot
        mass = (np.bincount(cell.ravel(), (self.pledges * (1 - frac)).ravel(), size * j * k)
                + np.bincount((cell + 1).ravel(), (self.pledges * frac).ravel(), size * j * k))
        return Sample(rival, cols[None, :], x[:, cols], knot[:, cols], frac[:, cols],
                      mass.reshape(size, j, k))

    def cells(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each x's value-knot cell (int32) and its position in the cell, in [0, 1]."""
        v = self.values
        knot = np.clip(np.searchsorted(v, x, side="right") - 1, 0, v.size - 2).astype(np.int32)
        return knot, np.clip((x - v[knot]) / (v[knot + 1] - v[knot]), 0.0, 1.0)

    def read_off(self, sigma: np.ndarray) -> np.ndarray:
        """``(J, K)`` each bucket's pure normalized bid function on the value knots,
        β = G⁻¹∘F (``soda.read_off``)."""
        mass = np.einsum("k,jkm->jm", self.weights, sigma)
        return read_off(mass, self.bids, self.prior.cdf(self.values))

    def member_bids(self, beta: np.ndarray, sample: Sample) -> np.ndarray:
        """``(S, len(sample.cols))`` the bids in money of the sample's kept members:
        s_i·f_j(x_i), f_j its bucket's function ``beta[j]`` interpolated between the knots."""
        return self.interpolate(beta, sample.cols, sample.knot, sample.frac)

    def interpolate(self, beta: np.ndarray, cols: np.ndarray, knot: np.ndarray,
                    frac: np.ndarray) -> np.ndarray:
        """Bids in money of members ``cols`` at cells ``knot``, positions ``frac``."""
        rows = self.buckets[None, cols]
        return self.pledges[cols] * (beta[rows, knot] * (1 - frac)
                                     + beta[rows, knot + 1] * frac)

    def deviation(self, beta: np.ndarray, sample: Sample, candidates: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``(R, C)`` each representative's access probability and expected payment (in
        units of its type) when it bids candidate·s and everyone else follows ``beta``,
        averaged over the sample's auctions."""
        index, _ = self.reps
        s = self.pledges[index]
        offer = candidates[None, :] * s[:, None]  # (R, C) in money
        if self.mechanism == "crowdfund":
            total = np.einsum("sjk,jk->s", sample.mass, beta)
            own = self.member_bids(beta, sample)  # the representatives' columns
            access, pay = crowdfund_deviation(total[:, None] - own, sample.rival, offer)
        else:
            access, pay = vickrey_deviation(self.member_bids(beta, sample), sample.rival,
                                            index, offer)
        return access.mean(axis=0), pay.mean(axis=0) / s[:, None]

    def utilities(self, beta: np.ndarray, sample: Sample,
                  candidates: np.ndarray | None = None) -> np.ndarray:
        """``(J, K, C)`` bucket j's mean normalized interim utility at value knot k bidding
        candidate c (default: the bid grid), everyone following ``beta``."""
        cand = self.bids if candidates is None else np.asarray(candidates, dtype=np.float64)
        a, p = self.deviation(beta, sample, cand)
        _, weights = self.reps
        a, p = weights @ a, weights @ p
        return self.values[None, :, None] * a[:, None, :] - p[:, None, :]

    def relative_utility_loss(self, beta: np.ndarray, sample: Sample) -> np.ndarray:
        """``(J,)`` 1 − E[u(x, β(x))]/E[max_c u(x, c)] per bucket over the value knots (prior
        weights), the best over the bid grid and β's own bids."""
        cand = np.union1d(self.bids, np.unique(beta))
        util = self.utilities(beta, sample, cand)
        own = np.take_along_axis(util, np.searchsorted(cand, beta)[..., None], axis=2)[..., 0]
        best = self.weights @ util.max(axis=2).T
        return (best - self.weights @ own.T) / np.maximum(best, TINY)

    def evaluate(self, beta: np.ndarray, rng: np.random.Generator, draws: int
                 ) -> dict[str, dict[str, float]]:
        """Learned bids ``beta`` against truthful bids (v_i) on the same ``draws`` fresh
        auctions of the whole population, on the engine: for each, the means of ``win``
        (share of auctions the DAO wins), ``welfare`` (true values of everyone with access),
        ``optimum`` (max of Σ v_i and R), ``revenue`` (the price) and ``pledged`` (Σ of the
        DAO's bids)."""
        mech, keys = preset(self.mechanism), ("win", "welfare", "optimum", "revenue", "pledged")
        sums = {bids: dict.fromkeys(keys, 0.0) for bids in ("learned", "truthful")}
        everyone = np.arange(self.n)
        for lo in range(0, draws, CHUNK):
            size = min(CHUNK, draws - lo)
            x = rng.uniform(self.prior.low, self.prior.high, size=(size, self.n))
            rival = rng.uniform(*self.rival, size=size)
            values = np.column_stack([self.pledges * x, rival])
            optimum = float(optimal_welfare(values, self.groups, "single").sum())
            learned = self.interpolate(beta, everyone, *self.cells(x))
            for name, bids in (("learned", learned), ("truthful", values[:, :-1])):
                outcome = mech.run(np.column_stack([bids, rival]), self.groups,
                                   validate=False)
                add = sums[name]
                add["win"] += float((outcome.winner[:, 0] == 0).sum())
                add["welfare"] += float(welfare(values, outcome).sum())
                add["optimum"] += optimum
                add["revenue"] += float(outcome.price.sum())
                add["pledged"] += float(bids.sum())
        return {name: {k: v / draws for k, v in part.items()} for name, part in sums.items()}


def crowdfund_deviation(others: np.ndarray, rival: np.ndarray, offer: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(S, R, C)`` access and payment of member r bidding ``offer[r, c]`` under
    ``crowdfund`` when the others' pledges sum to ``others`` ``(S, R)``: the DAO wins iff
    that sum plus the offer reaches the rival's bid (ties go to the DAO); a winner with a
    positive pledge gets access and pays it."""
    access = (others[..., None] + offer[None] >= rival[:, None, None]) & (offer[None] > 0)
    return access, np.where(access, offer[None], 0.0)


def vickrey_deviation(bids: np.ndarray, rival: np.ndarray, index: np.ndarray,
                      offer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S, R, C)`` access and payment of member ``index[r]`` bidding ``offer[r, c]`` under
    Mechanism 1 against a rival bidding ``rival`` (one DAO against one individual: the DAO
    wins iff its WTP reaches the rival's bid, at price R).

    With the others' bids o_(1) >= o_(2) >= ... and the offer c ranked r = 1 + #{o > c},
    the merged order's ranks qualify (t·b_(t) >= R) at i < r if i·o_(i) >= R, at r if
    r·c >= R, at i > r if i·o_(i−1) >= R. The member has access iff the largest qualifying
    rank t is >= r, i.e. iff r·c >= R or j* >= r with j* = max{j : (j+1)·o_(j) >= R}; then it
    pays R/t with t = j* + 1 if j* >= r, else r. Only bids >= R/n can ever qualify, so the
    others below that are dropped before sorting (the offers can reach it: they are kept
    when the member is).
    """
    n = bids.shape[1]
    keep = (bids.max(axis=0) >= rival.min() / n) | np.isin(np.arange(n), index)
    cols = np.flatnonzero(keep)
    order = np.argsort(-bids[:, cols], axis=1, kind="stable")
    top = np.take_along_axis(bids[:, cols], order, axis=1)  # (S, m) descending
    s, m = top.shape
    rank = np.arange(1, m + 1)
    where = np.empty_like(order)
    np.put_along_axis(where, order, np.arange(m)[None, :], axis=1)
    q = where[:, np.searchsorted(cols, index)] + 1  # (S, R) own position, 1-based
    # j* with the member's own bid removed from position q: o_(j) = top_(j) for j < q and
    # top_(j+1) for j >= q, so (j+1)·o_(j) >= R reads (j+1)·top_(j) for j < q and
    # k·top_(k) with k = j + 1 > q.
    first = np.where((rank + 1) * top >= rival[:, None], rank, 0)
    before = np.concatenate([np.zeros((s, 1), dtype=np.int64),
                             np.maximum.accumulate(first, axis=1)], axis=1)  # max over j < q
    last_k = np.where(rank * top >= rival[:, None], rank, 0).max(axis=1)  # (S,)
    rows = np.arange(s)[:, None]
    jstar = np.maximum(before[rows, q - 1], np.where(last_k[:, None] > q,
                                                     last_k[:, None] - 1, 0))
    # r = 1 + #{others > c}: count in each sorted row (rows stacked with offsets).
    span = float(max(top.max(initial=0.0), offer.max(initial=0.0))) + 1.0
    ascending = (top[:, ::-1] + span * np.arange(s)[:, None]).ravel()
    query = offer[None] + span * np.arange(s)[:, None, None]  # (S, R, C)
    above = (m * (np.arange(s)[:, None, None] + 1)
             - np.searchsorted(ascending, query, side="right"))
    own = top[rows, q - 1][..., None]  # (S, R, 1)
    r = 1 + above - (own > offer[None])
    price = rival[:, None, None]
    access = (r * offer[None] >= price) | (jstar[..., None] >= r)
    t = np.where(jstar[..., None] >= r, jstar[..., None] + 1, r)
    return access, np.where(access, price / t, 0.0)
