"""The run loop behind ``dao-abm run``: step the sessions, stream what is recorded.

One session (``sessions = 1``) is the Mesa model; more are an ensemble (``ensemble_of``).
Either way the loop advances to the next recorded round (``metrics.every``, and the last
round), appends that round's rows to ``metrics.csv`` / ``by_size.csv`` / ``agents.csv``
(with a ``session`` column) and folds them into the summary, so memory does not grow with
rounds × sessions. The first Ctrl-C (SIGINT) stops the loop after the current step: the
folder is still written, with what was recorded so far, and ``summary.json`` and
``run.json`` say ``"interrupted": true``. A second Ctrl-C aborts at once.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm import tqdm

from dao_abm import plots
from dao_abm.ensemble.fans import HEADLINE, fan_table
from dao_abm.ensemble.stream import RunStream, SessionStats
from dao_abm.equilibrium.runs import run_json
from dao_abm.model.model import DaoAuctionModel
from dao_abm.model.population import Population
from dao_abm.model.session import recorded
from dao_abm.runner import RunResult, run_meta, summarize, write_figures
from dao_abm.scenario import Scenario, write_scenario


def ensemble_of(scenario: Scenario, *, sessions: Sequence[int] | None = None,
                seed: int | None = None, population: Population | None = None):
    """The ensemble that runs ``sessions`` (default: all ``scenario.sessions``) sessions
    (the fastest that fits), on ``population`` if given (see ``SessionEnsemble.build``)."""
    from dao_abm.ensemble.sessions import SessionEnsemble

    return SessionEnsemble.build(scenario, sessions=sessions, seed=seed, population=population)


def stream_run(scenario: Scenario, folder: Path, *, progress: bool = False) -> RunResult:
    """Run ``scenario`` into ``folder`` (an empty, temporary run folder)."""
    start = time.perf_counter()
    write_scenario(scenario, folder / "scenario.toml")
    from dao_abm.ensemble.kernel import kernel_game
    from dao_abm.ensemble.qsessions import QEnsemble
    from dao_abm.ensemble.sessions import SessionEnsemble

    game = kernel_game(scenario)
    single = game is None and scenario.sessions == 1
    if game is not None:  # the compiled Q-learning kernel, for any number of sessions
        ensemble = QEnsemble(game, scenario.rounds, range(scenario.sessions),
                             seed=scenario.seed)
    elif single:
        model = DaoAuctionModel(scenario)
        ensemble = SessionEnsemble([model])
    else:
        ensemble = ensemble_of(scenario)
    stream = RunStream(folder)
    stats = SessionStats(ensemble.summary_columns, ensemble.n_sessions,
                         _tolerance(scenario, ensemble), scenario.metrics.window)
    with _stop_on_sigint() as stop:
        _loop(ensemble, scenario, stream, stats, stop, progress)
    interrupted = stop.requested
    seconds = time.perf_counter() - start
    first = ensemble.sessions[0]
    if single:
        metrics = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        summary = summarize(scenario, metrics, model) if len(metrics) else {}
        result = RunResult(scenario, model, metrics, pd.DataFrame(model.by_size_rows), None,
                           summary, seconds)
    else:
        summary = stats.summary()
        result = RunResult(scenario, first, None, None, None, summary, seconds)
    extra = {"epsilon_kind": first.learner.epsilon_kind} if hasattr(first, "learner") else {}
    summary |= {"rounds_played": ensemble.rounds_done, "interrupted": interrupted} | extra
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    meta = run_meta(scenario, seconds, interrupted=interrupted, **extra,
                    **(run_json(model) if single else {}))
    (folder / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    if scenario.output.figures and stream.written("metrics.csv"):
        if single:
            write_figures(result, folder / "figures")
        else:
            _ensemble_figures(folder, first)
    return result


def _tolerance(scenario: Scenario, ensemble) -> float:
    values = getattr(ensemble.sessions[0], "values", None)
    scale = float(np.mean(np.abs(values))) if values is not None else 1.0
    return scenario.metrics.epsilon_tol * (scale or 1.0)


def _loop(ensemble, scenario: Scenario, stream: RunStream, stats: SessionStats, stop,
          progress: bool) -> None:
    every, rounds, agents = (scenario.metrics.every, scenario.rounds,
                             scenario.metrics.agent_interval)
    bar = tqdm(total=rounds * ensemble.n_sessions, desc=scenario.name, unit="session-round",
               disable=not progress, leave=False, unit_scale=True)
    with bar:
        for chunk, record in _chunks(rounds, every, ensemble.max_chunk):
            ensemble.advance(chunk, record)
            bar.update(chunk * ensemble.n_sessions)
            if record:
                rows = ensemble.metrics()
                stream.append("metrics.csv", rows)
                stats.update(rows)
                stream.append("by_size.csv", ensemble.by_size())
                if agents and ensemble.rounds_done % agents == 0:
                    stream.append("agents.csv", ensemble.agents())
            if stop.requested:
                break


def _chunks(rounds: int, every: int, largest: int) -> Iterator[tuple[int, bool]]:
    """(rounds to play, whether the last is recorded) up to ``rounds``, at most ``largest``
    at a time, ending on every recorded round."""
    done = 0
    while done < rounds:
        target = min((done // every + 1) * every, rounds)
        n = min(target - done, largest)
        done += n
        yield n, recorded(done, every, rounds)


class _Stop:
    requested = False


@contextlib.contextmanager
def _stop_on_sigint():
    """The first SIGINT sets ``requested``; the second raises KeyboardInterrupt."""
    stop = _Stop()

    def handler(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: no handler, Ctrl-C behaves as usual
        yield stop
        return
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _ensemble_figures(folder: Path, first) -> None:
    """Welfare and truthfulness averaged over sessions per recorded round; the headline
    metrics as fans (median and 50%/90% bands across sessions); session 0's bids. For the
    Q-learning kernel: revenue and bids over rounds (mean, 5-95% band of the sessions)."""
    names = pd.read_csv(folder / "metrics.csv", nrows=0).columns
    if "welfare" not in names:
        metrics = pd.read_csv(folder / "metrics.csv", usecols=["session", "round", "revenue",
                                                               "mean_bid_ratio"])
        fig = plots.over_sessions(metrics, ["revenue", "mean_bid_ratio"])
        fig.savefig(folder / "figures" / "revenue.png", dpi=110)
        plt.close(fig)
        return
    columns = ["round", "welfare", "optimal_welfare", "approximation_ratio", "truthful_share",
               "mean_bid_ratio"]
    metrics = pd.read_csv(folder / "metrics.csv", usecols=lambda c: c in {
        "session", *columns, *HEADLINE})
    mean = metrics[columns].replace(np.inf, np.nan).groupby("round", as_index=False).mean()
    figures = {
        "welfare_ratio.png": plots.welfare_over_rounds(mean, label="mean over sessions"),
        "truthfulness.png": plots.truthfulness_over_rounds(mean, label="mean over sessions"),
        "fans.png": plots.fans_over_rounds(fan_table(metrics),
                                           int(metrics["session"].nunique())),
    }
    if hasattr(first, "groups"):
        figures["bids_vs_values.png"] = plots.bids_against_values(
            first.values, first.bids, first.groups.sizes[first.labels])
    for name, fig in figures.items():
        fig.savefig(folder / "figures" / name, dpi=110)
        plt.close(fig)
