"""New figures for the plotting functions: matplotlib ``Figure`` objects, never pyplot's.

A Figure made here belongs to no pyplot state and no backend: the caller saves it
(``fig.savefig``), and in Jupyter a returned Figure is drawn once, by the notebook's own
backend (which library code must therefore never replace, e.g. with ``matplotlib.use``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def new_figure(ncols: int = 1, nrows: int = 1, *, size: tuple[float, float] = (7, 4)
               ) -> tuple[Figure, np.ndarray]:
    """A constrained-layout Figure and its axes, flat."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def figure_of(ax: Axes | None, size: tuple[float, float] = (7, 4)) -> tuple[Figure, Axes]:
    """``ax``'s figure, or a new one-panel Figure."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(size=size)
    return fig, axes[0]
