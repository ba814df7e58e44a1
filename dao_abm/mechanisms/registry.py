"""Name -> rule registries, so a two-level mechanism is composed of three names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable)


class Registry(Generic[F]):
    """A named table of rules of one kind (aggregation, upper mechanism, cost sharing)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._rules: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator adding a rule under ``name``."""

        def add(rule: F) -> F:
            if name in self._rules:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._rules[name] = rule
            return rule

        return add

    def __getitem__(self, name: str) -> F:
        try:
            return self._rules[name]
        except KeyError:
            raise ValueError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def names(self) -> list[str]:
        return list(self._rules)

    def remove(self, name: str) -> F:
        """Take a rule out again (tests that register a rule of their own)."""
        rule = self[name]  # a ValueError naming the choices when unknown
        del self._rules[name]
        return rule
