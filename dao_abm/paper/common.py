"""Helpers the paper experiments share: harmonic numbers, figure set-up, scenario paths."""

from __future__ import annotations

import numpy as np

from dao_abm.figures import figure_of, new_figure
from dao_abm.scenario.bundled import bundled_folder

__all__ = ["MODELS", "figure_of", "harmonic", "new_figure", "seed_overrides"]

#: The bundled scenarios (the source tree's ``models/``, shipped as package data).
MODELS = bundled_folder()


def harmonic(n: int | np.ndarray) -> np.ndarray:
    """H_n = Σ_{i=1}^{n} 1/i for each entry of ``n`` (H_0 = 0), summed from 1 upwards."""
    n = np.asarray(n, dtype=np.int64)
    table = np.concatenate(([0.0], np.cumsum(1.0 / np.arange(1, int(n.max(initial=0)) + 1))))
    return table[n]


def seed_overrides(seed: int | None, quick_rounds: int | None) -> list[str]:
    """``--set``-style overrides for a scenario run: the seed and, if quick, the rounds."""
    out = []
    if seed is not None:
        out.append(f"seed={seed}")
    if quick_rounds is not None:
        out.append(f"rounds={quick_rounds}")
    return out
