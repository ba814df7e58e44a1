"""ConstitutionDAO: the crowdfund the DAO ran against the paper's Mechanism 1.

The population of ``models/constitution_dao.toml`` (17,437 contributors with lognormal
pledges, median ≈ $206, ≈ $47M in all, against one bidder valuing the item at $43.2M) bids
once truthfully under ``crowdfund`` (pledges summed, pay your bid, shares pro rata) and under
``dao-vickrey``; then members learn over rounds (``run_model``) under both.

The result is one tidy table with columns ``part, mechanism, x, metric, value``:

- ``part = "auction"`` (x empty): the one truthful auction: ``winner`` (1 = the DAO,
  2 = the individual), ``price``, ``welfare``, ``optimum``, ``ratio`` (OPT/welfare),
  ``n_access`` (bidders with access), ``n_members`` (contributors), ``dao_value``
  (Σ pledges), ``dao_wtp`` (WTP = max_i i·v_(i), Section 3.1) and ``rival_value``.
- ``part = "members"``: contributors sorted by pledge, ascending, sampled at member shares
  x: ``pledge``, ``payment`` and ``paid_share`` (the Lorenz curve: share of the total paid by
  the members up to x). Mechanisms: ``crowdfund`` (the DAO wins and everyone pays their
  pledge) and ``dao-vickrey@wtp``: under Mechanism 1 the DAO loses (WTP < $43.2M) and nobody
  pays, so we show what its equal-split rule would charge at the most it can raise, price
  = WTP: the t* top contributors pay v_(t*) each, everyone else is excluded.
- ``part = "learning"`` (x = round): ``truthful_share``, ``mean_bid_ratio``, ``winner``,
  ``price``, ``approximation_ratio``, ``n_access`` of the learning run (the scenario's
  settings: inertia, 5% revising a round, tie policy keep).
- ``part = "protocols"`` (x = round, ``setting`` = a revision protocol of ``PROTOCOLS``):
  the crowdfund's learning under each: ``pledges`` (the DAO's Σ pledges), ``rival_bid`` and
  ``winner``. Each contributor sees the same slack above the rival's bid and treats it as
  its own, so what happens depends on how many revise at once: simultaneous and 5% lose the
  item within a few rounds, 0.2% later and narrowly, sequential never (a lone reviser never
  gives up a win it values). The crowdfund's equilibria include ones where the DAO wins:
  pledges at most values summing to at least the rival's bid, with no slack.

``setting`` is empty outside ``part = "protocols"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dao_abm.mechanisms import (
    COST_SHARING,
    Groups,
    approximation_ratio,
    optimal_welfare,
    preset,
    welfare,
)
from dao_abm.mechanisms.lot_bids import LotBids
from dao_abm.model.model import DaoAuctionModel
from dao_abm.paper.common import MODELS, seed_overrides
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

SCENARIO = MODELS / "constitution_dao.toml"
MECHANISMS = ("crowdfund", "dao-vickrey")
LEARN_ROUNDS, QUICK_ROUNDS = 200, 8
LEARNING_METRICS = ("truthful_share", "mean_bid_ratio", "winner", "price",
                    "approximation_ratio", "n_access")
COLUMNS = ["part", "mechanism", "setting", "x", "metric", "value"]
#: Revision settings of the crowdfund's learning (``part = "protocols"``): label -> overrides.
PROTOCOLS = {
    "simultaneous": ["learning.protocol='simultaneous'"],
    "inertia 5%": ["learning.protocol='inertia'", "learning.fraction=0.05"],
    "inertia 0.2%": ["learning.protocol='inertia'", "learning.fraction=0.002"],
    "sequential": ["learning.protocol='sequential'"],
}


def one_auction(mechanism: str, values: np.ndarray, groups: Groups) -> tuple[dict, np.ndarray]:
    """Key numbers of one truthful auction and every bidder's payment ``(n,)``."""
    outcome = preset(mechanism).run(values, groups)
    optimum, achieved = optimal_welfare(values, groups, "single"), welfare(values, outcome)
    numbers = {
        "winner": int(outcome.winner[0]) + 1, "price": float(outcome.price[0]),
        "welfare": float(achieved), "optimum": float(optimum),
        "ratio": float(approximation_ratio(optimum, achieved)),
        "n_access": int(outcome.access.sum()),
    }
    return numbers, outcome.member_payments


