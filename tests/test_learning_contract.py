"""The learning-rule contract: every registered rule passes one test class (Axelrod style);
every rule parameter's bad values are rejected with its dotted key; bandit rules never read
the payoffs of options they did not play; a rule registered from outside the package runs
from a scenario."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import get_type_hints

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dao_abm.deviations import Market, payoffs
from dao_abm.errors import DaoAbmError
from dao_abm.learning import FEEDBACK, LEARNING_RULES, check_params, dynamics, observe
from dao_abm.mechanisms import Groups, TwoLevelMechanism
from dao_abm.model.model import DaoAuctionModel
from dao_abm.scenario import describe_keys, scenario_from_dict

FIRST_PRICE = TwoLevelMechanism("wtp", "first-price", "max-equal-split")
RULES = LEARNING_RULES.names()
GRID = np.arange(21) / 20
ROOT = Path(__file__).resolve().parents[1]


def setups():
    rng = np.random.default_rng(0)
    groups = Groups.from_sizes([3, 2, 1])
    yield "single", Market("dao-vickrey", groups), rng.random(6), rng.random(6)
    yield "additive", Market("split-the-bill", groups, "additive"), rng.random((6, 2)), \
        np.ones((6, 2))
    yield "unit-demand", Market("grand-bundle", groups, "unit-demand"), rng.random((6, 2)), \
        rng.random((6, 2))
    yield "shading", Market(FIRST_PRICE, Groups.from_sizes([1, 1, 1])), \
        rng.random((500, 3)), np.ones(3)


SETUPS = list(setups())


def data_for(rule, values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Bandit and full feedback see this round's values only: one sample of the samples."""
    shading = values.ndim == start.ndim + 1
    return values[:1] if shading and rule.mode != "expected" else values


def run(rule, setup, seed, rounds=4, protocol="inertia"):
    _, market, values, start = setup
    return list(dynamics(market, data_for(rule, values, start), start, rule=rule,
                         protocol=protocol, rounds=rounds, rng=np.random.default_rng(seed),
                         grid=GRID, fraction=0.5))


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("setup", SETUPS, ids=[s[0] for s in SETUPS])
class TestContract:
    def test_shapes_and_gains(self, name, setup):
        _, market, _, start = setup
        for state in run(LEARNING_RULES[name](), setup, 1):
            assert state.strategies.shape == start.shape
            assert state.gain.shape == state.changed.shape == (market.n_members,)
            assert (state.gain >= 0).all()
            assert state.regret is None or state.regret.shape == (market.n_members,)
            assert not (state.changed & ~state.revising).any()

    def test_reproducible_and_reset_forgets(self, name, setup):
        rule = LEARNING_RULES[name]()
        a, b = run(rule, setup, 5), run(rule, setup, 5)  # the same instance, reset by dynamics
        c = run(rule.clone(), setup, 5)
        for x, y, z in zip(a, b, c, strict=True):
            assert_array_equal(x.strategies, y.strategies)
            assert_array_equal(x.strategies, z.strategies)
            assert_array_equal(x.gain, y.gain)

    def test_every_feedback_mode_it_declares_runs(self, name, setup):
        for mode in LEARNING_RULES[name].feedback:
            states = run(LEARNING_RULES[name](feedback=mode), setup, 2, rounds=2)
            assert np.isfinite(states[-1].strategies).all()


@pytest.mark.parametrize("name", RULES)
def test_rule_declares_itself(name):
    cls = LEARNING_RULES[name]
    assert cls.name == name and set(cls.feedback) <= set(FEEDBACK)
    params = cls.Params()
    assert check_params(params) is params  # the defaults are valid
    for f in dataclasses.fields(params):
        assert f.metadata["doc"].startswith(f"{name}: ")  # the README table names the rule
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, f.name, f.default)
    keys = {key for key, _, _ in describe_keys()}
    assert {f"learning.params.{f.name}" for f in dataclasses.fields(params)} <= keys


def test_registry_names_and_errors():
    assert set(RULES) >= {"best-response", "logit", "hedge", "exp3", "fictitious-play",
                          "q-learning"}
    with pytest.raises(ValueError, match="choose one of"):
        LEARNING_RULES["sarsa"]
    with pytest.raises(ValueError, match=r"learning\.feedback"):
        LEARNING_RULES["exp3"](feedback="full")


def bad_values(f: dataclasses.Field, kind: type) -> list:
    """Values the field's bounds, choices or type forbid."""
    meta, bad = f.metadata, ["text" if kind is not str else 3]
    if "min" in meta:
        bad.append(meta["min"] - 0.5)
    if "max" in meta:
        bad.append(meta["max"] + 0.5)
    if "gt" in meta:
        bad += [meta["gt"], meta["gt"] - 1.0]
    if "lt" in meta:
        bad.append(meta["lt"])
    if "choices" in meta:
        bad.append("no-such-choice")
    if kind is float:
        bad.append(float("nan"))
    return bad


