"""What a learning rule is: the ``Rule`` contract, its ``Params``, and the registry.

A rule is a class with

- ``name``: its registry key (the scenario's ``learning.rule``);
- ``Params``: a frozen dataclass of its parameters, each made with ``param(default, doc,
  min=..., max=..., gt=..., lt=..., choices=...)`` (the scenario's ``[learning.params]``);
  the scenario schema, the README's key table and the bad-input checks read them from here;
- ``feedback``: the feedback modes it can learn from (``feedback.FEEDBACK``), its default
  first;
- ``memory``: True when it learns from every member every round (it then ignores
  ``members=``), False when it only revises (it evaluates only ``members``);
- ``reset(n_members, n_items, *, grid, rng)`` and ``step(market, values_or_samples,
  strategies, *, revising, rng, members=None) -> Revision``;
- optionally ``functions = True`` and ``step_function(market, space, samples, strategies,
  *, revising, rng, members=None)``: the rule also learns bid functions (``functions.py``).

Rules built on a payoff grid subclass ``GridRule`` and write only ``learn`` (feedback ->
chosen options); the rest (observing, measuring gains and regret, keeping non-revising
members' strategies) is done once, there. Adding a rule is one file in ``rules/`` (found
automatically) or anywhere else, registered with ``@register_rule``::

    @register_rule
    class Greedy(GridRule):
        name = "greedy"
        feedback = ("full",)

        @dataclass(frozen=True)
        class Params:
            pass

        def learn(self, fb, rng):
            return fb.utilities.argmax(axis=-1)  # (r, m) the option each plays next
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, get_type_hints

import numpy as np

from dao_abm.deviations.market import Market
from dao_abm.fields import check_value, spec
from dao_abm.learning.feedback import FEEDBACK, Feedback, observe
from dao_abm.learning.regret import ExternalRegret
from dao_abm.learning.revision import Revision, finish
from dao_abm.learning.ties import check_tie_policy
from dao_abm.mechanisms.registry import Registry

#: The learning rules, by name (``learning.rule``).
LEARNING_RULES: Registry[type] = Registry("learning rule")
#: Prefix of a rule parameter's dotted key in scenarios and error messages.
PARAMS_KEY = "learning.params"
#: A rule parameter: ``param(default, doc, min=, max=, gt=, lt=, choices=)``.
param = spec


def register_rule(cls: type) -> type:
    """Class decorator: add a rule to ``LEARNING_RULES`` under ``cls.name``."""
    for attribute in ("name", "Params", "feedback"):
        if not hasattr(cls, attribute):
            raise TypeError(f"learning rule {cls.__name__} needs a class attribute {attribute}")
    if not dataclasses.is_dataclass(cls.Params) or not cls.Params.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__}.Params must be a frozen dataclass")
    unknown = set(cls.feedback) - set(FEEDBACK)
    if not cls.feedback or unknown:
        raise TypeError(f"{cls.__name__}.feedback must name modes among {', '.join(FEEDBACK)}")
    return LEARNING_RULES.register(cls.name)(cls)


def check_params(params: Any, prefix: str = PARAMS_KEY) -> Any:
    """Raise ``ValueError`` naming ``prefix.key`` unless every field obeys its type, bounds
    and choices; return ``params``."""
    hints = get_type_hints(type(params))
    for f in dataclasses.fields(params):
        value, kind, key = getattr(params, f.name), hints[f.name], f"{prefix}.{f.name}"
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            object.__setattr__(params, f.name, value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise ValueError(f"{key}: expected {_kind_name(kind)}, got {value!r}")
        if kind is float and not np.isfinite(value):
            raise ValueError(f"{key}: expected a finite number, got {value!r}")
        check_value(key, value, f.metadata)
    return params


def _kind_name(kind: type) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        kind, kind.__name__)


class Rule:
    """Base of every learning rule (see the module docstring for the contract).

    Args:
        params: the rule's ``Params`` (defaults when None); keyword arguments override
            single fields, e.g. ``Hedge(eta=2.0)``.
        feedback: one of the rule's ``feedback`` modes (its first when None).
        tie_policy: among equally good options, for rules that best-respond
            (``ties.TIE_POLICIES``).
        cap: the largest bid as a multiple of the value for answers off the grid (the exact
            best response, ``exact.py``); None: unbounded. A grid is bounded by its own top.
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    feedback: ClassVar[tuple[str, ...]]
    memory: ClassVar[bool] = False
    #: True when the rule may answer exactly, without a grid, where the market allows it.
    exact: ClassVar[bool] = False
    #: True when the rule learns bid functions (``learning.strategy = "function"``,
    #: ``functions.py``) through ``step_function``.
    functions: ClassVar[bool] = False

    def __init__(self, params: Any = None, *, feedback: str | None = None,
                 tie_policy: str = "keep", cap: float | None = None,
                 **overrides: Any) -> None:
        params = self.Params() if params is None else params
        if not isinstance(params, self.Params):
            raise TypeError(f"{self.name}: params must be {self.Params.__qualname__}")
        self.params = check_params(dataclasses.replace(params, **overrides))
        mode = self.feedback[0] if feedback is None else feedback
        if mode not in self.feedback:
            raise ValueError(f"learning.feedback: {self.name} learns from "
                             f"{', '.join(self.feedback)} feedback, not {mode!r}")
        self.mode = mode
        self.tie_policy = check_tie_policy(tie_policy)
        self.cap = cap
        self.grid = None

    def clone(self) -> Rule:
        """A fresh rule with the same parameters, feedback, tie policy and cap."""
        return type(self)(self.params, feedback=self.mode, tie_policy=self.tie_policy,
                          cap=self.cap)

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        """Forget everything learned; ``grid`` is the candidate grid (``grids.py``)."""
        self.grid = grid

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        raise NotImplementedError

    def step_function(self, market: Market, space, samples: np.ndarray,
                      strategies: np.ndarray, *, revising, rng: np.random.Generator,
                      members: np.ndarray | None = None) -> Revision:
        """One round over bid functions (``functions.py``): ``space`` the knots and
        candidate bids, ``samples`` ``(S, n, m)`` value profiles, ``strategies``
        ``(n, m, K)``. Only rules with ``functions = True`` implement it."""
        raise NotImplementedError(f"{self.name} does not learn bid functions")


