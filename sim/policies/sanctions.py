"""Sanctions on attributed campaigns (MODEL §8).

Models the proposed defence-bill amendment (Sens. Hagerty and Kim, June 2026) to blacklist or
sanction firms found improperly accessing US model outputs: an expected penalty
``P(attribution) × P(enforcement) × penalty`` on the attacker's risk line, and optionally
blacklisting, which ends the campaign when attribution happens in-run. The penalty size is an
estimate [E]; ``enforcement_probability`` defaults to 1, an upper bound: terms-of-service abuse is
easier to allege than to prosecute across borders, and the chain from attribution to a penalty
actually paid is not modelled yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class SanctionsParams(PolicyParams):
    penalty_usd: float = P(5.0e8, ge=0.0)
    #: Probability that an attributed operator actually pays the penalty [E: 1 is an upper bound].
    enforcement_probability: float = share(1.0)
    blacklist_on_attribution: bool = True


@policies.register("sanctions")
class Sanctions(Policy):
    """Expected penalty and blacklisting on attribution."""

    Params = SanctionsParams

    def expected_penalty_if_attributed(self, t: float) -> float:
        """Penalty × P(enforcement) for a campaign attributed while the policy is in force."""
        p = self.params
        return p.penalty_usd * p.enforcement_probability if self.active(t) else 0.0

    def blacklists(self, t: float) -> bool:
        return self.active(t) and bool(self.params.blacklist_on_attribution)
