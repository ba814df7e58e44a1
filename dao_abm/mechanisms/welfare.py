"""Welfare, the optimum, and the approximation ratio (Section 2).

Social welfare is the sum over members of their true value for the items they have access
to; the optimum gives every member of a group everything the group holds (footnote 4).
"""

from __future__ import annotations

import numpy as np

from dao_abm.mechanisms.groups import Groups
from dao_abm.mechanisms.outcome import Outcome


def _item_values(values: np.ndarray, valuation: str) -> np.ndarray:
    return values[..., None] if valuation == "single" else values


def member_values(values: np.ndarray, outcome: Outcome) -> np.ndarray:
    """``(*B, n)`` each member's true value for its access set: v(S) = Σ_{l∈S} v(l)
    (additive, single) or max_{l∈S} v(l) (unit-demand)."""
    held = np.where(outcome.member_items, _item_values(values, outcome.valuation), 0.0)
    return held.max(axis=-1) if outcome.valuation == "unit-demand" else held.sum(axis=-1)


def utilities(values: np.ndarray, outcome: Outcome) -> np.ndarray:
    """``(*B, n)`` quasi-linear utility v(S_i) - p_i of every member."""
    return member_values(values, outcome) - outcome.member_payments


def welfare(values: np.ndarray, outcome: Outcome) -> np.ndarray:
    """``(*B,)`` social welfare Σ_j Σ_i v_i^j(S_i^j)."""
    return member_values(values, outcome).sum(axis=-1)


def optimal_welfare(values: np.ndarray, groups: Groups, valuation: str) -> np.ndarray:
    """``(*B,)`` OPT: the best feasible allocation of items to groups.

    Single item and additive: each item goes to the group with the highest total value for
    it (closed form, Section 3.1 and Theorem 4.1). Unit-demand: exact, by an assignment
    problem when every group has one member and by a MILP (scipy's HiGHS) otherwise.
    """
    v = _item_values(np.asarray(values, dtype=np.float64), valuation)
    group_item = np.add.reduceat(v[..., groups.order, :], groups.starts, axis=-2)  # (*B, k, m)
    if valuation != "unit-demand" or v.shape[-1] == 1:
        return group_item.max(axis=-2).sum(axis=-1)
    flat = v.reshape(-1, *v.shape[-2:])
    solve = _assignment_optimum if groups.max_size == 1 else _milp_optimum
    return np.array([solve(row, groups) for row in flat]).reshape(v.shape[:-2])


def _assignment_optimum(values: np.ndarray, groups: Groups) -> float:
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize is slow to import

    rows, cols = linear_sum_assignment(values, maximize=True)
    return float(values[rows, cols].sum())


def _milp_optimum(values: np.ndarray, groups: Groups) -> float:
    """max Σ v_il y_il  s.t.  Σ_j x_jl <= 1,  Σ_l y_il <= 1,  y_il <= x_{g(i) l},
    x binary, 0 <= y <= 1 (y is integral once x is fixed)."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    scale = float(values.max())
    if scale <= 0:
        return 0.0
    values = values / scale  # HiGHS' absolute tolerances (~1e-6) would swallow tiny values
    n, m = values.shape
    k = groups.n_groups
    nx_, ny = k * m, n * m
    item_rows = sparse.hstack(
        [sparse.kron(np.ones((1, k)), sparse.eye(m)), sparse.csr_matrix((m, ny))]
    )
    member_rows = sparse.hstack(
        [sparse.csr_matrix((n, nx_)), sparse.kron(sparse.eye(n), np.ones((1, m)))]
    )
    member_to_group = sparse.csr_matrix((np.ones(n), (np.arange(n), groups.labels)), shape=(n, k))
    link = sparse.hstack([-sparse.kron(member_to_group, sparse.eye(m)), sparse.eye(ny)])
    a = sparse.vstack([item_rows, member_rows, link]).tocsr()
    upper = np.concatenate([np.ones(m + n), np.zeros(ny)])
    cost = np.concatenate([np.zeros(nx_), -values.reshape(-1)])
    integrality = np.concatenate([np.ones(nx_), np.zeros(ny)])
    res = milp(cost, constraints=LinearConstraint(a, -np.inf, upper),
               integrality=integrality, bounds=Bounds(0, 1), options={"mip_rel_gap": 1e-12})
    if not res.success:  # pragma: no cover - HiGHS solves these bounded problems
        raise RuntimeError(f"MILP for the unit-demand optimum failed: {res.message}")
    owner = res.x[:nx_].reshape(k, m).argmax(axis=0)
    owner = np.where(res.x[:nx_].reshape(k, m).max(axis=0) > 0.5, owner, -1)
    return _allocation_welfare(values * scale, groups, owner)


def _allocation_welfare(values: np.ndarray, groups: Groups, owner: np.ndarray) -> float:
    """Exact welfare of giving item l to group ``owner[l]`` (-1: to nobody, then handed to
    the group it helps most, which never lowers welfare), every member using its best item.
    Recomputing from the solver's allocation avoids its absolute tolerances."""
    held = groups.labels[:, None] == owner[None, :]  # (n, m)
    best = np.where(held, values, 0.0).max(axis=1)
    for item in np.flatnonzero(owner < 0):  # at most m items, typically none
        gain = np.maximum(values[:, item] - best, 0.0)
        group = int(np.argmax(np.bincount(groups.labels, weights=gain, minlength=groups.n_groups)))
        owner[item] = group
        held = groups.labels[:, None] == owner[None, :]
        best = np.where(held, values, 0.0).max(axis=1)
    return float(best.sum())


def approximation_ratio(optimum: np.ndarray, achieved: np.ndarray) -> np.ndarray:
    """OPT / welfare: 1 when both are 0, ``inf`` when only the welfare is 0."""
    optimum, achieved = np.asarray(optimum, float), np.asarray(achieved, float)
    ratio = np.divide(optimum, achieved, out=np.full(np.broadcast(optimum, achieved).shape, np.inf),
                      where=achieved > 0)
    return np.where((achieved <= 0) & (optimum <= 0), 1.0, ratio)
