"""Populations: member values, affinity graphs and DAOs (group labels). Mesa-free.

All randomness comes from a ``numpy.random.Generator`` passed as the keyword ``rng``; bad
user input raises :class:`dao_abm.errors.DaoAbmError` (a ``ValueError``).
"""

from dao_abm.errors import DaoAbmError
from dao_abm.population.daos import (
    DAO_METHODS,
    compact_labels,
    dao_sizes,
    daos_from_sizes,
    form_daos,
    iter_daos,
    size_histogram,
)
from dao_abm.population.graphs import (
    GRAPH_GENERATORS,
    barabasi_albert_graph,
    geometric_graph,
    graph_params,
    make_graph,
    read_graph,
    sbm_graph,
    watts_strogatz_graph,
)
from dao_abm.population.members_csv import MemberTable, load_members
from dao_abm.population.values import DISTRIBUTIONS, ValueModel, draw_values, load_amounts_csv

__all__ = [
    "DAO_METHODS",
    "DISTRIBUTIONS",
    "GRAPH_GENERATORS",
    "DaoAbmError",
    "MemberTable",
    "ValueModel",
    "barabasi_albert_graph",
    "compact_labels",
    "dao_sizes",
    "daos_from_sizes",
    "draw_values",
    "form_daos",
    "geometric_graph",
    "graph_params",
    "iter_daos",
    "load_amounts_csv",
    "load_members",
    "make_graph",
    "read_graph",
    "sbm_graph",
    "size_histogram",
    "watts_strogatz_graph",
]
