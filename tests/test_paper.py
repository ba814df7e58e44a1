"""``dao-abm paper``: every experiment reproduces the paper's numbers (in ``--quick`` sizes).

hl-bound: Theorem 3.2 (OPT/welfare <= H_ℓ), approached by the adversarial search;
theorem-3-4: the ratio H_{n−1} − (n−1)δ on both instances of the proof, for Mechanism 1 and
every truthful threshold pair; unit-demand: (n + ε)/(1 + ε) on the Lemma 4.8 instance;
appendix-a: which tie policies make learning cycle, against the truthful foil;
constitution: the truthful auction's outcome equals a direct engine computation.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from dao_abm.cli import main
from dao_abm.cli.paper_cmd import write_atomic
from dao_abm.ensemble import q_reference
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.equilibrium.closed_forms import closed_form
from dao_abm.learning.ties import TIE_POLICIES
from dao_abm.mechanisms import Groups, optimal_welfare, preset, welfare
from dao_abm.model.population import build_population
from dao_abm.paper import (
    EXPERIMENTS,
    appendix_a,
    banchio_skrzypacz,
    constitution,
    constitution_private_values,
    dao_collusion,
    dao_private_values,
    emergence,
    equilibria,
    hl_bound,
    select,
    theorem_3_4,
    unit_demand,
)
from dao_abm.paper.common import harmonic
from dao_abm.scenario import load_scenario


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """Every experiment's quick table, computed once for the module."""
    return {name: exp.run(seed=None, quick=True) for name, exp in EXPERIMENTS.items()}


def test_harmonic_numbers() -> None:
    assert harmonic(np.array([0, 1, 2, 3])).tolist() == [0.0, 1.0, 1.5, 1.5 + 1 / 3]


def test_hl_bound_holds_for_every_ell(frames) -> None:
    frame = frames["hl-bound"]
    assert list(frame.columns) == hl_bound.COLUMNS
    assert set(frame["sizes"]) == {*hl_bound.SIZE_MODELS, "adversarial"}
    assert set(frame["values"]) == {*hl_bound.VALUE_MODELS, "local-search"}
    assert (frame["max_ratio"] <= frame["h_ell"] * (1 + 1e-12)).all()  # Theorem 3.2
    sampled = frame[frame["sizes"] != "adversarial"]
    assert (sampled["mean_ratio"] >= 1.0).all()
    assert np.allclose(frame.loc[frame["ell"] == 1, "max_ratio"], 1.0)  # H_1 = 1
    assert (frame.loc[frame["ell"] >= 4, "max_ratio"] > 1.2).any()  # the bound is not idle


def test_hl_adversarial_search_beats_random_sampling_and_approaches_h_ell(frames) -> None:
    """At every ℓ the search's worst is <= H_ℓ and >= the worst of all random sampling; even
    the quick search gets within 1% of H_ℓ for ℓ <= 8, and its instance replays exactly."""
    table = hl_bound.key_numbers(frames["hl-bound"])
    assert table["ell"].tolist() == list(range(1, 9))
    assert (table["adversarial_worst"] <= table["H_ell"] * (1 + 1e-12)).all()
    assert (table["adversarial_worst"] >= table["random_worst"]).all()
    assert (table["adversarial_of_bound"] > 0.99).all()
    assert (table.loc[table["ell"] >= 4, "random_of_bound"] < 0.99).all()
    adversary = frames["hl-bound"].query("sizes == 'adversarial'")
    for _, row in adversary.iterrows():
        groups = json.loads(row["instance"])["groups"]
        values = np.concatenate([np.asarray(g, dtype=float) for g in groups])
        ratio = hl_bound.ratios(values[None], Groups.from_sizes([len(g) for g in groups]))
        assert ratio[0] == pytest.approx(row["max_ratio"], rel=1e-12)
        assert max(len(g) for g in groups) <= row["ell"]