def equal_split_at(values: np.ndarray, groups: Groups, group: int, price: float) -> np.ndarray:
    """``(n,)`` payments of Mechanism 1's lower rule (max-equal-split) if ``group`` won at
    ``price``."""
    lot = LotBids(values[None, :], groups)
    _, payments = COST_SHARING["max-equal-split"](lot, np.array([group]), np.array([price]))
    return payments[0]


def member_shares(n: int, points: int = 400) -> np.ndarray:
    """Member shares in [0, 1], dense near 1 where the large pledges are."""
    tail = 1.0 - np.logspace(np.log10(1.0 / n), 0.0, points)
    return np.unique(np.concatenate(([0.0, 1.0], tail, np.linspace(0, 1, 101))))


def member_rows(mechanism: str, pledges: np.ndarray, payments: np.ndarray) -> pd.DataFrame:
    """Pledges, payments and the Lorenz curve of payments, sampled at member shares."""
    order = np.argsort(pledges, kind="stable")
    pledge, pay = pledges[order], payments[order]
    paid = np.cumsum(pay) / pay.sum()
    x = member_shares(pledge.size)
    idx = np.minimum((x * pledge.size).astype(int), pledge.size - 1)
    lorenz = np.concatenate(([0.0], paid))[np.round(x * pledge.size).astype(int)]
    return pd.concat([
        _long("members", mechanism, x, "pledge", pledge[idx]),
        _long("members", mechanism, x, "payment", pay[idx]),
        _long("members", mechanism, x, "paid_share", lorenz),
    ])


def _long(part: str, mechanism: str, x, metric: str, value) -> pd.DataFrame:
    return pd.DataFrame({"part": part, "mechanism": mechanism, "x": x, "metric": metric,
                         "value": value})


def run(*, seed: int | None = None, quick: bool = False,
        scenario: Path = SCENARIO) -> pd.DataFrame:
    """The tidy table described in the module docstring.

    Args:
        seed: overrides the scenario's seed (default: the scenario's, 2026).
        quick: 8 learning rounds instead of 200.
        scenario: the ConstitutionDAO scenario file.
    """
    rounds = QUICK_ROUNDS if quick else LEARN_ROUNDS
    parts = []
    for mechanism in MECHANISMS:
        overrides = [f"mechanism.preset={mechanism}", *seed_overrides(seed, rounds)]
        result = run_model(load_scenario(scenario, overrides))
        metrics = result.metrics.assign(winner=result.metrics["winner_dao"] + 1)
        for metric in LEARNING_METRICS:
            parts.append(_long("learning", mechanism, metrics["round"], metric,
                               metrics[metric].astype(float)))
    # Truthful bids are the values; every run of a seed shares the population.
    model = result.model
    values, groups = model.values, model.groups
    members = groups.labels == 0
    dao_wtp = float(LotBids(values[None, :], groups).willingness_to_pay()[0, 0])
    context = {"n_members": int(members.sum()), "dao_value": float(values[members].sum()),
               "dao_wtp": dao_wtp, "rival_value": float(values[~members].max())}
    for mechanism in MECHANISMS:
        numbers, payments = one_auction(mechanism, values, groups)
        for metric, value in (numbers | context).items():
            parts.append(_long("auction", mechanism, [np.nan], metric, [float(value)]))
        if numbers["winner"] == 1:
            parts.append(member_rows(mechanism, values[members], payments[members]))
    at_wtp = equal_split_at(values, groups, 0, dao_wtp)
    parts.append(member_rows("dao-vickrey@wtp", values[members], at_wtp[members]))
    parts += protocol_rows(seed, rounds, scenario)
    out = pd.concat(parts, ignore_index=True)
    out["setting"] = out["setting"].fillna("") if "setting" in out else ""
    return out[COLUMNS]


