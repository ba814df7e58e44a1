"""Scenario loading: every shipped scenario validates; bad keys name their dotted path."""

from __future__ import annotations

from pathlib import Path

import pytest

from dao_abm.errors import DaoAbmError
from dao_abm.scenario import (
    apply_override,
    describe_keys,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)

MODELS = sorted(Path(__file__).resolve().parents[1].joinpath("models").glob("*.toml"))


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_shipped_scenarios_validate_and_say_what_they_model(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert path.read_text().startswith("# What this models:")


def test_round_trip_through_toml(tmp_path: Path) -> None:
    scenario = load_scenario(MODELS[0], ["learning.rule=logit", "rounds=7"])
    write_scenario(scenario, tmp_path / "s.toml")
    again = load_scenario(tmp_path / "s.toml")
    assert scenario_to_dict(again) == scenario_to_dict(scenario)
    assert again.learning.rule == "logit" and again.rounds == 7


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"learning": {"rule": "bestresponse"}}, "learning.rule: 'bestresponse' is not one of"),
        ({"learning": {"speed": 1}}, "learning.speed: unknown key"),
        ({"population": {"n_members": 0}}, "population.n_members: 0 must be >= 1"),
        ({"population": {"n_members": 2.5}}, "population.n_members: expected an integer"),
        ({"values": {"sigma": -1.0}}, "values.sigma: -1.0 must be >= 0"),
        ({"values": {"high": float("nan")}}, "values.high: expected a finite number"),
        ({"values": {"low": 2.0, "high": 1.0}}, "values.high: must be > values.low"),
        ({"mechanism": {"preset": "vickrey"}}, "mechanism: unknown mechanism 'vickrey'"),
        ({"mechanism": {"upper": "english"}}, "mechanism: unknown upper mechanism 'english'"),
        ({"daos": {"method": "sizes", "sizes": [2, 2]}}, "daos.sizes: sizes sum to 4"),
        ({"graph": {"kind": "none"}}, "daos.method: 'louvain' needs an affinity graph"),
        ({"population": {"valuation": "single", "n_items": 3}}, "population.n_items"),
        ({"population": {"individuals": [-1.0]}}, "population.individuals[0]"),
        ({"values": {"redraw": "yes"}}, "values.redraw: expected true or false"),
        ({"rounds": 0}, "rounds: 0 must be >= 1"),
        ({"graph": []}, "graph: expected a table"),
        ({"daos": {"method": "random-sizes", "min_size": 9, "max_size": 3}},
         "daos.max_size: method 'random-sizes' needs min_size <= max_size"),
        ({"population": {"n_items": 2, "valuation": "additive", "individuals": [[1.0]]}},
         "population.individuals[0]: has 1 item values, expected 2"),
        ({"population": {"n_items": 2, "valuation": "additive", "individuals": [3.0]}},
         "population.individuals[0]: expected a list of 2 item values"),
        ({"values": {"distribution": "empirical"}}, "values.amounts_csv: required"),
        ({"graph": {"kind": "file"}}, "graph.path: required"),
        ({"daos": {"method": "csv"}}, "daos.method: 'csv' needs population.members_csv"),
        ({"graph": {"kind": "none"}, "daos": {"method": "sizes", "sizes": [300],
                                              "reform": True}}, "daos.reform:"),
        ({"daos": {"method": "sizes"}}, "daos.sizes: required"),
        ({"daos": {"method": "sizes", "sizes": [0, 300]}}, "daos.sizes[0]: 0 must be >= 1"),
        ({"metrics": {"epsilon_every": 0}}, "metrics.epsilon_every: 0 must be >= 1"),
        ({"metrics": {"every": 0}}, "metrics.every: 0 must be >= 1"),
        ({"sessions": 0}, "sessions: 0 must be >= 1"),
        ({"sessions": 2.5}, "sessions: expected an integer"),
        ({"sessions": 2, "daos": {"reform": True}},
         "sessions: ensembles (sessions > 1) do not support daos.reform"),
        ({"learning": {"fraction": 1.5}}, "learning.fraction: 1.5 must be <= 1"),
        ({"population": {"individuals": ["big"]}}, "population.individuals[0]: expected a number"),
        ({"daos": {"reform_rule": "best"}}, "daos.reform_rule: 'best' is not one of"),
        ({"daos": {"reform_rule": 1}}, "daos.reform_rule: expected"),
        ({"daos": {"reform_rule": ""}}, "daos.reform_rule: '' is not one of"),
        ({"learning": {"initial": "shaded", "initial_alpha": 2.0}},
         "learning.initial_alpha: must be <= 1.5, the largest point"),
        ({"population": {"n_members": 100_000_000_000}},
         "population.n_members: 100000000000 members need at least"),
    ],
)
def test_bad_values_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(DaoAbmError) as err:
        scenario_from_dict(data, source="bad.toml")
    assert str(err.value).startswith("bad.toml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(DaoAbmError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("rounds = = 3\n")
    with pytest.raises(DaoAbmError, match="invalid TOML"):
        load_scenario(broken)


def test_override_parses_toml_literals() -> None:
    data: dict = {}
    apply_override(data, "population.n_members=40")
    apply_override(data, "learning.rule=logit")
    apply_override(data, "values.redraw=true")
    assert data == {"population": {"n_members": 40}, "learning": {"rule": "logit"},
                    "values": {"redraw": True}}
    with pytest.raises(DaoAbmError, match="expected key=value"):
        apply_override(data, "rounds")


def test_every_key_is_documented() -> None:
    rows = describe_keys()
    assert len(rows) > 50
    assert all(doc for _, _, doc in rows)


def test_a_scenario_too_big_for_memory_is_refused_with_its_size(monkeypatch) -> None:
    """1,000 members, one item, 41 grid points: 8 B x 1,000 x (12 arrays + 42 candidates)
    = 432 KB of member arrays; the default block model has 1000·999/2 · (0.1/8 + 0.002·7/8)
    = 7,117.9 expected edges, at 155 B each plus 220 B per node: 1.3 MB. In all 1.8 MB."""
    from dao_abm.scenario import checks

    data = {"population": {"n_members": 1000}}
    parts = checks.memory_estimate(scenario_from_dict(data))
    assert parts["member arrays"] == 432_000
    assert parts["affinity graph"] == pytest.approx(220_000 + 155 * 499_500 * 0.01425)
    monkeypatch.setattr(checks, "machine_memory", lambda: 1e6)
    with pytest.raises(DaoAbmError) as err:
        scenario_from_dict(data, source="big.toml")
    assert str(err.value) == (
        "big.toml: population.n_members: 1000 members need at least 1.8 MB of memory "
        "(member arrays 432.0 KB, affinity graph 1.3 MB) but this machine has 1.0 MB")
    monkeypatch.setattr(checks, "machine_memory", lambda: 2e6)
    scenario_from_dict(data)
    monkeypatch.setattr(checks, "machine_memory", lambda: None)  # the OS does not say
    scenario_from_dict({"population": {"n_members": 100_000_000_000}})
