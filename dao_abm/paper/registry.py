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
        module: the module of ``dao_abm.paper`` with its ``run`` and ``key_numbers``.
        plot_module: the module with its ``plot``, when not ``module``.

    Its functions, imported from those modules when first used:

    - ``run(*, seed: int | None, quick: bool) -> DataFrame``, a pure function; seed None
      means the experiment's default seed, quick shrinks sizes for tests;
    - ``plot(frame) -> Figure``;
    - ``key_numbers(frame) -> DataFrame``, the short table the CLI prints.
    """

    name: str
    title: str
    module: str
    plot_module: str | None = None

    @property
    def run(self) -> Callable[..., pd.DataFrame]:
        return _function(self.module, "run")

    @property
    def plot(self) -> Callable[[pd.DataFrame], Figure]:
        return _function(self.plot_module or self.module, "plot")

    @property
    def key_numbers(self) -> Callable[[pd.DataFrame], pd.DataFrame]:
        return _function(self.module, "key_numbers")


def _function(module: str, name: str) -> Callable:
    return getattr(import_module(f"dao_abm.paper.{module}"), name)


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
    Experiment("constitution", "ConstitutionDAO: the crowdfund against Mechanism 1",
               "constitution", plot_module="constitution_plot"),
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
