"""``dao-abm paper``: every experiment reproduces the paper's numbers (in ``--quick`` sizes).

hl-bound: Theorem 3.2 (OPT/welfare <= H_ℓ); theorem-3-4: the ratio H_{n−1} − (n−1)δ of
Theorem 3.4's instance; unit-demand: (n + ε)/(1 + ε) on the Lemma 4.8 instance; appendix-a:
learning under VCG + equal split does not settle on truthful bids, under Mechanism 1 it does;
constitution: the truthful auction's outcome equals a direct engine computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from dao_abm.cli import main
from dao_abm.cli.paper_cmd import write_atomic
from dao_abm.mechanisms import Groups, optimal_welfare, preset, welfare
from dao_abm.model.population import build_population
from dao_abm.paper import (
    EXPERIMENTS,
    appendix_a,
    constitution,
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
    assert set(frame["sizes"]) == set(hl_bound.SIZE_MODELS)
    assert set(frame["values"]) == set(hl_bound.VALUE_MODELS)
    assert (frame["max_ratio"] <= frame["h_ell"] * (1 + 1e-12)).all()  # Theorem 3.2
    assert (frame["mean_ratio"] >= 1.0).all()
    assert np.allclose(frame.loc[frame["ell"] == 1, "max_ratio"], 1.0)  # H_1 = 1
    assert (frame.loc[frame["ell"] >= 4, "max_ratio"] > 1.2).any()  # the bound is not idle


def test_hl_bound_is_reproducible_and_seeded() -> None:
    a = hl_bound.run(seed=3, quick=True)
    pd.testing.assert_frame_equal(a, hl_bound.run(seed=3, quick=True))
    assert not np.allclose(a["mean_ratio"], hl_bound.run(seed=4, quick=True)["mean_ratio"])


def test_theorem_3_4_ratio_is_h_minus_n_delta(frames) -> None:
    frame = frames["theorem-3-4"]
    assert list(frame.columns) == theorem_3_4.COLUMNS
    n, delta = frame["n"].to_numpy(), frame["delta"].to_numpy()
    big = n >= 3
    exact = np.array([sum(1 / i for i in range(1, k)) for k in n]) - (n - 1) * delta
    # exactly up to float rounding of the two sums
    np.testing.assert_allclose(frame["ratio"][big], exact[big], rtol=1e-13, atol=0)
    assert (frame.loc[~big, "ratio"] == 1.0).all()  # n = 2: G2 is the optimum
    assert (frame["winner"] == 2).all()  # WTP_1 = 1 − δ < 1 = WTP_2
    np.testing.assert_allclose(frame["wtp_g1"], 1 - delta, rtol=1e-13)
    assert (frame["welfare"] == 1.0).all()


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


def test_appendix_a_vcg_keeps_moving_and_mechanism_1_settles_truthful(frames) -> None:
    frame = frames["appendix-a"]
    assert list(frame.columns) == appendix_a.COLUMNS
    vcg = frame[frame["mechanism"] == "vcg-equal-split"]
    m1 = frame[frame["mechanism"] == "dao-vickrey"]
    assert vcg["truthful_share"].iloc[-1] < 1 or (vcg["max_gain"] > 1e-9).any()
    late = vcg[vcg["round"] > vcg["round"].max() / 2]
    assert (late["max_gain"] > 1e-9).any() and (late["truthful_share"] < 1).any()
    assert m1["truthful_share"].iloc[-1] == 1.0
    assert m1["max_gain"].iloc[-1] == 0.0
    table = appendix_a.key_numbers(frame).set_index("mechanism")
    assert table.loc["dao-vickrey", "settled_at"] < table.loc["dao-vickrey", "rounds"]


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