class GridRule(Rule):
    """A rule over a candidate grid: ``learn`` maps what the members observe this round
    (``Feedback``) to the option each plays next. Gains and external regret are measured
    here from the full payoff table, which bandit rules never see."""

    memory = True

    def reset(self, n_members: int, n_items: int, *, grid=None,
              rng: np.random.Generator) -> None:
        super().reset(n_members, n_items, grid=grid, rng=rng)
        self.regret = ExternalRegret()

    def learn(self, fb: Feedback, rng: np.random.Generator) -> np.ndarray:
        """``(r, m)`` the option each (member, item) of ``fb`` plays next (-1: keep its
        current strategy)."""
        raise NotImplementedError

    def step(self, market: Market, values_or_samples, strategies, *, revising,
             rng: np.random.Generator, members: np.ndarray | None = None) -> Revision:
        """One round: observe, learn, then measure. Rules with memory learn from every member
        (``members`` ignored); the others observe only ``members``."""
        rows = None if self.memory else members
        fb, table = observe(self.mode, market, values_or_samples, strategies, self.grid, rows)
        choice = self.learn(fb, rng)
        picked = np.take_along_axis(fb.options, np.maximum(choice, 0)[..., None], axis=-1)
        new = np.where(choice >= 0, picked[..., 0], fb.strategies)
        if table is None:  # bandit: the table is measured after learning, never shown to it
            from dao_abm.deviations.payoffs import payoffs
            table = payoffs(market, values_or_samples, strategies, self.grid, rows)
        regret = self.regret.update(table) if self.memory else None
        return finish(np.asarray(strategies, dtype=np.float64), new, revising, table.gain,
                      regret, members=table.members)
