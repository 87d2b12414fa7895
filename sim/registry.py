"""Registries of pluggable classes: detectors, policies, attacker strategies, account suppliers.

A pluggable class declares its parameters as a dataclass ``Params`` and registers under a kind
name; the config entry's ``kind`` (or, for policies, its name) selects it. That is what makes a new
detector "one class plus one config file".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Registry:
    """Name -> class mapping with a decorator to register."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._classes: dict[str, type] = {}

    def register(self, kind: str) -> Callable[[type], type]:
        def deco(cls: type) -> type:
            if kind in self._classes:
                raise ValueError(f"{self.what} kind {kind!r} registered twice")
            cls.kind = kind
            self._classes[kind] = cls
            return cls

        return deco

    def get(self, kind: str) -> type:
        return self._classes[kind]

    def kinds(self) -> list[str]:
        return sorted(self._classes)

    def __contains__(self, kind: Any) -> bool:
        return kind in self._classes


detectors = Registry("detector")
policies = Registry("policy")
attackers = Registry("attacker strategy")
suppliers = Registry("account supplier")


def load_all() -> None:
    """Import the modules that register the built-in classes."""
    import sim.attackers  # noqa: F401
    import sim.detectors  # noqa: F401
    import sim.policies  # noqa: F401
    import sim.suppliers  # noqa: F401