PARAMS = [(name, f) for name in RULES for f in dataclasses.fields(LEARNING_RULES[name].Params)]


@pytest.mark.parametrize(("name", "f"), PARAMS, ids=[f"{n}.{f.name}" for n, f in PARAMS])
def test_bad_parameter_values_are_rejected_with_their_dotted_key(name, f):
    kind = get_type_hints(LEARNING_RULES[name].Params)[f.name]
    key = f"learning.params.{f.name}"
    for value in bad_values(f, kind):
        with pytest.raises(ValueError, match=re.escape(key)):
            LEARNING_RULES[name](**{f.name: value})
        if isinstance(value, float) and np.isnan(value):
            continue  # TOML has nan, but a dict from TOML reaches the same check
        data = {"learning": {"rule": name, "params": {f.name: value}}}
        with pytest.raises(DaoAbmError, match=rf"^scenario: {re.escape(key)}: "):
            scenario_from_dict(data)
    good = {"learning": {"rule": name, "params": {f.name: f.default}}}
    assert getattr(scenario_from_dict(good).learning.params, f.name) == f.default


def test_parameters_of_another_rule_are_refused():
    with pytest.raises(DaoAbmError, match=r"learning.params.eta: unknown key for rule 'logit'; "
                                          r"allowed: temperature"):
        scenario_from_dict({"learning": {"rule": "logit", "params": {"eta": 1.0}}})
    with pytest.raises(DaoAbmError, match=r"learning.feedback: 'full' is not one of bandit"):
        scenario_from_dict({"learning": {"rule": "exp3", "feedback": "full"}})


# --- bandit rules never read the payoffs of options they did not play -------------------


def reads_unplayed(cls, rounds: int = 6) -> bool:
    """Whether ``cls.learn`` reacts to the payoffs of options a member did not play.

    Two runs see identical feedback except that in the second every unplayed option's
    payoff is replaced by noise; a rule that learns from its realized payoff only (and the
    options' positions) makes the same choices, with the same random numbers, in both."""
    rng = np.random.default_rng(9)
    market = Market(FIRST_PRICE, Groups.from_sizes([2, 1, 1]))
    values, bids = rng.random(4), rng.random(4)
    runs = []
    for poison in (False, True):
        rule = cls()
        rule.reset(4, 1, grid=GRID, rng=rng)
        noise, draws, strategies, chosen = (np.random.default_rng(1), np.random.default_rng(2),
                                            bids, [])
        for _ in range(rounds):
            fb, _ = observe("full", market, values, strategies, GRID)
            utilities = fb.utilities
            if poison:
                unplayed = np.ones(utilities.shape, bool)
                np.put_along_axis(unplayed, fb.played[..., None], False, axis=-1)
                utilities = np.where(unplayed, noise.normal(size=utilities.shape), utilities)
            choice = rule.learn(dataclasses.replace(fb, kind="bandit", utilities=utilities), draws)
            chosen.append(choice)
            picked = np.take_along_axis(fb.options, np.maximum(choice, 0)[..., None], -1)[..., 0]
            strategies = np.where(choice >= 0, picked, fb.strategies)[:, 0]
        runs.append(np.array(chosen))
    return not np.array_equal(*runs)


BANDIT = [name for name in RULES if "bandit" in LEARNING_RULES[name].feedback]


@pytest.mark.parametrize("name", BANDIT)
def test_bandit_rules_never_read_unplayed_payoffs(name):
    assert not reads_unplayed(LEARNING_RULES[name])
    market = Market("crowdfund", Groups.from_sizes([2, 1]))
    fb, table = observe("bandit", market, np.array([0.9, 0.4, 0.7]), np.array([0.3, 0.2, 0.5]),
                        GRID)
    assert fb.utilities is None and table is None  # never even computed


def test_the_unplayed_payoff_check_catches_a_rule_that_peeks():
    from dao_abm.learning.rules.hedge import Hedge

    class Peeking(Hedge):  # Hedge learns from every option's payoff: full feedback
        feedback = ("bandit",)

    assert reads_unplayed(Peeking)
    assert set(BANDIT) == {"exp3", "q-learning"}


# --- a rule from outside the package, from the README -----------------------------------


def readme_rule_source() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("Adding a rule is one file", 1)[1].split("```py\n", 1)[1].split("```")[0]


