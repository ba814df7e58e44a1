"""The paper experiments by name: how each is run, plotted and summarised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from dao_abm.errors import DaoAbmError
from dao_abm.paper import (
    appendix_a,
    banchio_skrzypacz,
    constitution,
    constitution_plot,
    dao_collusion,
    dao_private_values,
    equilibria,
    hl_bound,
    theorem_3_4,
    unit_demand,
)


@dataclass(frozen=True)
class Experiment:
    """One experiment of the paper.

    Attributes:
        name: the command-line name, also the stem of its PNG and CSV.
        title: one line saying what it reproduces.
        run: ``run(*, seed: int | None, quick: bool) -> DataFrame``, a pure function; seed
            None means the experiment's default seed, quick shrinks sizes for tests.
        plot: ``plot(frame) -> Figure``.
        key_numbers: ``key_numbers(frame) -> DataFrame``, the short table the CLI prints.
    """

    name: str
    title: str
    run: Callable[..., pd.DataFrame]
    plot: Callable[[pd.DataFrame], Figure]
    key_numbers: Callable[[pd.DataFrame], pd.DataFrame]


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (
    Experiment("hl-bound",
               "Theorem 3.2: Mechanism 1 within H_ℓ; random sampling and an adversarial search",
               hl_bound.run, hl_bound.plot, hl_bound.key_numbers),
    Experiment("theorem-3-4",
               "Theorem 3.4: both instances of the proof; nothing truthful beats H_{n−1} − (n−1)δ",
               theorem_3_4.run, theorem_3_4.plot, theorem_3_4.key_numbers),
    Experiment("appendix-a",
               "Appendix A: VCG + equal split is not truthful; cycling depends on the tie policy",
               appendix_a.run, appendix_a.plot, appendix_a.key_numbers),
    Experiment("unit-demand", "Section 4.2: unit-demand members, truthful means factor n",
               unit_demand.run, unit_demand.plot, unit_demand.key_numbers),
    Experiment("constitution", "ConstitutionDAO: the crowdfund against Mechanism 1",
               constitution.run, constitution_plot.plot, constitution.key_numbers),
    Experiment("bne-first-price",
               "Bayes–Nash equilibrium of first price (n = 2, 3, 5, 10) learned by SODA",
               equilibria.run_first_price, equilibria.plot, equilibria.key_numbers),
    Experiment("bne-reserve",
               "First price with reserve 1/2: the learned equilibrium against the closed form",
               equilibria.run_reserve, equilibria.plot, equilibria.key_numbers),
    Experiment("bne-all-pay", "All-pay: the learned equilibrium against the closed form",
               equilibria.run_all_pay, equilibria.plot, equilibria.key_numbers),
    Experiment("dao-private-values",
               "DAOs under private values: bid functions learned by DAO size, three mechanisms",
               dao_private_values.run, dao_private_values.plot, dao_private_values.key_numbers),
    Experiment("banchio-skrzypacz",
               "Banchio & Skrzypacz (2022): Q-learners collude under first price, not second",
               banchio_skrzypacz.run, banchio_skrzypacz.plot, banchio_skrzypacz.key_numbers),
    Experiment("dao-collusion",
               "Q-learning members in two DAOs: Mechanism 1 against crowdfund and free-rider",
               dao_collusion.run, dao_collusion.plot, dao_collusion.key_numbers),
)}


def select(name: str) -> list[Experiment]:
    """The experiment called ``name``, or all of them for ``"all"`` (DaoAbmError listing the
    names otherwise)."""
    if name == "all":
        return list(EXPERIMENTS.values())
    try:
        return [EXPERIMENTS[name]]
    except KeyError:
        raise DaoAbmError(
            f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}, all"
        ) from None
