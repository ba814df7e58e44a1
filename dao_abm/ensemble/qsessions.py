"""Sessions of Q-learning bidders (``qgame.py``) stepped in chunks and recorded.

``QEnsemble`` has the run loop's interface (``advance``, ``metrics``): the compiled kernel
plays the periods between two records in one call, and a record is one row per session:
the mean revenue per period since the last record, the greedy bids and their price
(averaged over tie-breaks), the stage-game gain of
the greedy profile (``max_gain``: 0 at a stage Nash equilibrium), greedy changes since the
last record and whether the session has converged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dao_abm.ensemble import q_compiled
from dao_abm.ensemble.q_reference import expected_outcome
from dao_abm.ensemble.qgame import QGame, converged, stage_gain, start


class QEnsemble:
    """Sessions ``sessions`` of ``game`` over ``periods`` periods.

    Args:
        game: the auction and the learners.
        periods: the horizon (exploration events are drawn for it).
        sessions: session indices (each draws from ``session_rng(seed, s)``).
        seed: the scenario seed.
        kernel: a module with ``advance(game, state, periods)`` (``q_compiled`` or
            ``q_reference``).
    """

    #: Periods the run loop may ask for at once (it checks for Ctrl-C in between).
    max_chunk = 20_000

    def __init__(self, game: QGame, periods: int, sessions: Sequence[int], *, seed: int,
                 kernel=q_compiled) -> None:
        self.game, self.periods, self.kernel = game, periods, kernel
        self.ids = np.asarray(list(sessions), dtype=np.int64)
        self.state = start(game, periods, self.ids, seed=seed)
        self.since_record = 0

    #: Columns ``summary.json`` summarizes across sessions.
    summary_columns = ("revenue", "greedy_price", "mean_bid_ratio", "max_gain", "changed")

    @property
    def n_sessions(self) -> int:
        return int(self.ids.size)

    @property
    def sessions(self) -> list[QGame]:
        """What the run layer reads of session 0 (the game: values, for tolerances)."""
        return [self.game]

    def by_size(self) -> pd.DataFrame:
        return pd.DataFrame()

    def agents(self) -> pd.DataFrame:
        """Every bidder's greedy bid and the Q-value of it, per session, at this period."""
        state = self.state
        s, n = state.greedy.shape
        q = np.take_along_axis(state.q, state.greedy[..., None], axis=-1)[..., 0]
        return pd.DataFrame({"session": np.repeat(self.ids, n), "round": state.t,
                             "agent": np.tile(np.arange(n), s),
                             "dao": np.tile(self.game.groups, s),
                             "bid": self.game.grid[state.greedy].reshape(-1),
                             "q_greedy": q.reshape(-1)})

    @property
    def rounds_done(self) -> int:
        return self.state.t

    def advance(self, rounds: int, record: bool = False) -> None:
        """Play ``rounds`` periods of every session (``record`` is the loop's; the state
        always holds what ``metrics`` reports)."""
        if self.state.t + rounds > self.periods:
            raise ValueError(f"only {self.periods} periods were drawn for")
        self.kernel.advance(self.game, self.state, rounds)
        self.since_record += rounds

    def greedy_bids(self) -> np.ndarray:
        """``(S, n)`` the bids of the greedy actions."""
        return self.game.grid[self.state.greedy]

    def metrics(self, full: bool = True) -> pd.DataFrame:
        """One row per session for the periods since the last call; ``full`` adds the
        greedy profile's price and stage-game gain (``max_gain``), which cost a stage game
        per bidder and bid."""
        state, periods = self.state, max(self.since_record, 1)
        bids = self.greedy_bids()
        columns = {"session": self.ids, "round": np.full(self.ids.size, state.t),
                   "revenue": state.revenue / periods}
        columns |= {f"bid_{i}": bids[:, i] for i in range(self.game.n_bidders)}
        columns["mean_bid_ratio"] = (bids / self.game.values).mean(axis=1)
        columns["changed"] = state.changes.copy()
        columns["converged"] = converged(state, self.game.window)
        if full:
            columns["greedy_price"] = expected_outcome(self.game, bids)[0]
            columns["max_gain"] = stage_gain(self.game, state.greedy)
        state.revenue[:] = 0.0
        state.changes[:] = 0
        self.since_record = 0
        return pd.DataFrame(columns)