def test_hl_bound_is_reproducible_and_seeded() -> None:
    a = hl_bound.run(seed=3, quick=True)
    pd.testing.assert_frame_equal(a, hl_bound.run(seed=3, quick=True))
    b = hl_bound.run(seed=4, quick=True)
    assert not np.allclose(a["mean_ratio"].dropna(), b["mean_ratio"].dropna())


def _h(n: int) -> float:
    return sum(1 / i for i in range(1, n))  # H_{n−1}, summed by hand


def test_theorem_3_4_mechanism_1_on_both_instances(frames) -> None:
    frame = frames["theorem-3-4"]
    assert list(frame.columns) == theorem_3_4.COLUMNS
    m1 = frame[frame["part"] == "mechanism-1"]
    assert set(m1["instance"]) == {1, 2}
    n, delta = m1["n"].to_numpy(), m1["delta"].to_numpy()
    big = n >= 3
    exact = np.array([_h(k) for k in n]) - (n - 1) * delta
    np.testing.assert_allclose(m1["ratio"][big], exact[big], rtol=1e-12, atol=0)
    assert (m1.loc[~big, "ratio"] == 1.0).all()  # n = 2: the single bidder is the optimum
    # WTP of the big DAO is 1 − δ < 1: the single bidder wins both instances
    assert (m1.loc[m1["instance"] == 1, "winner"] == 2).all()
    assert (m1.loc[m1["instance"] == 2, "winner"] == 1).all()
    assert (m1["welfare"] == 1.0).all()


def test_theorem_3_4_every_truthful_threshold_pair_does_no_better(frames) -> None:
    """Over thresholds (t1, t2) with max(t1, t2) >= 1 the worst ratio over {I1, I2} is never
    below H_{n−1} − (n−1)δ and reaches it; the excluded pairs would do better (ratio 1)."""
    table = theorem_3_4.worst_over_feasible(frames["theorem-3-4"])
    n, delta = table["n"].to_numpy(), table["delta"].to_numpy()
    exact = np.maximum(np.array([_h(k) for k in n]) - (n - 1) * delta, 1.0)
    np.testing.assert_allclose(table["min_worst"], exact, rtol=1e-12, atol=0)
    assert (table["max_worst"] >= table["min_worst"]).all()
    np.testing.assert_allclose(table.loc[n >= 3, "excluded_min"], 1.0, rtol=1e-12)
    grid = frames["theorem-3-4"].query("part == 'threshold'")
    wins = grid["threshold"] <= 1 - grid["delta"]  # the big DAO can pay exactly these
    assert ((grid["winner"] == 1) == wins).all()
    key = theorem_3_4.key_numbers(frames["theorem-3-4"])
    assert (key["max_abs_error"] < 1e-12).all()


def test_theorem_3_4_threshold_welfare_by_hand() -> None:
    """n = 4, δ = 0.1: values 0.9, 0.4, 0.2333; at t = 0.75 two members can split (2·0.4 >=
    0.75 > 3·0.2333), welfare 1.3; at t = 0.95 > WTP = 0.9 the single bidder wins."""
    got = theorem_3_4.threshold_welfare(4, 0.1, np.array([0.0, 0.75, 0.95]))
    np.testing.assert_allclose(got, [0.9 + 0.4 + (1 / 3 - 0.1), 1.3, 1.0], rtol=1e-14)


def test_unit_demand_lemma_ratio_and_the_factor_n(frames) -> None:
    frame = frames["unit-demand"]
    assert list(frame.columns) == unit_demand.COLUMNS
    lemma = frame[frame["population"] == "lemma-4.8"]
    n, eps = lemma["n"].to_numpy(), lemma["epsilon"].to_numpy()
    np.testing.assert_allclose(lemma["mean_ratio"], (n + eps) / (1 + eps), rtol=1e-13, atol=0)
    rand = frame[frame["population"] == "random-uniform"]
    assert set(rand["mechanism"]) == set(unit_demand.MECHANISMS)
    bundle = rand[rand["mechanism"] == "grand-bundle"]
    assert (bundle["max_ratio"] <= bundle["n"] * (1 + 1e-12)).all()  # never worse than n


