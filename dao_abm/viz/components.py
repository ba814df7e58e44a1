"""The page's components: the affinity graph, bids against values, the metrics over rounds.

Each figure is built by a plain function of the model (``graph_figure``, ``bids_figure``,
``welfare_figure``, ``truthfulness_figure``) that reuses ``dao_abm.plots`` and returns a
Figure, so the pictures match a run folder's. The Solara components render them to PNG,
once per change of what they show (``solara.use_memo``), and subscribe to Mesa's
``update_counter`` so that Step, Play and Reset redraw them.

Layout: a force layout of the member graph is too slow to recompute for every new model
(seconds for a few hundred members), so members are drawn around their DAO: the DAOs are laid
out by a spring layout of the DAO graph (DAOs linked by their members' edges, weighted by the
number of edges) and each DAO's members fill a small disc around its position (a sunflower
pattern). Graphs whose nodes carry positions (``graph.kind = "geometric"``) keep them.
Graphs above ``MAX_GRAPH_NODES`` members are drawn as a sample of whole DAOs.
"""

from __future__ import annotations

import io
import weakref
from html import escape

import networkx as nx
import numpy as np
import solara
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from dao_abm import plots
from dao_abm.layout import dao_layout
from dao_abm.model.model import DaoAuctionModel

#: Largest affinity graph drawn whole; a larger one is drawn as a sample of whole DAOs with
#: at most ``GRAPH_SAMPLE_NODES`` members (more would be a hairball, and slow to lay out).
MAX_GRAPH_NODES = 2000
GRAPH_SAMPLE_NODES = 800
#: Largest number of members in the bids-against-values scatter (a fixed random sample).
MAX_SCATTER_POINTS = 5000
#: Figure sizes (inches) that fit SolaraViz's grid cells (about 4:3, less the summary's lines).
FIGURE_SIZE = (6.4, 4.6)
GRAPH_SIZE = (6.4, 3.9)
#: A figure fills its cell's width, but never outgrows the cell's height (390 px).
FIGURE_CSS = """
.dao-figure { width: 100%; height: auto; max-height: 380px; object-fit: contain; }
.dao-graph { max-height: 290px; }
.dao-summary { font-size: 0.85rem; line-height: 1.35; }
"""

# The graph as drawn (sample, positions), per affinity graph; dropped with the model.
_SHOWN: weakref.WeakKeyDictionary[nx.Graph, nx.Graph] = weakref.WeakKeyDictionary()


def graph_sample(graph: nx.Graph, labels: np.ndarray, limit: int, seed: int = 0) -> nx.Graph:
    """``graph`` itself if it has at most ``limit`` nodes, else the subgraph induced by whole
    DAOs taken in a random order while they fit (cut at ``limit`` if the first does not)."""
    if graph.number_of_nodes() <= limit:
        return graph
    nodes = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    daos, counts = np.unique(labels[nodes], return_counts=True)
    order = np.random.default_rng(seed).permutation(daos.size)
    keep = daos[order][np.cumsum(counts[order]) <= limit]
    if keep.size == 0:
        keep = daos[order[:1]]
    chosen = nodes[np.isin(labels[nodes], keep)][:limit]
    return graph.subgraph(chosen.tolist())


def shown_graph(graph: nx.Graph, labels: np.ndarray) -> nx.Graph:
    """The graph as drawn: a sample when large, with a ``"pos"`` node attribute. Computed
    once per affinity graph (DAOs re-formed later keep their members' places)."""
    shown = _SHOWN.get(graph)
    if shown is None:
        n = graph.number_of_nodes()
        limit = n if n <= MAX_GRAPH_NODES else GRAPH_SAMPLE_NODES
        shown = nx.Graph(graph_sample(graph, labels, limit))
        if len(nx.get_node_attributes(shown, "pos")) != shown.number_of_nodes():
            nx.set_node_attributes(shown, dao_layout(shown, labels), "pos")
        _SHOWN[graph] = shown
    return shown


def graph_figure(model: DaoAuctionModel) -> Figure | None:
    """The affinity graph coloured by DAO and sized by value; None without a graph."""
    if model.graph is None:
        return None
    shown = shown_graph(model.graph, model.labels)
    fig, ax = _figure(GRAPH_SIZE)
    plots.affinity_graph(shown, model.labels, model.values, ax=ax)
    total = model.graph.number_of_nodes()
    if shown.number_of_nodes() < total:
        nodes = np.fromiter(shown.nodes, dtype=np.int64)
        ax.set_title(f"Affinity graph: {len(np.unique(model.labels[nodes]))} whole DAOs, "
                     f"{shown.number_of_nodes():,} of {total:,} members")
    return fig