def test_a_rule_registered_outside_the_package_runs_from_a_scenario():
    namespace: dict = {}
    exec(compile(readme_rule_source(), "README.md", "exec"), namespace)
    try:
        assert "greedy" in LEARNING_RULES.names()
        assert ("learning.params.noise", "0.0",
                "greedy: chance of a uniformly random option") in describe_keys()
        data = {"rounds": 6, "population": {"n_members": 24},
                "graph": {"kind": "none"}, "daos": {"method": "sizes", "sizes": [6] * 4},
                "mechanism": {"preset": "split-the-bill"},
                "learning": {"rule": "greedy", "protocol": "simultaneous",
                             "params": {"noise": 0.0}}}
        scenario = scenario_from_dict(data)
        assert scenario.learning.params == namespace["Greedy"].Params(noise=0.0)
        model = DaoAuctionModel(scenario)
        for _ in range(5):
            model.step()
        before = model.strategies.copy()
        model.step()  # everyone moves to the option that paid best against the last profile
        table = payoffs(model.learner.market, model.values, before, model.learner.grid)
        best = table.options[:, 0][np.arange(24), table.utilities[:, 0].argmax(axis=-1)]
        assert_array_equal(model.strategies, best)
        assert not np.array_equal(before, best)
        with pytest.raises(DaoAbmError, match=r"learning.params.noise: 2.0 must be <= 1.0"):
            scenario_from_dict(data | {"learning": data["learning"] | {"params": {"noise": 2.0}}})
    finally:
        LEARNING_RULES.remove("greedy")
    assert "greedy" not in LEARNING_RULES.names()


@pytest.mark.parametrize(("learning", "redraw", "message"), [
    ({"grid_scale": "absolute"}, True, "learning.grid_scale: 'absolute' bids need"),
    ({"grid_low": 2.0}, False, "learning.grid_high: must be > learning.grid_low"),
    ({"grid": [0.1, -0.2]}, False, r"learning.grid\[1\]: -0.2 must be >= 0"),
    ({"grid_points": 1}, False, "learning.grid_points: 1 must be >= 2"),
])
def test_bad_grids_are_refused(learning, redraw, message):
    with pytest.raises(DaoAbmError, match=message):
        scenario_from_dict({"learning": learning, "values": {"redraw": redraw}})


def test_the_scenario_grid_reaches_the_rule():
    data = {"rounds": 2, "population": {"n_members": 2}, "graph": {"kind": "none"},
            "daos": {"method": "singletons"}, "values": {"distribution": "uniform",
                                                        "low": 0.99, "high": 1.0},
            "mechanism": {"preset": "dao-vickrey", "upper": "first-price"},
            "learning": {"rule": "q-learning", "protocol": "simultaneous",
                         "grid_scale": "absolute", "grid": [0.05, 0.5, 0.95],
                         "grid_value": False}}
    model = DaoAuctionModel(scenario_from_dict(data))
    model.step()
    model.step()
    assert set(model.strategies) <= {0.05, 0.5, 0.95}
    assert model.learner.rule.q.shape == (2, 1, 1, 3)


@pytest.mark.parametrize("rule", ["hedge", "q-learning"])
def test_with_redrawn_values_epsilon_is_over_samples_even_when_the_rule_sees_one_round(rule):
    """Hedge (full) and Q-learning (bandit) learn from this round's values only; the gain the
    run reports on epsilon rounds is still the shading grid's, in mean utility over
    learning.samples fresh profiles: it matches a table recomputed from the same draws."""
    data = {"rounds": 4, "population": {"n_members": 12}, "graph": {"kind": "none"},
            "daos": {"method": "sizes", "sizes": [4, 4, 2, 2]}, "values": {"redraw": True},
            "metrics": {"epsilon_every": 2},
            "learning": {"rule": rule, "protocol": "simultaneous", "samples": 16,
                         "strategy": "shading"}}
    model = DaoAuctionModel(scenario_from_dict(data))
    learner = model.learner
    strategies = model.strategies.copy()
    draw = learner.population.draw  # the samples come from the learning stream
    rng_copy = np.random.default_rng()
    rng_copy.bit_generator.state = model.learning_rng.bit_generator.state
    revision = learner.revise(model.values, strategies, np.ones(12, bool), rng=model.learning_rng,
                              round_index=0)
    assert np.isfinite(revision.gain).all() and (revision.gain >= 0).all()
    learner.rule.reset(12, 1, grid=learner.grid, rng=rng_copy)
    learner.rule.step(learner.market, model.values[None], strategies,
                      revising=np.ones(12, bool), rng=rng_copy)
    want = payoffs(learner.market, draw(rng_copy, size=16), strategies, learner.grid).gain
    np.testing.assert_allclose(revision.gain, want)
    later = learner.revise(model.values, strategies, np.ones(12, bool), rng=model.learning_rng,
                           round_index=1)
    assert np.isnan(later.gain).all()