def test_appendix_a_foil_is_truthful_for_unit_demand(frames) -> None:
    """The foil comes from the property table: grand-bundle for unit demand (Section 4.2);
    dao-vickrey, not truthful for unit demand in general, happens to be on this instance."""
    assert appendix_a.truthful_foil("unit-demand") == "grand-bundle"
    assert appendix_a.truthful_foil("single") == "dao-vickrey"
    frame = frames["appendix-a"]
    assert list(frame.columns) == appendix_a.COLUMNS
    assert list(frame["mechanism"].unique()) == ["vcg-equal-split", "grand-bundle",
                                                 "dao-vickrey"]
    audited = frame.groupby("mechanism")["audit_violations"].first()
    assert audited.to_dict() == {"vcg-equal-split": 1, "grand-bundle": 0, "dao-vickrey": 0}


def test_appendix_a_cycling_depends_on_the_tie_policy(frames) -> None:
    """Across 2 protocols × 3 seeds: with keep every mechanism stops moving, the truthful ones
    on equilibria, VCG + equal split in some runs on a profile where Appendix A's deviation
    still gains (ε = 0.01); with truthful VCG + equal split cycles in every run while
    the truthful mechanisms settle on truthful bids; with lowest every mechanism keeps
    moving, truthful ones included, and with random VCG + equal split never settles."""
    frame = frames["appendix-a"]
    runs = appendix_a.verdicts(frame)
    assert set(runs["tie_policy"]) == set(TIE_POLICIES)
    assert set(runs["protocol"]) == set(appendix_a.PROTOCOLS) and len(appendix_a.PROTOCOLS) >= 2
    assert runs["seed"].nunique() >= 3
    by = runs.groupby(["tie_policy", "mechanism"])["verdict"]
    keep = runs[runs["tie_policy"] == "keep"]
    keep_vcg = keep["mechanism"] == "vcg-equal-split"
    assert (keep.loc[~keep_vcg, "verdict"] == "settles").all()
    # vcg-equal-split stops moving too, but ε (searched over breakpoints, beyond the
    # members' grid) finds Appendix A's deviation in some runs: no equilibrium there.
    assert set(keep.loc[keep_vcg, "verdict"]) == {"settles", "drifts"}
    truthful = runs[runs["tie_policy"] == "truthful"]
    vcg = truthful["mechanism"] == "vcg-equal-split"
    assert (truthful.loc[vcg, "verdict"] == "cycles").all()
    assert (truthful.loc[~vcg, "verdict"] == "settles").all()
    assert (truthful.loc[~vcg, "truthful_end"] == 1.0).all()
    assert (runs.loc[runs["tie_policy"] == "lowest", "verdict"] == "cycles").all()
    assert "settles" not in set(by.get_group(("random", "vcg-equal-split")))
    text = appendix_a.cycling_text(frame)
    assert text.startswith("keep: none; truthful: vcg-equal-split;")
    assert "lowest: vcg-equal-split, grand-bundle, dao-vickrey" in text


def test_constitution_protocols_decide_whether_the_dao_loses(frames) -> None:
    """Quick (8 rounds): revising all at once loses in round 2, 5% a round by round 4,
    one at a time never; pledges at the end say how far each got."""
    frame = frames["constitution"]
    verdicts = constitution.protocol_verdicts(frame)
    assert list(verdicts) == list(constitution.PROTOCOLS)
    assert verdicts["simultaneous"].startswith("loses in round 2;")
    assert verdicts["inertia 5%"].startswith(("loses in round 2;", "loses in round 3;",
                                              "loses in round 4;"))
    assert verdicts["sequential"].startswith("never loses;")
    rows = frame[frame["part"] == "protocols"]
    pledges = rows[(rows["metric"] == "pledges") & (rows["setting"] == "simultaneous")]
    assert pledges["value"].iloc[-1] < 0.1 * pledges["value"].iloc[0]
    key = constitution.key_numbers(frame).set_index("")
    assert key.loc["crowdfund, sequential", "crowdfund"] == verdicts["sequential"]


