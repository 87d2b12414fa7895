"""Sanctions on attributed campaigns (MODEL §8).

Models the proposed defence-bill amendment (Sens. Hagerty and Kim, June 2026) to blacklist or
sanction firms found improperly accessing US model outputs: an expected penalty
``P(attribution) × penalty`` on the attacker's risk line, and optionally blacklisting, which ends
the campaign when attribution happens in-run. The penalty size is an estimate [E].
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class SanctionsParams(PolicyParams):
    penalty_usd: float = P(5.0e8, ge=0.0)
    blacklist_on_attribution: bool = True


@policies.register("sanctions")
class Sanctions(Policy):
    """Expected penalty and blacklisting on attribution."""

    Params = SanctionsParams

    def penalty(self, t: float) -> float:
        return self.params.penalty_usd if self.active(t) else 0.0

    def blacklists(self, t: float) -> bool:
        return self.active(t) and bool(self.params.blacklist_on_attribution)
