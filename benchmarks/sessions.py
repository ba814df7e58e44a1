"""Sessions: Q-learning at the literature's scale and best-response ensembles.

- ``uniform_draws_per_s``: numpy's Generator drawing float64 uniforms (``random(out=)``,
  10⁷ at a time, best of 5): the reference for the Q-learning rate.
- ``qlearning_agent_periods_per_s``: Banchio & Skrzypacz's setting (2 bidders, 19 bids,
  first price), 1,000 sessions over their whole horizon of 10⁶ periods, compiled kernel
  (``dao_abm/ensemble/q_compiled.py``, sessions on all cores), JIT compile and the up-front
  draws excluded; ``qlearning_early_agent_periods_per_s``: the first 10⁵ periods alone (the
  busiest: exploration and greedy switches are densest early). ``qlearning_over_uniform``
  is the whole-horizon rate over ``uniform_draws_per_s`` (target >= 0.5).
- ``banchio_skrzypacz_s`` / ``banchio_skrzypacz_peak_mb``: ``dao-abm paper
  banchio-skrzypacz`` end to end (both price rules, 1,000 sessions × 10⁶ periods each, figure
  and table written) in a child process: wall time and peak resident memory (<= 2 GB).
- ``ensemble_br_member_rounds_per_s``: ``models/default.toml`` (600 bidders) × 256 sessions
  × 1,000 rounds of best response, metrics every 10 rounds (``SessionEnsemble``, as
  ``dao-abm run`` steps it; setup excluded); ``single_br_1m_member_rounds_per_s``: the Mesa
  model of ``models/million_members.toml`` (1,000,000 members), 3 rounds after one warm-up
  round; ``ensemble_br_over_single_1m`` is the ratio (target >= 0.3).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

import numpy as np

from dao_abm.ensemble import q_compiled
from dao_abm.ensemble.qgame import start
from dao_abm.ensemble.sessions import SessionEnsemble
from dao_abm.model.model import DaoAuctionModel
from dao_abm.paper import banchio_skrzypacz as bs
from dao_abm.scenario import load_scenario
from runs import HELPER, ROOT, dao_abm_command

TARGETS = {
    "qlearning_over_uniform": (">=", 0.5),
    "banchio_skrzypacz_peak_mb": ("<=", 2048.0),
    "ensemble_br_over_single_1m": (">=", 0.3),
}


def uniform_rate() -> float:
    rng, out = np.random.default_rng(0), np.empty(10_000_000)
    best = np.inf
    for _ in range(5):
        start_ = time.perf_counter()
        rng.random(out=out)
        best = min(best, time.perf_counter() - start_)
    return out.size / best


def qlearning_rates(sessions: int = 1000, periods: int = 1_000_000,
                    early: int = 100_000) -> tuple[float, float]:
    """Agent-periods per second over the whole horizon and over its first ``early``."""
    game = bs.game("first")
    q_compiled.advance(game, start(game, 10, [0], seed=0), 10)  # compile
    state = start(game, periods, range(sessions), seed=0)
    begin = time.perf_counter()
    q_compiled.advance(game, state, early)
    first = time.perf_counter() - begin
    q_compiled.advance(game, state, periods - early)
    whole = time.perf_counter() - begin
    per = sessions * game.n_bidders
    return per * periods / whole, per * early / first


def banchio_skrzypacz() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        command = [*dao_abm_command(), "paper", "banchio-skrzypacz", "--out", tmp]
        done = subprocess.run([sys.executable, "-c", HELPER, *command], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        raise RuntimeError(f"dao-abm paper banchio-skrzypacz failed:\n{report['stderr']}")
    return report["seconds"], report["peak_kib"] / 1024


def ensemble_rate(sessions: int = 256, rounds: int = 1000) -> float:
    spec = load_scenario(ROOT / "models" / "default.toml",
                         [f"sessions={sessions}", f"rounds={rounds}", "metrics.every=10"])
    ensemble = SessionEnsemble.build(spec)
    start_ = time.perf_counter()
    for _ in range(rounds // 10):
        ensemble.advance(10, True)
        ensemble.metrics()
    seconds = time.perf_counter() - start_
    return sessions * rounds * ensemble.sessions[0].n_bidders / seconds


def single_rate(rounds: int = 3) -> float:
    model = DaoAuctionModel(load_scenario(ROOT / "models" / "million_members.toml"))
    model.step()  # warm-up (JIT, caches)
    start_ = time.perf_counter()
    for _ in range(rounds):
        model.step()
    return rounds * model.n_bidders / (time.perf_counter() - start_)


def measure() -> dict[str, float]:
    out = {"uniform_draws_per_s": uniform_rate()}
    out["qlearning_agent_periods_per_s"], out["qlearning_early_agent_periods_per_s"] = (
        qlearning_rates())
    out["qlearning_over_uniform"] = out["qlearning_agent_periods_per_s"] / out[
        "uniform_draws_per_s"]
    out["banchio_skrzypacz_s"], out["banchio_skrzypacz_peak_mb"] = banchio_skrzypacz()
    out["single_br_1m_member_rounds_per_s"] = single_rate()
    out["ensemble_br_member_rounds_per_s"] = ensemble_rate()
    out["ensemble_br_over_single_1m"] = out["ensemble_br_member_rounds_per_s"] / out[
        "single_br_1m_member_rounds_per_s"]
    return out
