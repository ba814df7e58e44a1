"""Bid functions at scale: one learning round of a 17,437-member DAO population under
redrawn values, with bid functions beside shading factors, in the same run.

The population is ConstitutionDAO-sized, in ``engine.py``'s DAO sizes (1..50, summing to
17,437; ``daos.method = "sizes"``), ``dao-vickrey``, one item, values U[0, 1] redrawn every
round. A round is ``Session.play_round`` (draw values, bid, revise, no recording) with
every member revising (``learning.protocol = "simultaneous"``) and expected feedback over
``SAMPLES`` common value profiles, so every round is an epsilon round (every member's gain
measured):

- shading: best response over the 42 shading factors of the default grid;
- function: the pointwise best response on 17 knots and 65 candidate bids (A(b), P(b) of
  82 candidates per member: the grid and its own knot bids), and Hedge's dual averaging
  per knot on the same table.

Best of ``REPEATS`` rounds each, after one warm-up round. And the memory of the shading path
at ``PEAK_SAMPLES`` profiles: one shading round in a fresh interpreter, its peak resident
memory as ``runs.py`` measures its runs (the engine batches go through in chunks of
``payoffs.SAMPLE_CHUNK`` entries; before that one round of 17,437 members x 256 profiles x
42 factors peaked at 7.6 GB and took 49 s).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from engine import dao_sizes

from dao_abm.model.session import Session
from dao_abm.scenario import scenario_from_dict
from runs import child_seconds_and_peak_mb

#: Members (ConstitutionDAO's contributors), value profiles per round, timed rounds.
MEMBERS, SAMPLES, REPEATS = 17_437, 64, 3

#: Figure -> (comparison, threshold) checked by run.py: a function round within 5 shading
#: rounds (82 candidates per member against 42, plus the interpolation).
TARGETS = {"function_br_over_shading": ("<=", 5.0),
           "shading_round_17k_256_peak_mb": ("<=", 1024.0)}
#: Value profiles of the shading round whose peak memory is measured.
PEAK_SAMPLES = 256
#: That round, as a script for a fresh interpreter.
PEAK_CODE = """
import sys
sys.path[:0] = [{here!r}]
import functions
from dao_abm.model.session import Session
from dao_abm.scenario import scenario_from_dict
functions.SAMPLES = {samples}
data = functions.scenario(rule="best-response", strategy="shading")
Session(scenario_from_dict(data)).play_round(record=False)
"""


def scenario(**learning) -> dict:
    sizes = dao_sizes(MEMBERS, np.random.default_rng(2024))
    return {"name": "bench-functions", "seed": 5, "rounds": 1000,
            "population": {"n_members": MEMBERS}, "values": {"redraw": True},
            "graph": {"kind": "none"},
            "daos": {"method": "sizes", "sizes": sizes.tolist()},
            "learning": {"protocol": "simultaneous", "feedback": "expected",
                         "samples": SAMPLES, "initial": "random"} | learning,
            "metrics": {"equilibrium_every": 0}, "output": {"figures": False}}


def round_ms(data: dict) -> float:
    session = Session(scenario_from_dict(data))
    session.play_round(record=False)  # warm up
    best = np.inf
    for _ in range(REPEATS):
        start = time.perf_counter()
        session.play_round(record=False)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def shading_peak_mb() -> float:
    """Peak MB of one shading round at ``PEAK_SAMPLES`` profiles, in its own process."""
    code = PEAK_CODE.format(here=str(Path(__file__).resolve().parent), samples=PEAK_SAMPLES)
    return child_seconds_and_peak_mb([sys.executable, "-c", code])[1]


def measure() -> dict[str, float]:
    shading = round_ms(scenario(rule="best-response", strategy="shading"))
    br = round_ms(scenario(rule="best-response", strategy="function"))
    hedge = round_ms(scenario(rule="hedge", strategy="function"))
    return {
        "shading_round_17k_ms": shading,
        "function_br_round_17k_ms": br,
        "function_hedge_round_17k_ms": hedge,
        "function_br_over_shading": br / shading,
        "function_hedge_over_shading": hedge / shading,
        "shading_round_17k_256_peak_mb": shading_peak_mb(),
    }