def bids_figure(model: DaoAuctionModel) -> Figure:
    """This round's bids against values, coloured by DAO size (a sample when large)."""
    sizes = model.groups.sizes[model.labels]
    values, bids = model.values, model.bids
    n = sizes.size
    if n > MAX_SCATTER_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(n, MAX_SCATTER_POINTS, replace=False))
        values, bids, sizes = values[keep], bids[keep], sizes[keep]
    fig, ax = _figure()
    plots.bids_against_values(values, bids, sizes, ax=ax)
    title = f"Bids against values, round {model.steps}"
    if n > MAX_SCATTER_POINTS:
        title += f" ({MAX_SCATTER_POINTS:,} of {n:,} members)"
    ax.set_title(title)
    return fig


def welfare_figure(model: DaoAuctionModel) -> Figure:
    """Welfare and optimal welfare (left axis) and OPT/welfare (right) over the rounds."""
    metrics = model.datacollector.get_model_vars_dataframe()
    fig, ax = _figure()
    plots.welfare_over_rounds(metrics, ax=ax)
    return _mark_rounds(fig, len(metrics))


def truthfulness_figure(model: DaoAuctionModel) -> Figure:
    """Truthful share and mean bid/value over the rounds."""
    metrics = model.datacollector.get_model_vars_dataframe()
    fig, ax = _figure()
    plots.truthfulness_over_rounds(metrics, ax=ax)
    return _mark_rounds(fig, len(metrics))


def summary_html(model: DaoAuctionModel) -> str:
    """The mechanism, learning rule, population and last round, as HTML."""
    sc, mech, groups = model.scenario, model.mechanism, model.groups
    lines = [
        f"<b>{escape(sc.mechanism.preset)}</b> ({escape(mech.aggregation)} / "
        f"{escape(mech.upper)} / {escape(mech.cost_sharing)}) · learning "
        f"<b>{escape(sc.learning.rule)}</b> ({escape(sc.learning.protocol)} revision)",
        f"{model.n_bidders:,} bidders in {groups.n_groups:,} DAOs (largest {groups.max_size})"
        f" · seed {sc.seed} · round <b>{model.steps}</b>",
    ]
    if model.last:
        last = model.last
        lines.append(
            f"last round: welfare {last['welfare']:.4g} of optimum "
            f"{last['optimal_welfare']:.4g} (OPT/welfare {last['approximation_ratio']:.3g})"
            f" · truthful share {last['truthful_share']:.2f}"
            f" · mean bid/value {last['mean_bid_ratio']:.2f}")
    return "<br>".join(lines)


def to_png(fig: Figure | None, dpi: int = 90) -> bytes | None:
    """The figure as PNG bytes."""
    if fig is None:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _figure(size: tuple[float, float] = FIGURE_SIZE) -> tuple[Figure, Axes]:
    """A Figure outside pyplot (nothing to close), sized to fit a grid cell of the page."""
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _mark_rounds(fig: Figure, rounds: int) -> Figure:
    """Dots on short series (a line through one round is invisible); a hint before round 1."""
    if rounds == 0:
        fig.axes[0].text(0.5, 0.5, "no rounds yet: press Step or ▶", ha="center",
                         va="center", color="grey", transform=fig.axes[0].transAxes)
    elif rounds <= 60:
        for ax in fig.axes:
            for line in ax.get_lines():
                line.set_marker(".")
    return fig


def _digest(array: np.ndarray) -> int:
    return hash(np.ascontiguousarray(array).tobytes())


@solara.component
def FigureStyle():
    """The page's CSS: a figure fills its grid cell's width without outgrowing its height."""
    solara.Style(FIGURE_CSS)


@solara.component
def AffinityGraph(model: DaoAuctionModel):
    """The scenario summary over the affinity graph (redrawn when DAOs or values change)."""
    update_counter.get()
    image = solara.use_memo(lambda: to_png(graph_figure(model)),
                            [model, _digest(model.labels), _digest(model.values)])
    with solara.Column(gap="4px") as column:
        FigureStyle()
        solara.HTML(unsafe_innerHTML=summary_html(model), classes=["dao-summary"])
        if image is None:
            solara.Info("No affinity graph: graph.kind = 'none' (DAOs formed from sizes).")
        else:
            solara.Image(image, width="100%", classes=["dao-figure", "dao-graph"])
    return column


@solara.component
def BidsAgainstValues(model: DaoAuctionModel):
    """This round's bids against values."""
    update_counter.get()
    image = solara.use_memo(lambda: to_png(bids_figure(model)), [model, model.steps])
    return solara.Image(image, width="100%", classes=["dao-figure", "dao-bids"])


@solara.component
def WelfareOverRounds(model: DaoAuctionModel):
    """Welfare, optimal welfare and OPT/welfare per round."""
    update_counter.get()
    image = solara.use_memo(lambda: to_png(welfare_figure(model)), [model, model.steps])
    return solara.Image(image, width="100%", classes=["dao-figure", "dao-welfare"])


@solara.component
def TruthfulnessOverRounds(model: DaoAuctionModel):
    """Truthful share and mean bid/value per round."""
    update_counter.get()
    image = solara.use_memo(lambda: to_png(truthfulness_figure(model)), [model, model.steps])
    return solara.Image(image, width="100%", classes=["dao-figure", "dao-truthful"])
