"""Figures. Each function takes data (and optionally an ``ax``) and returns a Figure."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dao_abm.ensemble.fans import BANDS, HEADLINE
from dao_abm.figures import figure_of, new_figure
from dao_abm.layout import dao_layout


def welfare_over_rounds(metrics: pd.DataFrame, ax: Axes | None = None,
                        label: str | None = None) -> Figure:
    """Welfare and OPT (left axis) and OPT/welfare (right axis) per round."""
    fig, ax = figure_of(ax)
    ax.plot(metrics["round"], metrics["welfare"], label=f"welfare{_tag(label)}")
    ax.plot(metrics["round"], metrics["optimal_welfare"], "--", color="grey",
            label=f"optimal welfare{_tag(label)}")
    ax.set_xlabel("round")
    ax.set_ylabel("welfare")
    right = ax.twinx()
    right.plot(metrics["round"], metrics["approximation_ratio"].replace(np.inf, np.nan),
               color="tab:red", alpha=0.7, label="OPT / welfare")
    right.set_ylabel("approximation ratio", color="tab:red")
    ax.legend(loc="lower left", fontsize="small")
    ax.set_title("Welfare and approximation ratio")
    return fig


def truthfulness_over_rounds(metrics: pd.DataFrame, ax: Axes | None = None,
                             label: str | None = None) -> Figure:
    """Truthful share, mean bid/value ratio and, where measured, the share of pivotal members
    whose bid gets them what bidding their value would, per round."""
    fig, ax = figure_of(ax)
    ax.plot(metrics["round"], metrics["truthful_share"], label=f"truthful share{_tag(label)}")
    ax.plot(metrics["round"], metrics["mean_bid_ratio"], label=f"mean bid / value{_tag(label)}")
    pivotal = metrics[["round", "pivotal_truthful_share"]].dropna() if (
        "pivotal_truthful_share" in metrics) else ()
    if len(pivotal):
        ax.plot(pivotal["round"], pivotal["pivotal_truthful_share"], lw=0.8, alpha=0.8,
                label=f"pivotal members bidding as well as truthful{_tag(label)}")
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("round")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    ax.set_title("What emerges: truthful bids, and bids that do as well as truthful")
    return fig


def fan_over_rounds(table: pd.DataFrame, metric: str, ax: Axes | None = None) -> Figure:
    """One metric across sessions per recorded round: the median and the bands holding 50%
    and 90% of the sessions. ``table``: tidy quantiles (``dao_abm.ensemble.fans.fan_table``)."""
    fig, ax = figure_of(ax)
    rows = table[table["metric"] == metric].dropna(subset=["median"])
    for (label, low, high), alpha in zip(BANDS, (0.18, 0.35), strict=True):
        ax.fill_between(rows["round"], rows[low], rows[high], color="tab:blue", alpha=alpha,
                        lw=0, label=label)
    ax.plot(rows["round"], rows["median"], color="tab:blue", lw=1.6, label="median")
    ax.set_xlabel("round")
    ax.set_title(HEADLINE.get(metric, metric), fontsize="medium")
    return fig


def fans_over_rounds(table: pd.DataFrame, sessions: int) -> Figure:
    """``fan_over_rounds`` of every headline metric in ``table``, one panel each."""
    metrics = [m for m in HEADLINE if m in set(table["metric"])]
    cols = min(3, max(1, len(metrics)))
    rows = -(-max(1, len(metrics)) // cols)
    fig, axes = new_figure(cols, rows, size=(4.2 * cols, 3.2 * rows))
    for ax, metric in zip(axes, metrics, strict=False):
        fan_over_rounds(table, metric, ax=ax)
    for ax in axes[len(metrics):]:
        ax.set_axis_off()
    if metrics:
        axes[0].legend(fontsize="small")
    fig.suptitle(f"Across {sessions} sessions: median and the bands holding 50% and 90%")
    return fig


def bids_against_values(values: np.ndarray, bids: np.ndarray, dao_sizes: np.ndarray,
                        ax: Axes | None = None, max_points: int = 20_000) -> Figure:
    """Scatter of final bids against values, coloured by DAO size. Above ``max_points``
    members an evenly spaced sample is drawn (said in the title)."""
    fig, ax = figure_of(ax, (5.5, 5))
    v = values.mean(axis=-1) if values.ndim > 1 else values
    b = bids.mean(axis=-1) if bids.ndim > 1 else bids
    step = max(1, -(-v.size // max_points))
    v, b, dao_sizes = v[::step], b[::step], dao_sizes[::step]
    points = ax.scatter(v, b, c=dao_sizes, s=6, cmap="viridis", alpha=0.6, rasterized=True)
    top = float(max(v.max(initial=0), b.max(initial=0))) or 1.0
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="truthful")
    ax.set_xlabel("value")
    ax.set_ylabel("bid")
    fig.colorbar(points, ax=ax, label="DAO size")
    ax.legend(fontsize="small", loc="upper left")
    sample = f", every {step}th member" if step > 1 else ""
    ax.set_title(f"Bids against values (last round{sample})")
    return fig


def affinity_graph(graph: nx.Graph, labels: np.ndarray, values: np.ndarray | None = None,
                   *, seed: int = 0, ax: Axes | None = None) -> Figure:
    """The affinity graph, nodes coloured by DAO and sized by value."""
    fig, ax = figure_of(ax, (6, 6))
    pos = nx.get_node_attributes(graph, "pos")
    if len(pos) != graph.number_of_nodes():
        pos = dao_layout(graph, labels, seed=seed)
    nodes = np.array(list(graph.nodes()))
    size = 12.0
    if values is not None:
        v = values.mean(axis=-1) if values.ndim > 1 else values
        size = 4 + 40 * v[nodes] / (v[nodes].max() or 1.0)
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.15, width=0.4)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=size, node_color=labels[nodes] % 20,
                           cmap="tab20", linewidths=0)
    ax.set_axis_off()
    ax.set_title(f"Affinity graph: {len(np.unique(labels[nodes]))} DAOs")
    return fig


def _tag(label: str | None) -> str:
    return f" ({label})" if label else ""


def over_sessions(metrics: pd.DataFrame, columns: list[str], ax: Axes | None = None) -> Figure:
    """Each of ``columns`` per round: the mean over sessions and the sessions' 5–95% band
    (``metrics``: one row per session and round, as an ensemble's metrics.csv)."""
    fig, ax = figure_of(ax)
    by_round = metrics.groupby("round")
    for column in columns:
        mean = by_round[column].mean()
        low, high = by_round[column].quantile(0.05), by_round[column].quantile(0.95)
        line, = ax.plot(mean.index, mean.to_numpy(), label=f"{column} (mean)")
        ax.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=line.get_color(),
                        alpha=0.2, lw=0)
    ax.set_xlabel("round")
    ax.legend(fontsize="small")
    ax.set_title(f"Over {metrics['session'].nunique() if 'session' in metrics else 1} "
                 "sessions: mean and 5–95% band")
    return fig
