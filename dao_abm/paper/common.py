"""Helpers the paper experiments share: harmonic numbers, figure set-up, scenario paths."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dao_abm.scenario.bundled import bundled_folder

#: The bundled scenarios (the source tree's ``models/``, shipped as package data).
MODELS = bundled_folder()


def harmonic(n: int | np.ndarray) -> np.ndarray:
    """H_n = Σ_{i=1}^{n} 1/i for each entry of ``n`` (H_0 = 0), summed from 1 upwards."""
    n = np.asarray(n, dtype=np.int64)
    table = np.concatenate(([0.0], np.cumsum(1.0 / np.arange(1, int(n.max(initial=0)) + 1))))
    return table[n]


def new_figure(ncols: int = 1, nrows: int = 1, *, size: tuple[float, float] = (7, 4)
               ) -> tuple[Figure, np.ndarray]:
    """A constrained-layout Figure (not registered with pyplot) and its axes, flat."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def figure_of(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> tuple[Figure, Axes]:
    """``ax``'s figure, or a new one-panel Figure."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(size=size)
    return fig, axes[0]


def seed_overrides(seed: int | None, quick_rounds: int | None) -> list[str]:
    """``--set``-style overrides for a scenario run: the seed and, if quick, the rounds."""
    out = []
    if seed is not None:
        out.append(f"seed={seed}")
    if quick_rounds is not None:
        out.append(f"rounds={quick_rounds}")
    return out
