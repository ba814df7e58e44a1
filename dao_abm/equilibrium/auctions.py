"""Single-item auction formats as interim utilities, in the continuous and the discretized game.

A bidder with value v bids b against the others' bids. What it expects depends only on the
distribution of the highest other bid, ``H(b) = P(max_{j≠i} b_j ≤ b)``:

- first price (pay your bid if you win): u = (v − b)·H(b);
- second price (pay max(highest other bid, reserve)): u = (v − b)·H(b) + ∫_r^b H(x) dx
  (integration by parts of E[max(X, r); X ≤ b]);
- all-pay (everyone taking part pays its bid): u = v·H(b) − b.

A bid below the reserve ``r`` takes no part: it wins nothing and pays nothing (u = 0). In the
continuous game ties have probability zero and are ignored; in the discretized game (SODA,
values and bids on grids) they are split evenly: ``discrete_utilities``. First and second
price are the engine's ``first-price`` / ``second-price`` upper mechanisms on groups of one
(``tests/test_equilibrium_metrics.py`` holds them equal); all-pay exists only here.
"""

from __future__ import annotations

import numpy as np

from dao_abm.errors import DaoAbmError

AUCTIONS = ("first-price", "second-price", "all-pay")
#: Tie rules of the discretized game: split evenly (the engine's, averaged over bidder
#: orders) or lose (SODA's ``tie_breaking: lose``: a tie wins nothing).
TIES = ("split", "lose")


def check_auction(auction: str) -> str:
    """``auction`` itself, or DaoAbmError naming the formats."""
    if auction not in AUCTIONS:
        raise DaoAbmError(f"unknown auction {auction!r}; choose one of: {', '.join(AUCTIONS)}")
    return auction


def check_ties(ties: str) -> str:
    """``ties`` itself, or DaoAbmError naming the tie rules."""
    if ties not in TIES:
        raise DaoAbmError(f"unknown ties {ties!r}; choose one of: {', '.join(TIES)}")
    return ties


def interim_utility(auction: str, v: np.ndarray, b: np.ndarray, h: np.ndarray,
                    ih: np.ndarray | None, reserve: float) -> np.ndarray:
    """Expected utility of bidding ``b`` with value ``v`` (all arrays broadcast together).

    Args:
        auction: a name in ``AUCTIONS``.
        v, b: values and bids.
        h: ``H(b)``, the probability that every other bid is at most ``b``.
        ih: ``∫_r^b H(x) dx`` (second price only; None otherwise).
        reserve: the reserve price r.
    """
    if auction == "first-price":
        u = (v - b) * h
    elif auction == "all-pay":
        u = v * h - b
    else:
        u = (v - b) * h + ih
    return np.where(b >= reserve, u, 0.0)


def leave_one_out_product(x: np.ndarray, n: int | None = None) -> np.ndarray:
    """``out[i] = Π_{j≠i} x[j]`` along axis 0, by prefix and suffix products (no division,
    so zeros are exact). With one row and ``n`` given, that row stands for each of ``n``
    bidders playing alike (symmetric play): ``out = x^(n−1)``."""
    if x.shape[0] == 1 and n is not None:
        return x ** (n - 1)
    ones = np.ones_like(x[:1])
    prefix = np.cumprod(np.concatenate([ones, x[:-1]]), axis=0)
    suffix = np.cumprod(np.concatenate([ones, x[:0:-1]]), axis=0)[::-1]
    return prefix * suffix


def discrete_utilities(auction: str, values: np.ndarray, bids: np.ndarray,
                       bid_mass: np.ndarray, reserve: float, n: int | None = None,
                       ties: str = "split") -> np.ndarray:
    """Interim utilities of the discretized game: ``(n, K, M)`` for bidder i with value
    ``values[k]`` bidding ``bids[m]`` against the others' bid distributions.

    Ties are split evenly: with ``L_j`` the mass of bidder j strictly below b and ``e_j`` its
    mass at b, P(win) = E[1{all others ≤ b}/(1 + #ties)] = ∫_0^1 Π_{j≠i} (L_j + t·e_j) dt,
    a polynomial of degree n − 1 in t, integrated exactly by Gauss–Legendre with n nodes.
    With ``ties="lose"`` a tie wins nothing: P(win) = Π_{j≠i} L_j. SODA discretizes this
    way: in the continuous game ties have probability zero, and losing them makes a bid one
    grid step above the others' strictly better, so learning settles (with even splits it
    keeps circling, relative utility loss ~5e-3 at 64 x 64 points after 3,000 steps).

    Args:
        values: ``(K,)`` value grid; bids: ``(M,)`` increasing bid grid.
        bid_mass: ``(n, M)`` each bidder's probability of each bid (rows sum to 1), or
            ``(1, M)`` for symmetric play (then ``n`` is the number of bidders and the
            result is ``(1, K, M)``).
        reserve: bids below it lose and pay nothing.
        n: the number of bidders when ``bid_mass`` has one row for all of them.
        ties: a name in ``TIES``.
    """
    n = bid_mass.shape[0] if n is None else n
    below = np.cumsum(bid_mass, axis=1) - bid_mass  # L_j(m)
    if ties == "lose":
        t, w = np.zeros(1), np.ones(1)
    else:
        nodes, weights = np.polynomial.legendre.leggauss(max(n, 1))
        t, w = (nodes + 1) / 2, weights / 2
    factors = below[:, None, :] + t[None, :, None] * bid_mass[:, None, :]  # (n, Q, M)
    win = np.einsum("q,iqm->im", w, leave_one_out_product(factors, n))
    win = np.where(bids >= reserve, win, 0.0)
    v, b = values[None, :, None], bids[None, None, :]
    if auction == "first-price":
        pay = b * win[:, None, :]
    elif auction == "all-pay":
        pay = np.where(b >= reserve, b, 0.0) + 0.0 * win[:, None, :]
    else:
        pay = _second_price_payment(bids, below, bid_mass, win, reserve, n)[:, None, :]
    return v * win[:, None, :] - pay


def _second_price_payment(bids: np.ndarray, below: np.ndarray, mass: np.ndarray,
                          win: np.ndarray, reserve: float, n: int) -> np.ndarray:
    """``(n, M)`` expected payment in the discretized second-price auction: max(X, r) when
    the highest other bid X is below b, and b (= X) on a won tie."""
    strictly = leave_one_out_product(below, n)  # P(max others < b_m)
    at_most = leave_one_out_product(below + mass, n)  # P(max others <= b_m)
    pmf = at_most - strictly
    paid = np.cumsum(np.maximum(bids, reserve) * pmf, axis=1) - np.maximum(bids, reserve) * pmf
    tie_win = np.clip(win - strictly, 0.0, None)
    return np.where(bids >= reserve, paid + bids * tie_win, 0.0)
