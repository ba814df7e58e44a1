"""Q-learning sessions (``dao_abm.ensemble.qgame``): the compiled kernel equals the numpy
reference bit for bit, a hand-worked trace, the exploration schedule and session
independence (Banchio & Skrzypacz's findings: ``tests/test_paper.py``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dao_abm.cli import main
from dao_abm.ensemble import q_compiled, q_reference
from dao_abm.ensemble.kernel import kernel_game
from dao_abm.ensemble.qgame import QGame, start, tie_uniform
from dao_abm.ensemble.qsessions import QEnsemble
from dao_abm.mechanisms import Groups, member_values, resolve
from dao_abm.paper import banchio_skrzypacz as bs
from dao_abm.scenario import load_scenario

FIELDS = ("q", "greedy", "runner_up", "cursor", "revenue", "changes", "last_change", "t")


MECHANISMS = [("wtp", "max-equal-split"), ("sum", "equal-split-all"),
              ("sum", "proportional")]


@pytest.mark.parametrize("price", ["first", "second"])
@pytest.mark.parametrize(("values", "groups", "q_init", "mechanism"), [
    ([1.0, 1.0], None, "optimistic", MECHANISMS[0]),
    ([0.8, 1.0], [1, 0], 0.0, MECHANISMS[1]),  # the pair loop, bidder 1 in group 0
    ([1.0, 0.9], None, "optimistic", MECHANISMS[2]),  # two alone, not the pair loop
    ([1.0, 0.7, 0.9], None, 0.0, MECHANISMS[0]),
    ([1.0, 0.6, 0.8, 1.0, 0.5], [1, 0, 1, 0, 1], 0.0, MECHANISMS[0]),
    ([1.0, 0.6, 0.8, 1.0, 0.5], [1, 0, 1, 0, 1], "optimistic", MECHANISMS[1]),
    ([1.0, 0.6, 0.8, 1.0, 0.5, 0.7], [2, 0, 1, 0, 1, 2], 0.0, MECHANISMS[2]),
])
def test_compiled_kernel_equals_the_reference(price, values, groups, q_init, mechanism) -> None:
    """Tie-heavy: a coarse grid with 0, heavy exploration, and (q_init = 0) ties among
    Q-values; bidders alone (B&S) and in groups under the three sharing rules."""
    aggregation, sharing = mechanism
    game = QGame(values=values, grid=[0.0, 0.1, 0.3, 0.5, 0.7, 0.9], price=price, alpha=0.3,
                 gamma=0.9, epsilon=0.4, decay=0.0005, q_init=q_init, groups=groups,
                 aggregation=aggregation, sharing=sharing)
    a = start(game, 4000, range(7), seed=5)
    b = copy.deepcopy(a)
    q_reference.advance(game, a, 4000)
    for chunk in (1, 999, 3000):  # chunking changes nothing
        q_compiled.advance(game, b, chunk)
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.changes.sum() > 100 and (a.revenue > 0).all()


def test_game_holds_no_negative_zero() -> None:
    """The pair loop's branch-free reward (v - p)·1 + 0 equals v - p unless v - p = -0.0,
    which needs v = -0.0: QGame stores +0.0 instead (and refuses values that are not
    finite)."""
    game = QGame(values=[-0.0, 1.0], grid=[-0.0, 0.5])
    assert not np.signbit(game.values).any() and not np.signbit(game.grid).any()
    with pytest.raises(ValueError, match="finite"):
        QGame(values=[np.inf, 1.0], grid=[0.0, 0.5])


@pytest.mark.parametrize("name", ["dao-vickrey", "split-the-bill", "crowdfund"])
def test_a_period_settles_as_the_engine_does(name) -> None:
    """Price and rewards of a period equal the engine's (``mechanism.run``) on random
    profiles with ties, where the tie goes as the engine's does (to the lowest index).
    Sums added in another order may split a tie of group bids differently, so profiles
    whose top two sums are within 1e-9 are left out of the reward check."""
    mechanism = resolve(name)
    labels = np.array([1, 0, 1, 0, 1, 2])
    game = QGame(values=np.linspace(0.5, 1.0, 6), grid=[0.0, 0.2, 0.4, 0.6],
                 price=mechanism.upper.replace("-price", ""), groups=labels,
                 aggregation=mechanism.aggregation, sharing=mechanism.cost_sharing)
    rng = np.random.default_rng(0)
    bids = game.grid[rng.integers(4, size=(500, 6))]
    price, reward = q_reference.settle(game, bids, q_reference.group_bid(game, bids),
                                       np.zeros(500, dtype=np.int64))
    outcome = mechanism.run(bids, Groups.from_labels(labels), "single")
    group_bids = np.sort(q_reference.group_bid(game, bids), axis=1)
    sold = (outcome.winner.reshape(500) >= 0) & (
        (group_bids[:, -1] - group_bids[:, -2] > 1e-9) | (mechanism.aggregation == "wtp"))
    assert sold.mean() > 0.5
    np.testing.assert_allclose(price[sold], outcome.price.reshape(500)[sold], rtol=1e-12)
    engine_reward = member_values(np.broadcast_to(game.values, bids.shape), outcome) - (
        outcome.member_payments)
    np.testing.assert_allclose(reward[sold], engine_reward[sold], rtol=1e-12, atol=1e-12)


def test_hand_worked_trace() -> None:
    """No exploration, Q₀ = 0, α = γ = 1/2, bids {0.2, 0.6}, first price: both bid 0.2 (the
    first maximizer), tie; the winner w gets Q[0.2] = ½·0 + ½·(0.8 + ½·0) = 0.4."""
    game = QGame(values=[1.0, 1.0], grid=[0.2, 0.6], price="first", alpha=0.5, gamma=0.5,
                 epsilon=0.0, decay=0.0, q_init=0.0)
    state = start(game, 2, [0], seed=1)
    w = [int(tie_uniform(state.keys, t)[0] * 2) for t in (0, 1)]
    q_reference.advance(game, state, 1)
    expected = np.zeros((2, 2))
    expected[w[0], 0] = 0.4
    np.testing.assert_array_equal(state.q[0], expected)
    q_reference.advance(game, state, 1)  # still both at 0.2 (0.4 > 0 and 0 = 0 -> first)
    if w[1] == w[0]:  # ½·0.4 + ½·(0.8 + ½·0.4); the other's 0 stays
        expected[w[0], 0] = 0.7
    else:  # the new winner ½·0 + ½·(0.8 + 0); the old one ½·0.4 + ½·(0 + ½·0.4)
        expected[w[1], 0], expected[w[0], 0] = 0.4, 0.3
    np.testing.assert_allclose(state.q[0], expected, rtol=0, atol=1e-15)
    assert state.revenue[0] == pytest.approx(0.4)


def test_exploration_schedule() -> None:
    """Exploration periods are Bernoulli(ε_t): about Σ ε_t per agent (B&S: 125), with the
    right frequency early on, and uniform actions."""
    game = bs.game("first")
    state = start(game, 200_000, range(200), seed=2)
    n_agents = 400
    per_agent = state.event_time.size - n_agents  # minus the closing sentinels
    expected = game.exploration(200_000).sum()
    assert per_agent / n_agents == pytest.approx(expected, rel=0.02)
    early = (state.event_time < 1000).sum() / n_agents
    assert early == pytest.approx(game.exploration(1000).sum(), rel=0.1)
    real = state.event_time < 200_000
    counts = np.bincount(state.event_action[real], minlength=19) / real.sum()
    assert np.abs(counts - 1 / 19).max() < 0.01


def test_sessions_are_independent_of_which_run_beside_them() -> None:
    game = bs.game("second")
    whole = QEnsemble(game, 3000, range(5), seed=4, kernel=q_reference)
    part = QEnsemble(game, 3000, [3, 1], seed=4)
    whole.advance(3000)
    part.advance(3000)
    a, b = whole.metrics().set_index("session"), part.metrics().set_index("session")
    assert a.loc[[3, 1]].equals(b.loc[[3, 1]])
    assert not a.loc[1].equals(a.loc[2])


MODELS = Path(__file__).resolve().parents[1] / "models"


def test_kernel_game_fits_only_its_setting() -> None:
    game = kernel_game(load_scenario(MODELS / "banchio_skrzypacz.toml"))
    assert game.price == "first" and game.n_bidders == 2 and game.grid.size == 19
    np.testing.assert_allclose(game.initial_q(), 0.95 / 0.01, rtol=1e-14)  # (1 - 0.05)/(1 - γ)
    assert kernel_game(load_scenario(MODELS / "default.toml")) is None
    for change in ("learning.protocol='inertia'", "learning.grid_value=true",
                   "mechanism.upper='vcg'", "learning.params.state='last-price'"):
        assert kernel_game(load_scenario(MODELS / "banchio_skrzypacz.toml", [change])) is None


def test_dao_abm_run_uses_the_kernel_and_session_0_is_the_single_run(tmp_path, capsys) -> None:
    base = ["run", str(MODELS / "banchio_skrzypacz.toml"), "-q", "--rounds", "20000",
            "--set", "metrics.every=5000", "--set", "output.figures=false"]
    assert main([*base, "--set", "sessions=1", "--out", str(tmp_path / "one")]) == 0
    assert main([*base, "--set", "sessions=3", "--out", str(tmp_path / "three")]) == 0
    assert "3 sessions" in capsys.readouterr().out
    one = pd.read_csv(tmp_path / "one" / "metrics.csv")
    three = pd.read_csv(tmp_path / "three" / "metrics.csv")
    assert one["round"].tolist() == [5000, 10000, 15000, 20000] and len(three) == 12
    pd.testing.assert_frame_equal(three[three["session"] == 0].reset_index(drop=True), one)
    summary = json.loads((tmp_path / "three" / "summary.json").read_text())
    last = three[three["round"] == 20000]["revenue"]
    assert summary["metrics"]["revenue"]["final"]["mean"] == pytest.approx(last.mean())
    assert summary["sessions"] == 3 and 0 <= summary["converged_share"] <= 1


def test_the_kernel_run_reports_convergence_with_converge_rounds(tmp_path) -> None:
    """``learning.params.converge_rounds`` = K is the kernel's window: a session has
    converged when its greedy profile has not changed in its last K periods, and
    summary.json's share is the share of such sessions (``metrics.window`` plays no part).
    Six sessions of a fast-settling variant of B&S, K = 2,000: the share is computed from
    each session's last greedy change, and lies strictly between 0 and 1."""
    sets = ["learning.params.gamma=0.5", "learning.params.decay=0.001", "sessions=6",
            "rounds=5000", "metrics.every=1000", "metrics.window=1", "output.figures=false",
            "learning.params.converge_rounds=2000"]
    spec = load_scenario(MODELS / "banchio_skrzypacz.toml", sets)
    ensemble = QEnsemble(kernel_game(spec), 5000, range(6), seed=spec.seed)
    ensemble.advance(5000)
    quiet = ensemble.state.t - (ensemble.state.last_change + 1)  # periods since the last
    want = quiet >= 2000
    assert 0 < want.mean() < 1
    args = ["run", str(MODELS / "banchio_skrzypacz.toml"), "-q", "--out", str(tmp_path / "r")]
    assert main([*args, *(f"--set={s}" for s in sets)]) == 0
    metrics = pd.read_csv(tmp_path / "r" / "metrics.csv")
    last = metrics[metrics["round"] == 5000].sort_values("session")
    assert last["converged"].tolist() == want.tolist()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["converged_share"] == pytest.approx(want.mean())


