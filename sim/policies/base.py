"""Policy base class: switched on from an hour, with no-op hooks the model calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.parameters import P

if TYPE_CHECKING:
    from sim.model import DistillationModel


@dataclass
class PolicyParams:
    kind: str = ""
    enabled: bool = False
    #: Hour from which the policy is in force (a scheduled event).
    effective_hour: float = P(0.0, ge=0.0)


class Policy:
    """A defender policy. Hooks default to "no effect"."""

    Params: ClassVar[type] = PolicyParams
    kind: ClassVar[str] = ""

    def __init__(self, model: DistillationModel, name: str, params) -> None:
        self.model = model
        self.name = name
        self.params = params

    def active(self, t: float) -> bool:
        return bool(self.params.enabled) and t >= self.params.effective_hour

    def setup(self) -> None:
        """Called once the model's agents and streams exist."""

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        """Called after detection each window; books the policy's own costs."""