def test_emergence_key_numbers_say_what_the_claims_say(frames) -> None:
    """Quick (120 members, 30 rounds): fixed values settle under keep (pivotal members all
    outcome-truthful, few bids truthful) and not under random or lowest; truthful bids
    under truthful/simultaneous. Redrawn values, both strategy kinds: keep's truthful share
    above random's, truthful's 1; with bid functions keep's stays below one half (the
    shading factor's climb is the restriction's)."""
    key = emergence.key_numbers(frames["emergence"]).set_index(
        ["values", "tie_policy", "protocol"])

    def span(values, policy, protocol):
        text = key.loc[(values, policy, protocol), "truthful_share"]
        return float(text.split("–")[0]), float(text.split("–")[-1])

    for protocol in emergence.PROTOCOLS:
        keep = key.loc[("fixed", "keep", protocol)]
        assert keep["settled_runs"] == "3/3" and keep["pivotal_truthful_share"] == "1.00"
        assert float(keep["truthful_share"].split("–")[-1]) < 0.15
        for policy in ("random", "lowest"):
            assert key.loc[("fixed", policy, protocol), "settled_runs"] == "0/3"
        for kind in emergence.STRATEGIES:
            values = f"redrawn, {kind}"
            assert span(values, "keep", protocol)[0] > 2 * span(values, "random", protocol)[1]
            assert span(values, "truthful", protocol)[0] > 0.95
        assert span("redrawn, function", "keep", protocol)[1] < 0.5
    assert key.loc[("fixed", "truthful", "simultaneous"), "truthful_share"] == "1.00"


def test_constitution_matches_a_direct_engine_computation(frames) -> None:
    frame = frames["constitution"]
    assert list(frame.columns) == constitution.COLUMNS
    spec = load_scenario(constitution.SCENARIO)
    stream = np.random.SeedSequence(spec.seed).spawn(3)[0]  # the model's population stream
    pop = build_population(spec, np.random.default_rng(stream))
    values, groups = pop.values, Groups.from_labels(pop.labels)
    table = constitution.auction_table(frame)
    for mechanism in constitution.MECHANISMS:
        outcome = preset(mechanism).run(values, groups)
        row = table.loc[mechanism]
        assert row["price"] == pytest.approx(float(outcome.price[0]), rel=1e-12)
        assert row["welfare"] == pytest.approx(float(welfare(values, outcome)), rel=1e-12)
        assert row["optimum"] == pytest.approx(float(optimal_welfare(values, groups, "single")))
    pledges = np.sort(values[:-1])[::-1]
    wtp = float((pledges * np.arange(1, pledges.size + 1)).max())
    assert table.loc["crowdfund", "winner"] == 1  # pledges sum to more than $43.2M
    assert table.loc["crowdfund", "price"] == pytest.approx(pledges.sum(), rel=1e-12)
    assert table.loc["crowdfund", "n_access"] == 17_437
    assert table.loc["dao-vickrey", "winner"] == 2  # WTP < $43.2M
    assert table.loc["dao-vickrey", "price"] == pytest.approx(wtp, rel=1e-12)
    assert table.loc["dao-vickrey", "welfare"] == 43.2e6
    members = frame[(frame["part"] == "members") & (frame["metric"] == "paid_share")]
    for _, part in members.groupby("mechanism"):
        assert part["value"].iloc[0] == 0.0 and part["value"].iloc[-1] == pytest.approx(1.0)
        assert (np.diff(part["value"]) >= -1e-12).all()  # a Lorenz curve


