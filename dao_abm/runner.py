"""Run a scenario end to end and write its run folder (the I/O edge of the model).

A run folder is written under a temporary name and renamed when complete, so a folder
that exists is whole; an existing folder is never overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import mesa
import numpy as np
import pandas as pd
from tqdm import tqdm

from dao_abm import __version__, plots
from dao_abm.equilibrium.runs import profile_metrics, run_game, run_json
from dao_abm.errors import DaoAbmError
from dao_abm.folders import unique_folder, write_atomically
from dao_abm.model.metrics import converged_round, converged_stretch, ratio
from dao_abm.model.model import DaoAuctionModel
from dao_abm.scenario import Scenario, write_scenario

SUMMARY_COLUMNS = ("welfare", "optimal_welfare", "approximation_ratio", "revenue",
                   "truthful_share", "mean_bid_ratio", "max_gain", "mean_gain", "n_daos")
#: Last measured value only (NaN on rounds without epsilon, or with no pivotal member).
LAST_COLUMNS = ("max_bid_ratio", "pivotal_truthful_share")


@dataclass(frozen=True, eq=False)
class RunResult:
    """A finished run: the model at its last round and its data."""

    scenario: Scenario
    model: DaoAuctionModel
    metrics: pd.DataFrame
    by_size: pd.DataFrame
    agents: pd.DataFrame | None
    summary: dict
    seconds: float


def run_model(scenario: Scenario, *, progress: bool = False) -> RunResult:
    """Build the model from ``scenario`` and step it ``scenario.rounds`` times."""
    start = time.perf_counter()
    model = DaoAuctionModel(scenario)
    for _ in tqdm(range(scenario.rounds), desc=scenario.name, unit="round",
                  disable=not progress, leave=False):
        model.step()
    metrics = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    agents = None
    if scenario.metrics.agent_interval:
        agents = model.agent_collector.get_agent_vars_dataframe().reset_index()
        agents = agents.rename(columns={"Step": "round", "AgentID": "agent"})
    seconds = time.perf_counter() - start
    summary = summarize(scenario, metrics, model)
    return RunResult(scenario, model, metrics, pd.DataFrame(model.by_size_rows), agents,
                     summary, seconds)


def summarize(scenario: Scenario, metrics: pd.DataFrame, model: DaoAuctionModel) -> dict:
    """``converged_round`` (None if never), final and time-averaged values of the columns,
    and ``epsilon_kind``: ``converged_round`` is, for a rule with its own convergence
    criterion (q-learning, ``converge_rounds``: a ``converged`` column), the first recorded
    round of the converged stretch the run ends in (None if its last record has not
    converged), else the first round of ``metrics.window`` settled recorded rounds
    (``metrics.converged_round``).

    ``epsilon_kind`` says whether max_gain / mean_gain are exact or a lower bound, and how
    they were searched (``learning.epsilon.epsilon_kind``). Runs of 2-16 individual bidders
    with i.i.d. uniform values redrawn every round add ``equilibrium``: the literature's
    metrics of the final shading profile (``equilibrium.runs``; estimator in run.json).

    OPT/welfare is infinite in a round with zero welfare (and OPT > 0), which JSON cannot
    hold (the last-round ``approximation_ratio`` is then null). Such rounds are counted in
    ``zero_welfare_rounds`` and never dropped: ``mean_approximation_ratio`` is the mean over
    rounds when every round has welfare, else the ratio of sums ΣOPT/ΣW over the rounds
    (``mean_approximation_ratio_kind`` says which); ``cumulative_ratio`` is always ΣOPT/ΣW.
    """
    value_scale = float(np.mean(np.abs(model.values))) or 1.0
    tol = scenario.metrics.epsilon_tol * value_scale
    own = metrics["converged"] if "converged" in metrics else None
    if own is not None and len(own) and own.notna().all():  # the rule's own criterion
        rows = converged_stretch(own)
    else:
        rows = converged_round(metrics["changed"], metrics["max_gain"], tol,
                               scenario.metrics.window)
    last_change = _last_change(metrics["changed"])
    summary: dict = {  # rows of metrics are recorded rounds (metrics.every)
        "converged_round": None if rows is None else int(metrics["round"].iloc[rows - 1]),
        "last_change_round": (None if last_change is None
                              else int(metrics["round"].iloc[last_change - 1])),
        "rounds": int(metrics["round"].iloc[-1]),
        "n_bidders": model.n_bidders,
        "epsilon_kind": model.learner.epsilon_kind,
    }
    for col in SUMMARY_COLUMNS:
        measured = metrics[col].dropna()  # epsilon is measured every metrics.epsilon_every
        summary[col] = _json_number(measured.iloc[-1]) if len(measured) else None
        summary[f"mean_{col}"] = _json_number(metrics[col].mean())
    for col in LAST_COLUMNS:
        measured = metrics[col].dropna() if col in metrics else ()
        summary[col] = _json_number(measured.iloc[-1]) if len(measured) else None
    summary |= ratio_summary(metrics["optimal_welfare"], metrics["welfare"])
    game = run_game(model)
    if game is not None:  # individual bidders: the literature's metrics of the final profile
        summary["equilibrium"] = profile_metrics(game, model)
    return summary


def ratio_summary(optimum: pd.Series, welfare: pd.Series) -> dict:
    """``zero_welfare_rounds``, ``mean_approximation_ratio`` (mean of the per-round ratios,
    or ΣOPT/ΣW where some round's ratio is infinite), its kind, and ``cumulative_ratio``."""
    ratios = np.array([ratio(o, w) for o, w in zip(optimum, welfare, strict=True)])
    zero = int(np.isinf(ratios).sum())
    of_sums = ratio(float(optimum.sum()), float(welfare.sum()))
    return {
        "zero_welfare_rounds": zero,
        "mean_approximation_ratio": _json_number(of_sums if zero else ratios.mean()),
        "mean_approximation_ratio_kind": "ratio of sums" if zero else "mean of ratios",
        "cumulative_ratio": _json_number(of_sums),
    }


def _last_change(changed: pd.Series) -> int | None:
    """The last round in which some strategy changed (None if none ever did)."""
    rounds = np.flatnonzero(changed.to_numpy() > 0)
    return int(rounds[-1]) + 1 if rounds.size else None


def _json_number(x: float) -> float | int | None:
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return None
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def new_run_folder(root: Path, scenario: Scenario) -> Path:
    """``root/<scenario>/<time>-seed<S>/``, with a suffix if that name is taken."""
    folder = unique_folder(root / scenario.name, "")
    return folder.with_name(f"{folder.name}-seed{scenario.seed}")


def write_run(result: RunResult, folder: Path) -> Path:
    """Write everything into ``folder`` atomically (temp folder, then rename)."""
    return write_atomically(folder, lambda tmp: _write_contents(result, tmp))


def run_meta(scenario: Scenario, seconds: float, **extra: object) -> dict:
    """``run.json``: versions, seed, rounds, wall time."""
    return {
        "dao_abm_version": __version__, "seed": scenario.seed,
        "rounds": scenario.rounds, "sessions": scenario.sessions, "seconds": round(seconds, 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "numpy": np.__version__,
        "mesa": mesa.__version__, "pandas": pd.__version__,
    } | extra


def _write_contents(result: RunResult, tmp: Path) -> None:
    write_scenario(result.scenario, tmp / "scenario.toml")
    meta = run_meta(result.scenario, result.seconds,
                    epsilon_kind=result.model.learner.epsilon_kind, **run_json(result.model))
    (tmp / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    result.metrics.to_csv(tmp / "metrics.csv", index=False)
    result.by_size.to_csv(tmp / "by_size.csv", index=False)
    if result.agents is not None:
        result.agents.to_csv(tmp / "agents.csv", index=False)
    (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
    if result.scenario.output.figures:
        write_figures(result, tmp / "figures")


def write_figures(result: RunResult, folder: Path) -> None:
    model = result.model
    figures = {
        "welfare_ratio.png": plots.welfare_over_rounds(result.metrics),
        "truthfulness.png": plots.truthfulness_over_rounds(result.metrics),
        "bids_vs_values.png": plots.bids_against_values(
            model.values, model.bids, model.groups.sizes[model.labels]),
    }
    graph, limit = model.graph, result.scenario.output.graph_figure_max_nodes
    if graph is not None and graph.number_of_nodes() <= limit:
        figures["affinity_graph.png"] = plots.affinity_graph(graph, model.labels, model.values,
                                                             seed=result.scenario.seed)
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)


def run_scenario(scenario: Scenario, *, out: Path | None = None, root: Path = Path("runs"),
                 progress: bool = False) -> tuple[RunResult, Path]:
    """Run and write; ``out`` is the exact folder (must not exist), else a new one in root.

    Metrics stream into the folder as rounds are recorded (``dao_abm.ensemble.stream``);
    ``sessions > 1`` runs an ensemble (``dao_abm.ensemble``). Ctrl-C stops after the
    current round and still writes a valid, shorter folder, marked ``interrupted``.
    """
    folder = out if out is not None else new_run_folder(root, scenario)
    if folder.exists():
        raise DaoAbmError(f"--out {folder}: already exists; runs never overwrite a folder")
    from dao_abm.ensemble.run import stream_run  # it builds on this module

    done: list[RunResult] = []
    folder = write_atomically(folder, lambda tmp: done.append(
        stream_run(scenario, tmp, progress=progress)))
    return done[0], folder


def with_run_options(scenario: Scenario, *, seed: int | None = None,
                     rounds: int | None = None) -> Scenario:
    """The scenario with the command line's --seed / --rounds applied."""
    changes = {}
    if seed is not None:
        changes["seed"] = seed
    if rounds is not None:
        changes["rounds"] = rounds
    return dataclasses.replace(scenario, **changes)
