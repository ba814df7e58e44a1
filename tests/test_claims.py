"""What emerges under learning, as the README, the scenarios' descriptions and the demo say it,
checked across tie policies x revision protocols x three seeds on small, short variants.

Each claim names the settings it holds under; the settings under which it does not hold are
asserted too, so the text cannot drift back to a claim that one setting makes true. The
Appendix A claim (cycling depends on the tie policy) is checked across tie policies x 2
protocols x 3 seeds in ``tests/test_paper.py``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dao_abm.model.model import DaoAuctionModel
from dao_abm.runner import run_model
from dao_abm.scenario import load_scenario

MODELS = Path(__file__).resolve().parents[1] / "models"
SEEDS = (1, 2, 3)
PROTOCOLS = ("inertia", "simultaneous")


@cache
def run(name: str, policy: str, protocol: str, seed: int, extra: tuple[str, ...] = ()
        ) -> tuple[pd.DataFrame, DaoAuctionModel]:
    """Metrics and the final model of one run (cached: several claims share runs)."""
    sc = load_scenario(MODELS / f"{name}.toml", [
        f"learning.tie_policy='{policy}'", f"learning.protocol='{protocol}'", f"seed={seed}",
        *extra])
    result = run_model(sc)
    return result.metrics, result.model


def runs(name: str, policy: str, extra: tuple[str, ...] = (), protocols=PROTOCOLS):
    return [run(name, policy, p, s, extra) for p in protocols for s in SEEDS]


# --- Mechanism 1 / 2, fixed values (default, mechanism1_truthful, additive_items) ---

M1 = {"default": ("population.n_members=200", "rounds=60"),
      "mechanism1_truthful": ("population.n_members=150", "rounds=40"),
      "additive_items": ("population.n_members=150", "rounds=40")}


@pytest.mark.parametrize("name", list(M1))
def test_mechanism_1_settles_on_an_equilibrium_under_keep_and_truthful(name) -> None:
    """keep and truthful, both protocols, 3 seeds: epsilon reaches 0 and every member's bid
    gets it what bidding its value would (outcome-truthful share 1). Bids are truthful only
    under "truthful"; under "keep" the equilibrium is a non-truthful one (2-10% truthful):
    most random bids are already best responses and are kept."""
    for policy in ("keep", "truthful"):
        for frame, _ in runs(name, policy, M1[name]):
            last = frame.iloc[-1]
            assert last["max_gain"] <= 1e-12
            assert last["outcome_truthful_share"] == 1.0
            assert frame["truthful_share"].iloc[0] < 0.1  # random start
            if policy == "truthful":
                assert last["truthful_share"] == 1.0
            else:
                assert last["truthful_share"] < 0.15


@pytest.mark.parametrize("name", list(M1))
def test_mechanism_1_keeps_moving_under_random_and_lowest(name) -> None:
    """random: members redraw among their (many) best responses every revision, so strategies
    never settle, epsilon > 0 recurs in the second half and bids are rarely truthful.
    lowest: members bid the least that does as well, the bids collapse towards 0 and
    epsilon stays positive."""
    for policy in ("random", "lowest"):
        for frame, _ in runs(name, policy, M1[name]):
            late = frame.iloc[len(frame) // 2:]
            assert late["max_gain"].max() > 0.05
            assert frame["truthful_share"].iloc[-1] < 0.05
            assert late["changed"].sum() > 0
            if policy == "lowest":
                assert frame["mean_bid_ratio"].iloc[-1] < 0.15


# --- Mechanism 1, values redrawn every round (README "Learning"; the demo's second panel) ---

REDRAW = ("population.n_members=100", "values.redraw=true", "learning.samples=32", "rounds=60")


def test_redrawn_values_truthful_shading_emerges_under_keep_only() -> None:
    """Redrawn values, shading factors: alpha = 1 is a best response for every value profile,
    so under keep a truthful member never leaves it and a shading member leaves as soon as its
    factor loses on the sampled values (then it takes alpha = 1): the truthful share climbs
    from ~0 to 0.58-0.92 in 60 rounds. Members never pivotal on the sampled values are
    indifferent among factors, so under random it stays below 0.15."""
    shading = (*REDRAW, "learning.strategy='shading'")
    for frame, _ in runs("default", "keep", shading):
        assert frame["truthful_share"].iloc[0] < 0.05
        assert frame["truthful_share"].iloc[-1] > 0.5
    for frame, _ in runs("default", "random", shading):
        assert frame["truthful_share"].iloc[-1] < 0.15


def test_redrawn_values_truthful_functions_emerge_only_under_truthful() -> None:
    """Redrawn values, bid functions (the default strategy): each knot is revised on its own,
    and a knot where the member is never pivotal on the sampled values is indifferent among
    bids. So under keep most knots keep their random start: the truthful share plateaus at
    0.2-0.4 with epsilon near 0 (below 0.01 of the value scale), where one shading factor
    climbs above 0.5; under truthful every bid ends truthful; under random below 0.1."""
    function = (*REDRAW, "learning.strategy='function'")
    for frame, _ in runs("default", "keep", function):
        assert frame["truthful_share"].iloc[0] < 0.05
        assert 0.15 < frame["truthful_share"].iloc[-1] < 0.45
        assert frame["max_gain"].iloc[-1] < 0.01
    for frame, _ in runs("default", "truthful", function):
        assert frame["truthful_share"].iloc[-1] == 1.0
    for frame, _ in runs("default", "random", function):
        assert frame["truthful_share"].iloc[-1] < 0.1


# --- Sum + Vickrey + equal split among all (models/split_the_bill.toml, preset split-the-bill) ---

SPLIT = ("population.n_members=300", "rounds=60")


def vote_like(model: DaoAuctionModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which members value the item above the share they would pay if their DAO won at the
    price it faces (sum of bids: a member's bid moves only whether its DAO wins)."""
    v, b, labels = model.values, model.bids, model.groups.labels
    sums = np.bincount(labels, weights=b, minlength=model.groups.n_groups)
    first, second = np.sort(sums)[-1], np.sort(sums)[-2]
    price = np.where(sums[labels] == first, second, first)
    return v > price / model.groups.sizes[labels], v, b