def test_banchio_skrzypacz_first_price_colludes_second_price_does_not(frames) -> None:
    """Quick size (50 sessions, 4·10⁵ periods): first-price revenue settles low, near B&S's
    0.24 (their Figure 1: 0.2265); second price goes to (0.95, 0.95) as in B&S (994/1000)."""
    frame = frames["banchio-skrzypacz"]
    summary = frame[frame["table"] == "summary"].set_index(["ties", "price", "measure"])
    ours = summary["ours"]["coin"]
    assert 0.15 < ours["first", "final_revenue"] < 0.35
    assert ours["first", "converged_share"] > 0.9 and ours["first", "share_at_top"] == 0
    assert ours["second", "share_at_top"] > 0.8 and ours["second", "final_revenue"] > 0.85
    assert ours["second", "last_revenue"] > ours["first", "last_revenue"] + 0.5
    # The tie rule decides it: with ties to bidder 1 first price does not collude and
    # second price does not settle (the bidder who never wins a tie earns 0 whatever it bids).
    lowest = summary["ours"]["lowest"]
    assert (summary["sessions"]["lowest"] == 10).all()
    assert lowest["first", "final_revenue"] > 0.6
    assert lowest["second", "converged_share"] < 0.5
    assert lowest["second", "last_revenue"] < 0.7


@pytest.mark.parametrize(("mechanism", "price"), [("dao-vickrey", "second"),
                                                  ("crowdfund", "first")])
def test_daos_of_one_are_banchio_skrzypacz(mechanism, price) -> None:
    """Two DAOs of one member: Mechanism 1 is B&S's second price and the crowdfund their
    first price, session by session, bit for bit."""
    ours = QEnsemble(dao_collusion.game(mechanism, 1), 20_000, range(4), seed=3)
    theirs = QEnsemble(banchio_skrzypacz.game(price), 20_000, range(4), seed=3)
    ours.advance(20_000)
    theirs.advance(20_000)
    assert np.array_equal(ours.state.q, theirs.state.q)
    assert ours.metrics().equals(theirs.metrics())


