"""What the page's views share: the affinity graph as drawn (sampled, laid out), the summary
of a run, and the page's CSS.

Layout: a force layout of the member graph is too slow to recompute for every new model
(seconds for a few hundred members), so members are drawn around their DAO
(``dao_abm.layout.dao_layout``). Graphs whose nodes carry positions (``graph.kind =
"geometric"``) keep them. Graphs above ``MAX_GRAPH_NODES`` members are drawn as a sample of
whole DAOs with at most ``GRAPH_SAMPLE_NODES`` members (more would be a hairball, and slow to
lay out); the chart's note says so.
"""

from __future__ import annotations

import weakref
from html import escape

import networkx as nx
import numpy as np
import solara

from dao_abm.layout import dao_layout
from dao_abm.model.model import DaoAuctionModel

#: Largest affinity graph drawn whole; a larger one is drawn as a sample of whole DAOs with
#: at most ``GRAPH_SAMPLE_NODES`` members.
MAX_GRAPH_NODES = 2000
GRAPH_SAMPLE_NODES = 800
PAGE_CSS = """
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


@solara.component
def FigureStyle():
    """The page's CSS."""
    solara.Style(PAGE_CSS)
