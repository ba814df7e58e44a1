"""Charts of one round: bids against values, the affinity graph, and a DAO's members.

Each is an ECharts option with its data (sampled above ``charts.MAX_POINTS`` members, the
sample fixed per model so the same members are drawn every round) and a tidy table of the
same round for the CSV export.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from dao_abm.model.metrics import SIZE_BUCKET_NAMES, SIZE_BUCKETS, bid_ratios
from dao_abm.viz.charts import MAX_POINTS, PALETTE, sample_index, sample_note, scatter_option
from dao_abm.viz.components import shown_graph
from dao_abm.viz.live import LiveModel


def _per_member(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=-1) if x.ndim > 1 else x


def _log_scale(values: np.ndarray) -> bool:
    """Log axes when positive values span more than three decades (ConstitutionDAO's
    pledges run from dollars to millions)."""
    positive = values[values > 0]
    return positive.size > 0 and positive.max() > 1e3 * positive.min()


def bids_option(model: LiveModel, title_suffix: str = "") -> dict:
    """This round's bids against values, one colour per DAO-size bucket, y = x dotted."""
    values, bids = _per_member(model.values), _per_member(model.bids)
    n = values.size
    keep = sample_index(n)
    bucket = np.searchsorted(np.asarray(SIZE_BUCKETS), model.groups.sizes[model.labels])
    if keep is not None:
        values, bids, bucket = values[keep], bids[keep], bucket[keep]
    log = _log_scale(values)
    if log:
        positive = (values > 0) & (bids > 0)
        values, bids, bucket = values[positive], bids[positive], bucket[positive]
    groups = [{"name": f"DAO size {name}", "color": PALETTE[i % len(PALETTE)],
               "data": np.column_stack([values[bucket == i], bids[bucket == i]]).tolist()}
              for i, name in enumerate(SIZE_BUCKET_NAMES) if (bucket == i).any()]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    title = f"Bids against values, round {model.steps}{title_suffix}"
    return scatter_option(title, "value", "bid", groups, log=log, diagonal=(lo, hi),
                          note=sample_note(n))


def bids_table(model: LiveModel) -> pd.DataFrame:
    """Every member this round: member, DAO, DAO size, value, bid, bid/value, access."""
    values, bids = _per_member(model.values), _per_member(model.bids)
    return pd.DataFrame({
        "round": model.steps, "member": np.arange(values.size), "dao": model.labels,
        "dao_size": model.groups.sizes[model.labels], "value": values, "bid": bids,
        "bid_over_value": bid_ratios(model.bids, model.values), "has_access": model.access,
    })


def graph_option(model: LiveModel) -> dict | None:
    """The affinity graph (members coloured by DAO, sized by value, edges grey; a point's
    third value is its DAO, which a click selects); None without a graph."""
    if model.graph is None:
        return None
    shown = shown_graph(model.graph, model.labels)
    nodes = list(shown.nodes)
    pos = nx.get_node_attributes(shown, "pos")
    values = _per_member(model.values)[nodes]
    scale = values.max() if values.size and values.max() > 0 else 1.0
    sizes = (4 + 8 * np.sqrt(np.clip(values, 0, None) / scale)).round(1)
    data = [{"value": [float(pos[v][0]), float(pos[v][1]), int(model.labels[v])],
             "symbolSize": float(s),
             "itemStyle": {"color": PALETTE[int(model.labels[v]) % len(PALETTE)]}}
            for v, s in zip(nodes, sizes, strict=True)]
    index = {v: i for i, v in enumerate(nodes)}
    edges = [[list(map(float, pos[a])), list(map(float, pos[b]))] for a, b in shown.edges
             if a in index and b in index]
    total = model.graph.number_of_nodes()
    note = "" if len(nodes) == total else f"whole DAOs: {len(nodes):,} of {total:,} members"
    option = scatter_option("Affinity graph: click a member to select its DAO", "", "",
                            [], axes=False, note=note)
    option["legend"] = {"show": False}
    option["tooltip"] = {"formatter": "DAO {@[2]}", "confine": True}
    option["series"] = [
        {"type": "lines", "coordinateSystem": "cartesian2d", "data": [{"coords": e}
                                                                     for e in edges],
         "large": True, "silent": True, "lineStyle": {"color": "#bbb", "width": 0.5,
                                                      "opacity": 0.5}},
        {"type": "scatter", "data": data, "itemStyle": {"opacity": 0.9}},
    ]
    return option


def dao_members(model: LiveModel, dao: int) -> np.ndarray:
    """``(k,)`` the members now in DAO ``dao``."""
    return np.flatnonzero(model.labels == dao)


def members_option(model: LiveModel, dao: int) -> dict:
    """DAO ``dao``'s members this round: bid against value, those with access in green."""
    members = dao_members(model, dao)
    keep = sample_index(members.size)
    shown = members if keep is None else members[keep]
    values, bids = _per_member(model.values)[shown], _per_member(model.bids)[shown]
    access = model.access[shown]
    groups = [{"name": "has access", "color": "#2ca02c",
               "data": np.column_stack([values[access], bids[access]]).tolist()},
              {"name": "no access", "color": "#999",
               "data": np.column_stack([values[~access], bids[~access]]).tolist()}]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    title = f"DAO {dao}: its {members.size:,} members' bids, round {model.steps}"
    return scatter_option(title, "value", "bid", groups, log=_log_scale(values),
                          diagonal=(lo, hi), note=sample_note(members.size))


def member_history_points(model: LiveModel, watched: np.ndarray, start: int) -> dict:
    """Bid/value of the watched members ``watched`` (positions in ``history.watched``) per
    round after ``start``: one series per member."""
    h = model.history
    series = [[] for _ in watched]
    for r, bids, values in zip(h.rounds[start:], h.bids[start:], h.values[start:],
                               strict=True):
        ratio = bid_ratios(bids[watched].astype(np.float64), values[watched].astype(np.float64))
        for s, x in zip(series, ratio, strict=True):
            s.append([r, round(float(x), 4)])
    return {"series": series}


def member_history_table(model: LiveModel, dao: int) -> pd.DataFrame:
    """The watched members of ``dao`` over rounds: round, member, value, bid, access."""
    h = model.history
    watched = h.members_of(dao, model.labels)
    members = h.watched[watched]
    if not h.rounds or not watched.size:
        return pd.DataFrame(columns=["round", "member", "value", "bid", "has_access"])
    k = len(h.rounds)
    return pd.DataFrame({
        "round": np.repeat(h.rounds, watched.size), "member": np.tile(members, k),
        "value": np.concatenate([v[watched] for v in h.values]),
        "bid": np.concatenate([b[watched] for b in h.bids]),
        "has_access": np.concatenate([a[watched] for a in h.access]),
    })


def largest_daos(model: LiveModel, limit: int = 200) -> list[int]:
    """The ``limit`` largest DAOs (ties by number), for the DAO list."""
    sizes = model.groups.sizes
    order = np.lexsort((np.arange(sizes.size), -sizes))
    return [int(d) for d in order[:limit]]


__all__ = ["MAX_POINTS", "bids_option", "bids_table", "dao_members", "graph_option",
           "largest_daos", "member_history_points", "member_history_table", "members_option"]