def test_dao_collusion_quick(frames) -> None:
    """Quick size (16 sessions, 4·10⁵ periods, k = 1, 2): with DAOs of one, Mechanism 1
    and split-the-bill reach the top bid like second price and the crowdfund colludes like
    first price; with DAOs of two the crowdfund still yields the least revenue. A DAO of two
    against an individual is measured under every mechanism; the shares are shares."""
    frame = frames["dao-collusion"]
    both = dao_collusion.key_numbers(frame).set_index(["ties", "config", "mechanism", "k"])
    assert set(both.index.get_level_values("ties")) == set(dao_collusion.TIES)
    table = both.loc["coin"]
    revenue = table["final_revenue"]
    two = revenue["two-daos"]
    assert two["dao-vickrey", 1] > 0.85 and two["split-the-bill", 1] > 0.85
    assert two["crowdfund", 1] < 0.4
    assert two["crowdfund", 2] < min(two["dao-vickrey", 2], two["split-the-bill", 2])
    assert table.loc["dao-vs-individual"].index.tolist() == [
        (m, 2) for m in dao_collusion.MECHANISMS]
    shares = table[["converged_share", "stage_nash_share", "tie_share", "dao_win"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (table["revenue_low"] <= revenue).all() and (revenue <= table["revenue_high"]).all()
    # every session's final profile counted once per cell: 16 with the coin, a fifth (3)
    # with ties to the lowest-index group, where the crowdfund between two DAOs of one (B&S's
    # first price) does not end in a tie: the coin's collusion needs the coin
    profiles = frame[frame["table"] == "profile"].groupby(["ties", "config", "mechanism", "k"])
    counts = profiles["sessions"].sum()
    assert (counts["coin"] == 16).all() and (counts["lowest"] == 3).all()
    lowest = both.loc["lowest"]
    assert lowest.loc[("two-daos", "crowdfund", 1), "tie_share"] == 0.0
    assert lowest.loc[("two-daos", "crowdfund", 1), "final_revenue"] > 0.5


def test_dao_collusion_groups() -> None:
    """Two DAOs of k, or a DAO of k against one bidder; at k = 1 both are B&S's pair."""
    assert dao_collusion.groups_of("two-daos", 3).tolist() == [0, 0, 0, 1, 1, 1]
    assert dao_collusion.groups_of("dao-vs-individual", 3).tolist() == [0, 0, 0, 1]
    assert dao_collusion.groups_of("dao-vs-individual", 1).tolist() == [0, 1]
    with pytest.raises(ValueError, match="unknown configuration 'three'"):
        dao_collusion.groups_of("three", 2)
    cells = dao_collusion.cells((1, 2))
    assert ("dao-vs-individual", "crowdfund", 1) not in cells and len(cells) == 9


@pytest.mark.parametrize("mechanism", dao_collusion.MECHANISMS)
def test_a_dao_against_an_individual_runs_on_the_kernel_as_on_the_reference(mechanism) -> None:
    """Unequal groups (three members against one): the compiled kernel equals the numpy
    reference bit for bit, and the individual is paid as a group of one."""
    game = dao_collusion.game(mechanism, 3, "dao-vs-individual")
    assert game.starts.tolist() == [0, 3, 4]
    fast = QEnsemble(game, 3000, range(3), seed=2)
    slow = QEnsemble(game, 3000, range(3), seed=2, kernel=q_reference)
    fast.advance(3000)
    slow.advance(3000)
    assert np.array_equal(fast.state.q, slow.state.q)
    assert fast.metrics().equals(slow.metrics())
    bids = np.array([[0.95, 0.05, 0.05, 0.5]])  # the DAO's three members, the individual
    price, reward = q_reference.expected_outcome(game, bids)
    assert reward[0, 3] == 0.0  # the DAO wins in all three
    if mechanism == "dao-vickrey":  # WTP max(0.95, 2·0.05, 3·0.05) = 0.95; t = 1 pays 0.5
        assert price[0] == pytest.approx(0.5)
        np.testing.assert_allclose(reward[0, :3], [0.5, 0.0, 0.0])
    elif mechanism == "split-the-bill":  # sum 1.05, second price 0.5, split three ways
        assert price[0] == pytest.approx(0.5)
        np.testing.assert_allclose(reward[0, :3], 1 - 0.5 / 3)
    else:  # crowdfund: pays its pledges 1.05, each its own
        assert price[0] == pytest.approx(1.05)
        np.testing.assert_allclose(reward[0, :3], [0.05, 0.95, 0.95])


@pytest.mark.parametrize("name", ["bne-first-price", "bne-reserve", "bne-all-pay"])
def test_bne_experiments_meet_the_targets_even_quick(frames, name: str) -> None:
    """Quick (SODA's 64-point grids, n = 2, 3): every n within the issue's targets (L2 <=
    0.01, relative utility loss <= 0.002), the curve is the closed form's (but at the
    reserve itself, where taking no part and bidding r are worth the same), and the run is
    seeded."""
    frame = frames[name]
    assert list(frame.columns) == equilibria.COLUMNS
    table = EXPERIMENTS[name].key_numbers(frame)
    assert table["n"].tolist() == list(equilibria.QUICK_NS)
    assert (table["l2_to_bne"] <= 0.01).all()
    assert (table["relative_utility_loss"] <= 0.002).all()
    assert (table["learn_seconds"] < 30).all()
    for n, part in frame.groupby("n"):
        reserve = part["reserve"].iloc[0]
        expected = closed_form(part["auction"].iloc[0], "uniform", reserve).bid(
            part["value"].to_numpy(), n, reserve)
        assert np.allclose(part["equilibrium_bid"], expected)
        off = part["value"].to_numpy() != reserve
        assert np.abs(part["learned_bid"] - expected)[off].max() < 0.05
    timing = ["learn_seconds", "metric_seconds"]
    again = EXPERIMENTS[name].run(seed=None, quick=True)
    pd.testing.assert_frame_equal(frame.drop(columns=timing), again.drop(columns=timing))


def test_dao_private_values_quick(frames) -> None:
    """Quick (DAOs of 1 and 3): Mechanism 1 ends within 0.02 of the identity at both sizes
    and loses < 1e-3 on held-out draws; with DAOs of one every mechanism allocates
    efficiently; crowdfund members shade (far from the identity)."""
    frame = frames["dao-private-values"]
    assert list(frame.columns) == dao_private_values.COLUMNS
    table = dao_private_values.key_numbers(frame).set_index(["mechanism", "size"])
    for size in dao_private_values.QUICK_SIZES:
        row = table.loc[("dao-vickrey", size)]
        assert row["l2_to_identity"] < 0.02 and row["held_out_loss"] < 1e-3
        assert table.loc[("crowdfund", size), "l2_to_identity"] > 0.1
    for mechanism in dao_private_values.MECHANISMS:
        assert table.loc[(mechanism, 1), "welfare_of_opt"] == pytest.approx(1.0)
    outcome = frame[frame["part"] == "outcome"]
    assert (outcome["welfare"] <= outcome["optimum"] + 1e-12).all()


def test_constitution_private_values_quick(frames) -> None:
    """Quick (the real 17,437 contributors, 20 SODA steps): truthful crowdfund pledges
    ($47.1M expected) win almost surely against $43.2M, the learned ones fall below values
    at every knot from v = s/4 to 1.5·s, below $43.2M in sum, and the DAO then loses;
    Mechanism 1's WTP cannot reach $43.2M at any pledges up to twice the types, so no
    contributor can gain anything (best-response utility 0) and the DAO never wins, truthful
    or learned. Engine outcomes: welfare <= OPT, the rival's $43.2M when it wins."""
    frame = frames["constitution-private-values"]
    assert list(frame.columns) == constitution_private_values.COLUMNS
    buckets = frame[frame["part"] == "bucket"]
    assert buckets["members"].sum() == 17437
    assert buckets["types"].sum() / 1e6 == pytest.approx(47.137, abs=0.001)
    table = constitution_private_values.key_numbers(frame).set_index("mechanism")
    crowd, m1 = table.loc["crowdfund"], table.loc["dao-vickrey"]
    assert crowd["win_truthful"] > 0.95 and crowd["win"] < 0.05
    assert crowd["pledged_M"] < 43.2 < crowd["pledged_truthful_M"]
    assert m1["win"] == m1["win_truthful"] == 0.0 and m1["held_out_best"] == 0.0
    assert m1["welfare_of_opt"] == pytest.approx(m1["welfare_of_opt_truthful"])
    f = frame[(frame["part"] == "function") & (frame["mechanism"] == "crowdfund")]
    mid = f[(f["value"] >= 0.25) & (f["value"] <= 1.5)]
    assert (mid["bid"] < mid["value"]).all()
    outcome = frame[frame["part"] == "outcome"]
    assert (outcome["welfare"] <= outcome["optimum"] * (1 + 1e-12)).all()
    lost = outcome[outcome["win"] == 0]
    assert np.allclose(lost["welfare"], 43.2e6)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_plots_and_key_numbers(frames, name: str) -> None:
    experiment = EXPERIMENTS[name]
    fig = experiment.plot(frames[name])
    assert isinstance(fig, Figure) and fig.axes
    table = experiment.key_numbers(frames[name])
    assert isinstance(table, pd.DataFrame) and len(table) > 0


def test_select() -> None:
    assert [e.name for e in select("all")] == list(EXPERIMENTS)
    assert [e.name for e in select("hl-bound")] == ["hl-bound"]


def test_cli_writes_png_and_csv(tmp_path, capsys) -> None:
    assert main(["paper", "theorem-3-4", "--out", str(tmp_path), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "theorem-3-4" in out and "G2" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theorem-3-4.csv", "theorem-3-4.png"]
    assert (tmp_path / "theorem-3-4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = pd.read_csv(tmp_path / "theorem-3-4.csv")
    assert list(data.columns) == theorem_3_4.COLUMNS


def test_cli_bad_name_exits_2_with_one_line(tmp_path, capsys) -> None:
    assert main(["paper", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dao-abm: error: unknown experiment 'nope'; choose one of: hl-bound")
    assert not any(tmp_path.iterdir())


def test_write_atomic_leaves_nothing_on_failure(tmp_path) -> None:
    target = tmp_path / "x.csv"

    def fail(path):
        path.write_text("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_atomic(target, fail)
    assert not any(tmp_path.iterdir())
    write_atomic(target, lambda path: path.write_text("ok"))
    assert target.read_text() == "ok" and [p.name for p in tmp_path.iterdir()] == ["x.csv"]
