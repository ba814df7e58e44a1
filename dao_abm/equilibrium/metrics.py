"""Equilibrium metrics with the literature's names (bnelearn, Bichler et al. 2021; SODA).

For a profile of bid functions in a ``Game``, per bidder ``(n,)``:

- ``l2_to_bne`` = sqrt(E_v[(β_i(v) − β*(v))²]) and ``linf_to_bne`` = max_v |β_i(v) − β*(v)|
  over the fixed value sample, where a closed-form equilibrium β* is known (else None). A
  value below the reserve counts as no error when its bid is below the reserve too (every
  such bid takes no part).
- ``utility_loss`` (ex ante): E_v[max_b u_i(v, b; β_{−i}) − u_i(v, β_i(v); β_{−i})], the gain
  of a best response over the value distribution, estimated on the fixed sample.
- ``relative_utility_loss`` = utility_loss / E_v[max_b u_i(v, b; β_{−i})] (bnelearn's
  ``epsilon_relative`` with the best response in place of β*; 0 at an equilibrium).
- ``epsilon_interim`` = max over the value knots of the interim gain of a best response.

The best response is a bid search (``best_response.Game``), so the gains are lower bounds up
to its resolution.
"""

from __future__ import annotations

import numpy as np

from dao_abm.equilibrium.best_response import Game, best_response, own_utilities
from dao_abm.equilibrium.bid_functions import BidFunctions

METRICS = ("l2_to_bne", "linf_to_bne", "utility_loss", "relative_utility_loss",
           "epsilon_interim")


def _bne_error(profile: BidFunctions, game: Game) -> np.ndarray | None:
    form = game.equilibrium
    if form is None:
        return None
    v = game.sample
    own, target = profile(v), form.bid(v, game.n, game.reserve)
    both_out = (v < game.reserve) & (own < game.reserve)
    return np.where(both_out, 0.0, own - target)


def l2_to_bne(profile: BidFunctions, game: Game) -> np.ndarray | None:
    """``(n,)`` root mean squared distance to the closed-form equilibrium, or None."""
    err = _bne_error(profile, game)
    return None if err is None else np.sqrt((err**2).mean(axis=1))


def linf_to_bne(profile: BidFunctions, game: Game) -> np.ndarray | None:
    """``(n,)`` largest distance to the closed-form equilibrium on the sample, or None."""
    err = _bne_error(profile, game)
    return None if err is None else np.abs(err).max(axis=1)


def _gains(profile: BidFunctions, game: Game, values: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(n, V)`` best-response utilities and the gains over the bidder's own bid."""
    _, best = best_response(profile, game, values)
    own = own_utilities(profile, game, values)
    return best, np.maximum(best - own, 0.0)


def utility_loss(profile: BidFunctions, game: Game) -> np.ndarray:
    """``(n,)`` ex-ante utility loss against a best response (on the fixed sample)."""
    return _gains(profile, game, game.sample)[1].mean(axis=1)


def relative_utility_loss(profile: BidFunctions, game: Game) -> np.ndarray:
    """``(n,)`` utility_loss / best-response utility."""
    best, gain = _gains(profile, game, game.sample)
    return gain.mean(axis=1) / best.mean(axis=1)


def epsilon_interim(profile: BidFunctions, game: Game) -> np.ndarray:
    """``(n,)`` the largest interim gain of a best response over the value knots."""
    return _gains(profile, game, profile.knots)[1].max(axis=1)


def equilibrium_metrics(profile: BidFunctions, game: Game) -> dict[str, float]:
    """All metrics, averaged over bidders (one best-response pass per value set); the
    distances are NaN where no closed form is known."""
    best, gain = _gains(profile, game, game.sample)
    _, knot_gain = _gains(profile, game, profile.knots)
    l2, linf = l2_to_bne(profile, game), linf_to_bne(profile, game)
    return {
        "l2_to_bne": float(np.mean(l2)) if l2 is not None else float("nan"),
        "linf_to_bne": float(np.mean(linf)) if linf is not None else float("nan"),
        "utility_loss": float(gain.mean()),
        "relative_utility_loss": float((gain.mean(axis=1) / best.mean(axis=1)).mean()),
        "epsilon_interim": float(knot_gain.max()),
    }