def test_equal_split_members_vote_rather_than_free_ride() -> None:
    """Under sum + equal split a member's payment does not depend on its bid, only on
    whether its DAO wins. Under keep and truthful, both protocols, 3 seeds, most members
    stay truthful (>= 0.85; in some runs nobody moves); of those who move, every one bidding
    below its value is a low-value member (it would pay more than the item is worth to it,
    so it wants its DAO to lose) and most bidding above it are high-value members (they want
    it to win; 64-100% per run)."""
    under = over = over_high = 0
    for policy in ("keep", "truthful"):
        for frame, model in runs("split_the_bill", policy, SPLIT):
            assert frame["truthful_share"].iloc[-1] >= 0.85
            high, v, b = vote_like(model)
            assert not (high & (b < 0.99 * v)).any()
            under += int((b < 0.99 * v).sum())
            over += int((b > 1.01 * v).sum())
            over_high += int((high & (b > 1.01 * v)).sum())
    assert under >= 10 and over >= 20
    assert over_high >= 0.7 * over


def test_equal_split_bids_collapse_only_under_lowest_and_random() -> None:
    """The collapse of truthful bids is the tie policy's: under lowest bids fall to a few
    percent of values (the least bid with the same outcome), under random to a uniform draw
    from the best responses; the truthful share ends below 0.05 under both."""
    for policy, bid_ratio in (("lowest", 0.4), ("random", 0.9)):
        for frame, _ in runs("split_the_bill", policy, SPLIT):
            assert frame["truthful_share"].iloc[-1] < 0.05
            assert frame["mean_bid_ratio"].iloc[-1] < bid_ratio


# --- Individual bidders, values redrawn (models/classical_*.toml) ---

@pytest.mark.parametrize("policy", ["keep", "random"])
def test_first_price_shading_reaches_the_bayes_nash_factor(policy) -> None:
    """Four bidders, U[0, 1] values, first price: the mean shading factor ends within 0.06
    of (n-1)/n = 0.75 under keep and random, sequential and inertia, 3 seeds (utilities on
    sampled values are continuous in alpha, so ties are rare and the policy barely acts)."""
    extra = ("rounds=16", "learning.samples=1000")
    for frame, _ in runs("classical_first_price", policy, extra, ("sequential", "inertia")):
        assert frame["mean_bid_ratio"].iloc[-6:].mean() == pytest.approx(0.75, abs=0.06)
        assert frame["truthful_share"].iloc[-1] == 0.0


