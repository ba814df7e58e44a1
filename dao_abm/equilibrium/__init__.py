"""Bayes–Nash equilibria of single-item auctions with i.i.d. private values: closed-form
oracles, bid-function strategies, best responses, the literature's equilibrium metrics
(bnelearn, SODA) and SODA's learner on the discretized game; members of DAOs learning bid
functions on the engine (``daos``); the metrics of a scenario run of individual bidders
(``runs``, imported on demand: it needs the scenario package). Mesa-free, numpy.

- ``soda.learn(Game, Settings.for_auction(...), rng=...)``: the reproductions of
  ``dao-abm paper bne-first-price / bne-reserve / bne-all-pay``;
- ``daos.learn_daos(DaoMarket(...), rng=...)``: ``dao-abm paper dao-private-values``.
"""

from dao_abm.equilibrium.auctions import AUCTIONS
from dao_abm.equilibrium.best_response import Game, best_response
from dao_abm.equilibrium.bid_functions import BidFunctions, Prior
from dao_abm.equilibrium.closed_forms import CLOSED_FORMS, closed_form
from dao_abm.equilibrium.daos import DaoMarket, learn_daos
from dao_abm.equilibrium.metrics import METRICS, equilibrium_metrics
from dao_abm.equilibrium.soda import Discretized, Settings, learn, soda

__all__ = ["AUCTIONS", "CLOSED_FORMS", "METRICS", "BidFunctions", "DaoMarket", "Discretized",
           "Game", "Prior", "Settings", "best_response", "closed_form", "equilibrium_metrics",
           "learn", "learn_daos", "soda"]
