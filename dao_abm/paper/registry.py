"""The paper experiments by name: how each is run, plotted and summarised.

An experiment names its module rather than importing it, so listing the experiments (``dao-abm
paper --help``) imports none of them; its functions are imported when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from dao_abm.errors import DaoAbmError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Experiment:
    """One experiment of the paper.

    Attributes:
        name: the command-line name, also the stem of its PNG and CSV.
        title: one line saying what it reproduces.
        module: its module of ``dao_abm.paper``.
        run_fn, plot_fn, key_numbers_fn: where its functions are: a name in ``module``, or
            ``other_module.name`` for one in another module of ``dao_abm.paper``.

    Its functions, imported when first used:

    - ``run(*, seed: int | None, quick: bool) -> DataFrame``, a pure function; seed None
      means the experiment's default seed, quick shrinks sizes for tests;
    - ``plot(frame) -> Figure``;
    - ``key_numbers(frame) -> DataFrame``, the short table the CLI prints.
    """

    name: str
    title: str
    module: str
    run_fn: str = "run"
    plot_fn: str = "plot"
    key_numbers_fn: str = "key_numbers"

    @property
    def run(self) -> Callable[..., pd.DataFrame]:
        return self._function(self.run_fn)

    @property
    def plot(self) -> Callable[[pd.DataFrame], Figure]:
        return self._function(self.plot_fn)

    @property
    def key_numbers(self) -> Callable[[pd.DataFrame], pd.DataFrame]:
        return self._function(self.key_numbers_fn)

    def _function(self, where: str) -> Callable:
        module, _, name = where.rpartition(".")
        return getattr(import_module(f"dao_abm.paper.{module or self.module}"), name)


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (
    Experiment("hl-bound",
               "Theorem 3.2: Mechanism 1 within H_ℓ; random sampling and an adversarial search",
               "hl_bound"),
    Experiment("theorem-3-4",
               "Theorem 3.4: both instances of the proof; nothing truthful beats H_{n−1} − (n−1)δ",
               "theorem_3_4"),
    Experiment("appendix-a",
               "Appendix A: VCG + equal split is not truthful; cycling depends on the tie policy",
               "appendix_a"),
    Experiment("unit-demand", "Section 4.2: unit-demand members, truthful means factor n",
               "unit_demand"),
    Experiment("constitution", "ConstitutionDAO: the crowdfund against Mechanism 1, and the "
               "crowdfund's learning by revision protocol",
               "constitution", plot_fn="constitution_plot.plot"),
    Experiment("constitution-private-values",
               "ConstitutionDAO under private values: pledge functions learned by SODA under "
               "crowdfund and Mechanism 1, and whether the DAO still wins",
               "constitution_private_values"),
    Experiment("emergence", "What emerges under Mechanism 1 (the demo): tie policies x "
               "protocols x seeds, fixed and redrawn values",
               "emergence"),
    Experiment("bne-first-price",
               "Bayes–Nash equilibrium of first price (n = 2, 3, 5, 10) learned by SODA",
               "equilibria", run_fn="run_first_price"),
    Experiment("bne-reserve",
               "First price with reserve 1/2: the learned equilibrium against the closed form",
               "equilibria", run_fn="run_reserve"),
    Experiment("bne-all-pay", "All-pay: the learned equilibrium against the closed form",
               "equilibria", run_fn="run_all_pay"),
    Experiment("dao-private-values",
               "DAOs under private values: bid functions learned by DAO size, three mechanisms",
               "dao_private_values"),
    Experiment("banchio-skrzypacz",
               "Banchio & Skrzypacz (2022): Q-learners collude under first price, not second "
               "(with fair-coin ties: the tie rule decides it)",
               "banchio_skrzypacz"),
    Experiment("dao-collusion",
               "Q-learning members in two DAOs, or a DAO against an individual: Mechanism 1 "
               "against crowdfund and split-the-bill",
               "dao_collusion"),
    Experiment("no-regret-truthful",
               "Hedge and EXP3 members, values redrawn: truthful under Mechanism 1 by DAO "
               "size, free riding under crowdfund",
               "no_regret_truthful"),
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
