"""Bayes–Nash equilibria of single-item auctions with i.i.d. private values: closed-form
oracles, bid-function strategies, best responses, the literature's equilibrium metrics
(bnelearn, SODA) and SODA's learner on the discretized game. Mesa-free and pure numpy."""

from dao_abm.equilibrium.auctions import AUCTIONS
from dao_abm.equilibrium.best_response import Game, best_response
from dao_abm.equilibrium.bid_functions import BidFunctions, Prior
from dao_abm.equilibrium.closed_forms import CLOSED_FORMS, closed_form
from dao_abm.equilibrium.metrics import METRICS, equilibrium_metrics

__all__ = ["AUCTIONS", "CLOSED_FORMS", "METRICS", "BidFunctions", "Game", "Prior",
           "best_response", "closed_form", "equilibrium_metrics"]
