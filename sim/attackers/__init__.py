"""Attacker strategies: one Operator subclass per ``attacker.mode``.

To add one: subclass :class:`~sim.attackers.base.Operator`, declare ``Params``, override
``plan``/``adapt``, register it, and add ``configs/attacker/<mode>.yaml``.
"""

from sim.attackers.adaptive import AdaptiveOperator
from sim.attackers.base import Operator, StrategyParams
from sim.attackers.best_response import BestResponseOperator
from sim.attackers.fixed import FixedOperator

__all__ = [
    "AdaptiveOperator",
    "BestResponseOperator",
    "FixedOperator",
    "Operator",
    "StrategyParams",
]