def protocol_rows(seed: int | None, rounds: int, scenario: Path) -> list[pd.DataFrame]:
    """The crowdfund learning under each revision setting of ``PROTOCOLS``: the DAO's
    Σ pledges, the rival's bid and the winner (1 = the DAO) per round."""
    parts = []
    for setting, overrides in PROTOCOLS.items():
        spec = load_scenario(scenario, ["mechanism.preset=crowdfund", *overrides,
                                        "metrics.epsilon_every=1000000",
                                        *seed_overrides(seed, rounds)])
        model = DaoAuctionModel(spec)
        dao = model.groups.labels == 0
        rows = []
        for _ in range(spec.rounds):
            bids = model.learner.bids(model.strategies, model.values)
            model.step()
            rows.append((float(bids[dao].sum()), float(bids[~dao].max()),
                         float(model.last["winner_dao"] + 1)))
        x = np.arange(1, spec.rounds + 1)
        for i, metric in enumerate(("pledges", "rival_bid", "winner")):
            part = _long("protocols", "crowdfund", x, metric, [r[i] for r in rows])
            parts.append(part.assign(setting=setting))
    return parts


def auction_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The one truthful auction as one row per mechanism (wide)."""
    auction = frame[frame["part"] == "auction"]
    return auction.pivot(index="mechanism", columns="metric", values="value").loc[
        list(MECHANISMS)]


def key_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per number, one column per mechanism: the truthful auction (winner, price and
    welfare in $M, ratio, bidders with access) and the learning run's last round."""
    table = auction_table(frame)
    learning = frame[frame["part"] == "learning"]
    last = learning[learning["x"] == learning["x"].max()].pivot(
        index="mechanism", columns="metric", values="value").loc[table.index]
    names = {1.0: "DAO", 2.0: "individual"}
    rounds = int(learning["x"].max())
    rows = {
        "winner (truthful)": table["winner"].map(names),
        "price $M": table["price"] / 1e6,
        "welfare $M": table["welfare"] / 1e6,
        "optimum $M": table["optimum"] / 1e6,
        "OPT/welfare": table["ratio"],
        "bidders with access": table["n_access"].astype(int),
        "DAO: pledges $M / WTP $M": (table["dao_value"] / 1e6).map("{:.4g}".format) + " / "
        + (table["dao_wtp"] / 1e6).map("{:.4g}".format),
        f"round {rounds}: truthful share": last["truthful_share"],
        f"round {rounds}: mean bid/value": last["mean_bid_ratio"],
        f"round {rounds}: winner": last["winner"].map(names),
        f"round {rounds}: price $M": last["price"] / 1e6,
    }
    out = pd.DataFrame({key: col.to_numpy() for key, col in rows.items()},
                       index=table.index).T.astype(object)
    for setting, text in protocol_verdicts(frame).items():
        out.loc[f"crowdfund, {setting}"] = [text if m == "crowdfund" else ""
                                            for m in out.columns]
    return out.rename_axis("").reset_index()


def protocol_verdicts(frame: pd.DataFrame) -> dict[str, str]:
    """Per revision setting: the first round the DAO loses (or never) and Σ pledges at the
    end, e.g. ``"loses in round 2; $1.8M pledged in round 200"``."""
    rows = frame[frame["part"] == "protocols"]
    out = {}
    for setting, part in rows.groupby("setting", sort=False):
        wins = part[part["metric"] == "winner"]
        lost = wins.loc[wins["value"] != 1, "x"]
        pledges = part.loc[part["metric"] == "pledges", "value"].iloc[-1] / 1e6
        when = f"loses in round {int(lost.iloc[0])}" if len(lost) else "never loses"
        out[setting] = f"{when}; ${pledges:.1f}M pledged in round {int(wins['x'].max())}"
    return out
