"""Which best response a member picks when several are equally good.

Tie policies (``TIE_POLICIES``):

- ``"keep"``: keep the current strategy if it is still a best response; otherwise behave as
  ``"truthful"``. Best-response dynamics then stop moving once a Nash equilibrium is reached.
- ``"truthful"``: the best response nearest to truthful bidding (bid = value, shading
  factor alpha = 1); remaining ties go to the lower strategy.
- ``"lowest"``: the lowest best response (the least a member can bid and still do best).
- ``"random"``: uniformly at random among the best candidates (from the ``rng`` passed in).

"Equally good" means within ``TIE_RTOL`` times the member's value scale of the best
utility, so float noise in utilities does not break ties arbitrarily.
"""

from __future__ import annotations

import numpy as np

TIE_POLICIES = ("keep", "truthful", "lowest", "random")
#: Utilities within TIE_RTOL · (member's value scale) of the best count as best.
TIE_RTOL = 1e-9


def check_tie_policy(policy: str) -> str:
    if policy not in TIE_POLICIES:
        raise ValueError(f"unknown tie policy {policy!r}; choose one of: {', '.join(TIE_POLICIES)}")
    return policy


def tolerance(scale: np.ndarray) -> np.ndarray:
    """``(r,)`` absolute tolerance for each row's utilities, from its value scale."""
    return TIE_RTOL * np.maximum(scale, 1e-12)


def choose(
    utils: np.ndarray,
    current: np.ndarray,
    distance: np.ndarray,
    level: np.ndarray,
    here: tuple[np.ndarray, np.ndarray],
    *,
    policy: str,
    tol: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick one option per row under a tie policy.

    Args:
        utils: ``(r, O)`` utility of each option.
        current: ``(r,)`` utility of the current strategy (kept implicitly as an option).
        distance: ``(r, O)`` distance of each option from truthful bidding.
        level: ``(r, O)`` how high each option bids (for "lowest" and secondary ties).
        here: ``(distance (r,), level (r,))`` of the current strategy.
        policy: one of ``TIE_POLICIES``.
        tol: ``(r,)`` utilities within ``tol`` of the best are best.
        rng: used by "random" only.

    Returns:
        ``choice`` ``(r,)``: option index, or -1 to keep the current strategy; and
        ``best`` ``(r,)``: the best utility, current strategy included.
    """
    best = np.maximum(utils.max(axis=1), current)
    good = utils >= (best - tol)[:, None]
    current_good = current >= best - tol
    if policy == "random":
        pick = np.where(good, rng.random(good.shape), -1.0).argmax(axis=1)
        return np.where(good.any(axis=1), pick, -1), best
    if policy == "keep":
        truthful = choose(
            utils, current, distance, level, here, policy="truthful", tol=tol, rng=rng
        )[0]
        return np.where(current_good, -1, truthful), best
    if policy == "lowest":
        pick, stay = _lexicographic(good, (level, distance), (here[1], here[0]))
    else:
        pick, stay = _lexicographic(good, (distance, level), here)
    return np.where(current_good & stay, -1, pick), best


def _lexicographic(
    good: np.ndarray, keys: tuple[np.ndarray, np.ndarray], here: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The good option with the smallest (key 1, key 2), lowest index on full ties; and
    whether the current strategy is at least as small (then it is kept)."""
    first, second = keys
    key1 = np.where(good, first, np.inf)
    min1 = key1.min(axis=1)
    key2 = np.where(good & (first == min1[:, None]), second, np.inf)
    pick = key2.argmin(axis=1)
    min2 = key2[np.arange(pick.size), pick]
    return pick, (here[0] < min1) | ((here[0] == min1) & (here[1] <= min2))
