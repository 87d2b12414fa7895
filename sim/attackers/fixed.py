"""``fixed``: the operator follows its plan and replaces banned accounts while its budget lasts."""

from __future__ import annotations

from dataclasses import dataclass

from sim.attackers.base import Operator, StrategyParams
from sim.registry import attackers


@dataclass
class FixedParams(StrategyParams):
    mode: str = "fixed"


@attackers.register("fixed")
class FixedOperator(Operator):
    """Runs the campaign as planned: no go/no-go, no adaptation, stops only when out of money."""

    Params = FixedParams