@pytest.mark.parametrize("price", ["first", "second"])
@pytest.mark.parametrize(("values", "groups"), [([1.0, 1.0], None), ([1.0, 0.8, 0.9], [0, 1, 1])])
def test_lowest_index_ties_compiled_equals_reference(price, values, groups) -> None:
    """The engine's tie rule (``ties = "lowest"``) in both kernels, the pair loop included."""
    game = QGame(values=values, grid=[0.0, 0.1, 0.3, 0.5, 0.7, 0.9], price=price, alpha=0.3,
                 gamma=0.9, epsilon=0.4, decay=0.0005, q_init=0.0, groups=groups,
                 ties="lowest")
    a = start(game, 3000, range(5), seed=2)
    b = copy.deepcopy(a)
    q_reference.advance(game, a, 3000)
    q_compiled.advance(game, b, 3000)
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_lowest_index_ties_go_to_group_0() -> None:
    """No exploration, optimistic Q = 0.95/(1 - 0.99) = 95 on both of B&S's first two bids,
    first price: both bid 0.05 and tie; bidder 0 wins every time. Its Q[0.05] stays
    0.95·95 + 0.05·(0.95 + 0.99·95) = 95; the loser's drops to 0.95·95 + 0.05·0.99·95
    = 94.9525, so it moves to 0.10, which then wins outright."""
    game = QGame(values=[1.0, 1.0], grid=[0.05, 0.10], price="first", epsilon=0.0, decay=0.0,
                 ties="lowest")
    for kernel in (q_reference, q_compiled):
        state = start(game, 1, [0, 1, 2], seed=9)
        kernel.advance(game, state, 1)
        np.testing.assert_allclose(state.q[:, 0, 0], 95.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(state.q[:, 1, 0], 94.9525, rtol=0, atol=1e-12)
        assert (state.greedy == [[0, 1]] * 3).all()
    with pytest.raises(ValueError, match="unknown tie rule 'random'"):
        QGame(values=[1.0, 1.0], grid=[0.05, 0.10], ties="random")