def test_second_price_ends_truthful_under_every_policy() -> None:
    """Shading factors (the file's strategy): truthful under keep, random and lowest."""
    extra = ("rounds=16", "learning.samples=400")
    for policy in ("keep", "random", "lowest"):
        for frame, _ in runs("classical_second_price", policy, extra, ("sequential", "inertia")):
            assert frame["truthful_share"].iloc[-1] == 1.0
            assert frame["mean_bid_ratio"].iloc[0] < 0.6


def test_second_price_bid_functions_end_truthful_except_under_lowest() -> None:
    """Bid functions (closed-form tables: individual bidders): the tie policy decides. From
    b = v/2, under keep and random the functions end at the identity (L2 below 0.001 here;
    asserted 0.03, the sampled tables' bound) with relative utility loss below 0.002; under
    lowest they do not (L2 above 0.05, relative utility loss above 0.05): once a rival's
    function tops out, every bid above it wins at the same price, lowest takes the least
    such bid, the top knots pool there, and the continuous game punishes the pool."""
    extra = ("rounds=40", "learning.samples=400", "learning.strategy='function'",
             "metrics.equilibrium_every=40")
    for policy in ("keep", "random", "lowest"):
        for frame, _ in runs("classical_second_price", policy, extra, ("sequential", "inertia")):
            assert frame["mean_bid_ratio"].iloc[0] < 0.6  # the start, b = v/2
            end = frame.dropna(subset=["l2_to_bne"]).iloc[-1]
            if policy == "lowest":
                assert end["l2_to_bne"] > 0.05 and end["relative_utility_loss"] > 0.05
            else:
                assert end["l2_to_bne"] < 0.03 and end["relative_utility_loss"] < 0.002


# --- Truthful starts (models/hl_bound.toml, models/theorem_3_4.toml) ---

@pytest.mark.parametrize("kind", ["function", "shading"])
def test_truthful_starts_are_kept_only_under_keep_and_truthful(kind) -> None:
    """hl_bound and theorem_3_4 start truthful. A truthful profile is an equilibrium of
    Mechanism 1 (epsilon = 0), so keep never leaves it and the ratios are the theorems' (at
    most H_20 on hl_bound; H_10 - 10 delta on theorem_3_4). Under random and lowest members
    leave it through ties (the winner's losing rivals may bid anything below their critical
    bids), and the ratio is no longer the theorem's: on hl_bound lowest exceeds H_20, with
    bid functions (the default) and shading factors alike."""
    h20 = sum(1 / i for i in range(1, 21))
    h10 = sum(1 / i for i in range(1, 11)) - 10 * 0.001
    hl = ("rounds=20", "learning.samples=4", "population.n_members=300",
          f"learning.strategy='{kind}'")
    for frame, _ in runs("hl_bound", "keep", hl):
        assert (frame["truthful_share"] == 1.0).all()
        assert (frame["approximation_ratio"] <= h20 + 1e-9).all()
    for frame, _ in runs("theorem_3_4", "keep", ("rounds=10",)):
        assert frame["approximation_ratio"].to_numpy() == pytest.approx(h10, abs=1e-6)
    lowest = runs("hl_bound", "lowest", hl)
    assert all(frame["truthful_share"].iloc[-1] < 0.1 for frame, _ in lowest)
    assert max(frame["approximation_ratio"].max() for frame, _ in lowest) > h20
    for frame, _ in runs("theorem_3_4", "random", ("rounds=10",)):
        assert frame["truthful_share"].iloc[-1] < 0.5


# --- ConstitutionDAO (models/constitution_dao.toml, crowdfund) ---

CDAO = ("metrics.epsilon_every=1000", "output.figures=false")
RIVAL = 43.2e6


def first_loss(frame: pd.DataFrame) -> int | None:
    """The first round the DAO (group 0) does not win, or None."""
    lost = frame.loc[frame["winner_dao"] != 0, "round"]
    return int(lost.iloc[0]) if len(lost) else None


