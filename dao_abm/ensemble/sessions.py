"""Many sessions of one scenario, stepped round by round (no Mesa agents).

Every session is a ``Session`` (the loop the Mesa model runs) built on the one shared
instance (graph, DAOs, fixed values) with its own value and learning streams
(``session_streams``). ``SessionEnsemble`` steps them together and hands the recorded
rounds to the run layer as tidy frames with a ``session`` column.

Batched rounds. Where the scenario allows it (``batched``: the exact best response with
tie policy "keep" or "truthful", one item, fixed values, no re-formation: every session
bids against the same DAOs and values), a round revises all sessions in one call of the
compiled kernel with a leading session axis (``exact_numba.nearest_to_truthful_sessions``),
and a recorded round computes every session's own-bid deviations in one call
(``metrics.own_bid_deviations`` on the stacked profiles). Each session still draws who
revises from its own learning stream, in the order ``Session.play_round`` draws it, and the
numbers are the per-session loop's bit for bit (``tests/test_sessions.py``); elsewhere the
sessions are stepped one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dao_abm.learning.revision import Revision
from dao_abm.learning.rules.best_response import BestResponse
from dao_abm.model import metrics as m
from dao_abm.model.population import Population, build_population
from dao_abm.model.session import AGENT_COLUMNS, COLUMNS, Session, instance_rng
from dao_abm.scenario import Scenario


class SessionEnsemble:
    """Sessions ``first, first + 1, ...`` of a scenario (``sessions`` of them).

    Args:
        sessions: the sessions to step; build them with ``SessionEnsemble.build``.
    """

    def __init__(self, sessions: Sequence[Session]) -> None:
        self.sessions = list(sessions)
        self.scenario = self.sessions[0].scenario
        self.rounds_done = 0
        self.batched = batched(self.sessions)

    @classmethod
    def build(cls, scenario: Scenario, *, sessions: Sequence[int] | None = None,
              seed: int | None = None, population: Population | None = None
              ) -> SessionEnsemble:
        """Sessions ``sessions`` (default ``range(scenario.sessions)``) on one instance:
        ``population`` if given (the instance of another session of this scenario and
        seed, e.g. the live page's model), else drawn from ``instance_rng(seed)``."""
        seed = scenario.seed if seed is None else seed
        ids = range(scenario.sessions) if sessions is None else sessions
        if population is None:
            population = build_population(scenario, instance_rng(seed))
        return cls([Session(scenario, seed, session=s, population=population) for s in ids])

    @property
    def n_sessions(self) -> int:
        return len(self.sessions)

    @property
    def columns(self) -> list[str]:
        return ["session", *COLUMNS]

    #: Columns ``summary.json`` summarizes across sessions.
    summary_columns = ("welfare", "optimal_welfare", "approximation_ratio", "revenue",
                       "truthful_share", "mean_bid_ratio", "max_gain", "mean_gain", "n_daos")

    #: Rounds the run loop may ask for at once (it checks for Ctrl-C in between).
    max_chunk = 1

    def advance(self, rounds: int, record: bool) -> None:
        """Play ``rounds`` rounds of every session; record the last one iff ``record``."""
        for i in range(rounds):
            last = record and i == rounds - 1
            if self.batched:
                self._play_batched(last)
            else:
                for session in self.sessions:
                    session.play_round(last)
            self.rounds_done += 1

    def _play_batched(self, record: bool) -> None:
        """``Session.play_round(record)`` of every session, the revisions (and a recorded
        round's own-bid deviations) in one call each. No session re-forms (``batched``)."""
        outcomes = []
        for session in self.sessions:
            session.rounds_done += 1
            session.values = session._draw_values()
            session.bids = session.learner.bids(session.strategies, session.values)
            if record:
                outcomes.append(session.mechanism.run(session.bids, session.groups,
                                                      session.valuation, validate=False))
                session._settle(outcomes[-1])
        masks = np.stack([s.learner.revising(s.rounds_done - 1, s.learning_rng)
                          for s in self.sessions])
        revisions = _revise_all(self.sessions, masks)
        for session, revision in zip(self.sessions, revisions, strict=True):
            session.strategies = revision.strategies
        if not record:
            return
        first = self.sessions[0]
        dev = [None] * self.n_sessions
        if first.learner.epsilon_round:  # round_metrics asks for them
            dev = m.own_bid_deviations(first.learner.market,
                                       np.stack([s.values for s in self.sessions]),
                                       np.stack([s.bids for s in self.sessions]))
        for session, outcome, revision, d in zip(self.sessions, outcomes, revisions, dev,
                                                 strict=True):
            session._record(outcome, revision, d)

    def metrics(self) -> pd.DataFrame:
        """The last recorded round: one row per session."""
        rows = [{"session": s.session} | s.last for s in self.sessions]
        return pd.DataFrame(rows, columns=self.columns)

    def by_size(self) -> pd.DataFrame:
        """The last recorded round's DAO-size buckets, per session."""
        rows = [{"session": s.session} | r for s in self.sessions for r in s.last_by_size]
        return pd.DataFrame(rows)

    def agents(self) -> pd.DataFrame:
        """Every bidder of every session at the last recorded round."""
        frames = []
        for s in self.sessions:
            table = s.agent_table()
            n = table["dao"].size
            frames.append(pd.DataFrame({"session": s.session, "round": s.rounds_done,
                                        "agent": np.arange(n)} |
                                       {c: table[c] for c in AGENT_COLUMNS}))
        return pd.concat(frames, ignore_index=True)


def batched(sessions: Sequence[Session]) -> bool:
    """Whether ``SessionEnsemble`` can revise ``sessions`` in one call: the exact best
    response ("keep" or "truthful") to fixed values on one item, compiled kernel present,
    no re-formation, the same DAOs and values in every session."""
    from dao_abm.learning import exact_numba

    first = sessions[0]
    learner, scenario = first.learner, first.scenario
    rule = learner.rule
    return (exact_numba.available() and type(rule) is BestResponse and rule.grid is None
            and rule.tie_policy in ("keep", "truthful") and not learner.redraw
            and not learner.function and not scenario.daos.reform
            and learner.market.exact(1) and learner.market.valuation == "single"
            and np.ndim(first.strategies) == 1
            and all(np.array_equal(s.labels, first.labels)
                    and np.array_equal(s.values, first.values) for s in sessions))


def _revise_all(sessions: Sequence[Session], masks: np.ndarray) -> list[Revision]:
    """Every session's ``Session.revise(mask)`` under ``batched`` (the exact "keep" /
    "truthful" path of ``learning.exact``: the compiled kernel, then the cap), at once."""
    from dao_abm.learning import exact_numba

    first = sessions[0]
    rule = first.learner.rule
    for session in sessions:  # as Learner.revise sets it
        learner = session.learner
        learner.epsilon_round = (session.rounds_done - 1) % learner.epsilon_every == 0
    old = np.stack([s.strategies for s in sessions]).astype(np.float64)
    values = np.asarray(first.values, dtype=np.float64)
    new, gain, changed = exact_numba.nearest_to_truthful_sessions(
        old, values, masks, first.groups, keep=rule.tie_policy == "keep")
    if rule.cap is not None:  # exact._within_cap, every session at once
        over = changed & (new > rule.cap * values)
        fallback = old if rule.tie_policy == "keep" else np.broadcast_to(values, old.shape)
        new = np.where(over, fallback, new)
        changed = np.where(over, new != old, changed)
    return [Revision(new[i], gain[i], changed[i]) for i in range(len(sessions))]
