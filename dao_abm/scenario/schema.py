"""The scenario format: frozen dataclasses, one per TOML table, a docstring per field.

A scenario file is TOML with the tables below; every key is optional except where noted and
defaults to the value shown here. ``Scenario.from_dict`` validates it (see ``load.py``).
Fields are made with ``dao_abm.fields.spec`` (documentation, bounds, choices); the learning
rules and their ``[learning.params]`` come from the rule registry (``learning/contract.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dao_abm.deviations.grids import GRID_SCALES
from dao_abm.fields import spec
from dao_abm.learning.contract import LEARNING_RULES
from dao_abm.learning.feedback import FEEDBACK
from dao_abm.learning.functions import STRATEGIES


@dataclass(frozen=True)
class PopulationSpec:
    """Who bids: members (Mesa agents) and their valuation class."""

    n_members: int = spec(300, "members formed into DAOs (ignored when members_csv is set)", min=1)
    members_csv: str = spec("", "CSV with one row per member: id, value or value_1..value_m, "
                                "optional dao and attributes (path relative to the scenario)")
    n_items: int = spec(1, "items sold every round", min=1)
    valuation: str = spec("single", "valuation class",
                          choices=("single", "additive", "unit-demand"))
    individuals: list = spec([], "values of extra bidders who bid alone (DAOs of one); a number "
                                 "per bidder, or a list of n_items numbers", items=float)


@dataclass(frozen=True)
class ValuesSpec:
    """How member values are drawn (Section 2: v_i(l) >= 0)."""

    distribution: str = spec("uniform", "value distribution",
                             choices=("uniform", "lognormal", "pareto", "empirical"))
    redraw: bool = spec(False, "false: values fixed for the whole run (complete information); "
                               "true: drawn afresh every round (private values, a new item each "
                               "round) and members learn a bid function or a shading factor "
                               "bid = alpha * value (learning.strategy)")
    low: float = spec(0.0, "uniform: lower bound", min=0.0)
    high: float = spec(1.0, "uniform: upper bound", gt=0.0)
    mean: float = spec(0.0, "lognormal: mean of the underlying normal")
    sigma: float = spec(1.0, "lognormal: std of the underlying normal", min=0.0)
    alpha: float = spec(2.0, "pareto: shape", gt=0.0)
    scale: float = spec(1.0, "pareto: minimum value", gt=0.0)
    amounts_csv: str = spec("", "empirical: CSV of amounts to resample (path relative to the "
                                "scenario)")
    heterogeneity: float = spec(0.0, "sigma of a lognormal per-member scale (0: members share "
                                     "one distribution)", min=0.0)


@dataclass(frozen=True)
class GraphSpec:
    """The affinity graph members form DAOs on (networkx)."""

    kind: str = spec("sbm", "graph generator, a file, or none (DAOs from sizes)",
                     choices=("sbm", "geometric", "watts-strogatz", "barabasi-albert", "file",
                              "none"))
    n_causes: int = spec(8, "sbm: number of causes (blocks)", min=1)
    p_in: float = spec(0.1, "sbm: edge probability inside a cause", min=0.0, max=1.0)
    p_out: float = spec(0.002, "sbm: edge probability across causes", min=0.0, max=1.0)
    radius: float = spec(0.08, "geometric: connection radius in the interest space", gt=0.0)
    dim: int = spec(2, "geometric: dimension of the interest space", min=1)
    k: int = spec(6, "watts-strogatz: each node's ring neighbours", min=2)
    p: float = spec(0.1, "watts-strogatz: rewiring probability", min=0.0, max=1.0)
    m: int = spec(3, "barabasi-albert: edges per new node", min=1)
    path: str = spec("", "file: edge list (.edgelist/.txt/.csv) or GraphML (path relative to "
                         "the scenario)")


@dataclass(frozen=True)
class DaoSpec:
    """How members group into DAOs."""

    method: str = spec("louvain", "community detection on the graph, or fixed sizes",
                       choices=("louvain", "label-propagation", "components", "singletons",
                                "sizes", "random-sizes", "csv"))
    max_size: int = spec(0, "largest DAO size ℓ; larger communities are split along the graph "
                            "(0: no limit)", min=0)
    min_size: int = spec(1, "method 'random-sizes': smallest DAO (sizes uniform on "
                            "[min_size, max_size])", min=1)
    singletons: float = spec(0.0, "share of members who bid alone", min=0.0, max=1.0)
    sizes: list = spec([], "method 'sizes': DAO sizes, summing to n_members", items=int)
    reform: bool = spec(False, "between rounds a member may move to a DAO it is connected to "
                               "when it would have done better there")
    reform_every: int = spec(10, "rounds between re-formation opportunities", min=1)
    reform_rule: str = spec("counterfactual", "how a member scores a DAO it could join: "
                            "counterfactual (its utility had it bid there last round, the "
                            "auction re-run with everyone else fixed) or mean-utility (that "
                            "DAO's mean utility last round; a proxy)",
                            choices=("counterfactual", "mean-utility"))


@dataclass(frozen=True)
class MechanismSpec:
    """The two-level mechanism: a preset, optionally with parts replaced by name."""

    preset: str = spec("dao-vickrey", "preset name (dao-vickrey, grand-bundle, "
                                      "vcg-equal-split, split-the-bill, crowdfund)")
    aggregation: str = spec("", "override the preset's aggregation (wtp, sum, max)")
    upper: str = spec("", "override the upper mechanism (second-price, first-price, vcg, "
                          "grand-bundle)")
    cost_sharing: str = spec("", "override the cost-sharing rule (max-equal-split, "
                                 "equal-split-all, proportional)")
    reserve: float = spec(0.0, "the auctioneer's reserve price on every lot: a group bid below "
                               "it takes no part, a sold lot costs at least it (0: none; not "
                               "with upper = vcg; below values.high for uniform values)",
                          min=0.0)


@dataclass(frozen=True)
class LearningSpec:
    """How members revise their strategies between rounds."""

    rule: str = spec("best-response", "learning rule", choices=LEARNING_RULES.names)
    params: object = field(
        default_factory=lambda: LEARNING_RULES["best-response"].Params(),
        metadata={"doc": "the rule's own parameters (a table; the learning.params.* keys "
                         "below, each for the rule named first in its description)",
                  "params_of": "rule", "registry": LEARNING_RULES})
    feedback: str = spec("", "what a member observes after a round: " + ", ".join(FEEDBACK)
                         + " (see dao_abm/learning/feedback.py); empty: the rule's default")
    protocol: str = spec("inertia", "who revises each round",
                         choices=("simultaneous", "sequential", "inertia", "dao"))
    fraction: float = spec(0.2, "inertia: probability a member revises in a round", gt=0.0,
                           max=1.0)
    tie_policy: str = spec("keep", "choice among equally good strategies",
                           choices=("keep", "truthful", "lowest", "random"))
    initial: str = spec("random", "initial strategies: truthful, random (uniform shading in "
                                  "[0.2, min(1.5, the cap)]) or shaded (alpha = initial_alpha)",
                        choices=("truthful", "random", "shaded"))
    initial_alpha: float = spec(0.5, "initial shading factor for initial = 'shaded'", min=0.0)
    grid_scale: str = spec("relative", "grid-based rules' candidates: multiples of the "
                                       "member's value (shading factors when values are "
                                       "redrawn), or absolute bids", choices=GRID_SCALES)
    grid: list = spec([], "the candidate points (e.g. [0.05, 0.10, 0.95]); empty: evenly "
                          "spaced from grid_low to grid_high", items=float)
    grid_low: float = spec(0.0, "smallest candidate point", min=0.0)
    grid_high: float = spec(1.5, "largest candidate point; with a relative grid the largest "
                                 "point is also the cap on every bid: no strategy exceeds it "
                                 "times the value", gt=0.0)
    grid_points: int = spec(41, "number of evenly spaced candidate points", min=2)
    grid_value: bool = spec(True, "also offer each member its value (truthful bidding)")
    samples: int = spec(256, "expected feedback with values redrawn: value profiles per round",
                        min=1)
    strategy: str = spec("function", "what a member learns when values are redrawn: a bid "
                                     "function on value knots, piecewise linear (one per "
                                     "item), or a shading factor (bid = alpha * value; rules "
                                     "that cannot learn functions need it); with fixed values "
                                     "strategies are bids whatever this says",
                         choices=STRATEGIES)
    knots: list = spec([], "strategy 'function': the value knots (at least 2, increasing, "
                           ">= 0); empty: knot_points evenly spaced over the values' range",
                       items=float)
    knot_points: int = spec(17, "strategy 'function': number of evenly spaced knots when "
                                "knots is empty", min=2)
    monotone: bool = spec(True, "strategy 'function': revised bid functions are made "
                                "non-decreasing (running maximum over the knots)")
    bid_points: int = spec(65, "strategy 'function': candidate bids of the learners, evenly "
                               "spaced from 0 to bid_high times the top knot (plus the "
                               "reserve)", min=2)
    function_table: str = spec("auto", "strategy 'function': how the learners price a "
                                       "candidate bid b, its access probability A(b) and "
                                       "payment P(b): auto, in closed form where every bidder "
                                       "is alone with one item sold by first or second price, "
                                       "uniform values and monotone functions, else on the "
                                       "learning.samples sampled profiles; sampled, always on "
                                       "samples", choices=("auto", "sampled"))
    bid_high: float = spec(1.0, "strategy 'function': the highest candidate bid, as a multiple "
                                "of the top knot (the cap on every knot's bid; above the top "
                                "knot a function keeps the top knot's bid-to-value ratio)", gt=0.0)


@dataclass(frozen=True)
class MetricsSpec:
    """What is tracked, and when the run counts as converged."""

    truthful_tol: float = spec(0.01, "a bid within this fraction of the value is truthful",
                               min=0.0)
    epsilon_tol: float = spec(1e-6, "epsilon (largest gain from best-responding, relative to "
                                     "the mean value) below this counts as settled", min=0.0)
    window: int = spec(20, "K: rounds without change (or with epsilon below tol) to converge "
                           "(rules without their own criterion; q-learning: "
                           "learning.params.converge_rounds)", min=1)
    agent_interval: int = spec(0, "record agent-level data every this many rounds (0: never)",
                               min=0)
    epsilon_every: int = spec(1, "compute epsilon every this many rounds", min=1)
    equilibrium_every: int = spec(10, "values redrawn: compute the equilibrium metrics "
                                     "(l2_to_bne ... epsilon_interim) on recorded rounds "
                                     "that are multiples of this, and the last (0: never)",
                                  min=0)
    equilibrium_samples: int = spec(512, "values redrawn: size of the fixed value sample the "
                                         "equilibrium metrics are estimated on (drawn once)",
                                    min=16)
    every: int = spec(1, "record metrics every this many rounds (and the last round); the "
                         "other rounds skip the auction's bookkeeping and the metrics, so "
                         "cumulative columns and time averages are over recorded rounds",
                      min=1)


@dataclass(frozen=True)
class OutputSpec:
    """What a run writes besides metrics.csv and summary.json."""

    figures: bool = spec(True, "write PNG figures")
    graph_figure_max_nodes: int = spec(3000, "skip the affinity-graph figure above this size",
                                       min=0)


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario."""

    name: str = spec("scenario", "short name, used for the run folder")
    description: str = spec("", "what the scenario models")
    seed: int = spec(0, "the one seed every random number comes from", min=0)
    rounds: int = spec(200, "auction rounds", min=1)
    sessions: int = spec(1, "independent sessions run as one ensemble: session s draws from "
                            "its own child seed of the seed (session 0 is the single run); "
                            "the population (graph, DAOs, fixed values) is shared", min=1)
    population: PopulationSpec = field(default_factory=PopulationSpec)
    values: ValuesSpec = field(default_factory=ValuesSpec)
    graph: GraphSpec = field(default_factory=GraphSpec)
    daos: DaoSpec = field(default_factory=DaoSpec)
    mechanism: MechanismSpec = field(default_factory=MechanismSpec)
    learning: LearningSpec = field(default_factory=LearningSpec)
    metrics: MetricsSpec = field(default_factory=MetricsSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