def test_constitution_loses_when_many_revise_at_once() -> None:
    """Every contributor sees the same slack above $43.2M and treats it as its own. Revising
    together (simultaneous) they cut about 96% of the pledges in round 1; the DAO loses in
    round 2 under keep and random. Under keep the loss is absorbing: no single contributor
    can close the gap by pledging up to its value, the most it would pay (the rival, once
    it wins, shades too). Under random the rival's shading lets the DAO win some rounds
    back. At the scenario's 5% (about
    870 revisers a round) it loses by round 4; under keep it stays lost in almost every
    later round (the gap is more than any contributor can profitably add on its grid of
    pledges), under random the rival shades too and wins alternate."""
    for policy in ("keep", "random"):
        for seed in SEEDS:
            frame, model = run("constitution_dao", policy, "simultaneous", seed,
                               (*CDAO, "rounds=4"))
            assert first_loss(frame) == 2
            if policy == "keep":
                assert (frame["winner_dao"].iloc[1:] != 0).all()
                pledges = model.bids[:-1]
                gap = model.bids[-1] - pledges.sum()  # the rival shades too, once it wins
                assert (model.values[:-1] - pledges).max() < gap
            frame, _ = run("constitution_dao", policy, "inertia", seed, (*CDAO, "rounds=30"))
            assert first_loss(frame) <= 4
            if policy == "keep":
                assert (frame["winner_dao"].iloc[first_loss(frame) - 1:] != 0).mean() > 0.9


def test_constitution_wins_when_contributors_revise_one_at_a_time() -> None:
    """Sequential: a lone reviser never gives up a win it values (it pays its pledge, at most
    its value), so it cuts at most the slack and the DAO wins every round; pledges only fall,
    and stay at or above $43.2M (the tie goes to the DAO, group 0): $43.8-47.4M after 100
    rounds, in which under 1% of the 17,437 contributors have revised."""
    for policy in ("keep", "random"):
        for seed in SEEDS:
            frame, _ = run("constitution_dao", policy, "sequential", seed,
                           (*CDAO, "rounds=100"))
            assert first_loss(frame) is None
            assert (np.diff(frame["price"]) <= 1e-6).all()
            assert RIVAL <= frame["price"].iloc[-1] < frame["price"].iloc[0]


def test_constitution_small_fractions_lose_later() -> None:
    """At 0.2% (about 35 revisers a round) each round's cuts are small, but they add up past
    the slack within 80 rounds in every seed: the loss is delayed, not avoided."""
    for seed in SEEDS:
        frame, _ = run("constitution_dao", "keep", "inertia", seed,
                       (*CDAO, "rounds=80", "learning.fraction=0.002"))
        assert 5 < first_loss(frame) <= 80


def test_constitution_pledges_summing_to_the_rival_bid_are_an_equilibrium() -> None:
    """The equilibria where the DAO wins: pledges at most values summing to at least $43.2M
    with no slack left. Scaling the truthful pledges down to sum exactly $43.2M gives one:
    a contributor who cuts loses the item, one who raises pays more, and the rival cannot
    win without paying above its value. No member gains on the grid (epsilon = 0)."""
    sc = load_scenario(MODELS / "constitution_dao.toml", list(CDAO))
    model = DaoAuctionModel(sc)
    values = model.values
    bids = values.copy()
    bids[:-1] *= RIVAL / values[:-1].sum() * (1 + 1e-12)  # sums to $43.2M + a few cents
    from dao_abm.learning import best_response

    nobody = np.zeros(values.size, dtype=bool)
    revision = best_response(model.learner.market, values, bids, revising=nobody,
                             grid=model.learner.grid, rng=np.random.default_rng(0))
    assert model.mechanism.run(bids, model.groups, "single").winner[0] == 0
    assert revision.gain.max() <= 1e-6 * values.max()


@pytest.mark.parametrize("rule", ["counterfactual", "mean-utility"])
@pytest.mark.parametrize("policy", ["keep", "random"])
def test_without_a_size_cap_the_winning_dao_absorbs_most_members(policy, rule):
    """README (re-formation): on default.toml with ``daos.max_size = 0`` and re-formation every
    round, the winning DAO grows from about an eighth of the 600 members to more than 80% in
    15 rounds, under either scoring rule, tie policy and protocol (measured 70-77 -> 520-557
    with the counterfactual, 547-569 with the proxy), so the size cap decides how large DAOs
    get."""
    extra = ("daos.reform=true", "daos.reform_every=1", "daos.max_size=0", "rounds=15",
             f"daos.reform_rule='{rule}'")
    for metrics, model in runs("default", policy, extra):
        size = metrics["winner_size"].to_numpy()
        n = model.scenario.population.n_members
        assert size[0] < 0.15 * n
        assert size[-1] > 0.8 * n
