"""Sanctions on attributed campaigns as a chain of probabilities and delays (MODEL §8).

Models the amendment Sens. Hagerty and Kim proposed to the defence bill (June 2026) to blacklist
or sanction firms found improperly accessing US model outputs, and the seed article's open
question, enforceability (terms-of-service abuse is easier to allege than to prosecute across
borders). The chain: evidence → attribution (:mod:`sim.attribution`) → public attribution
(``public_attribution_prob``) → legislative or regulatory action (``regime: proposed``: enacted
with ``enactment_prob`` after ``enactment_lag_days``; ``enacted``: already in force) →
designation and enforcement (``enforcement_probability``, after ``enforcement_lag_days``) → the
penalty, discounted at ``discount_rate_per_year`` over the lags. Steps whose lag runs past the
horizon act only through the expected penalty

    P(attribution) × P(public) × P(enacted) × P(enforced) × penalty × exp(−r · lag),

booked on the attacker's risk line. Inside the run only an enacted regime acts: a campaign
attributed in-run is blacklisted (its live accounts banned) ``enforcement_lag_days`` later if
that falls before the horizon and the designation is enforced (one draw), and the operator then
routes ``front_company_share`` of its demand through front companies and resellers (0: the
campaign ends). Every step's figure is an estimate [E] except that both 2026 campaigns were
publicly attributed [S].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class SanctionsParams(PolicyParams):
    penalty_usd: float = P(5.0e8, ge=0.0)
    #: ``proposed``: the law is not yet in force (the June 2026 amendment); ``enacted``: it is.
    regime: str = P("proposed", choices=["proposed", "enacted"])
    #: P(the provider names the operator publicly | attributed): both 2026 campaigns were [S].
    public_attribution_prob: float = share(1.0)
    #: A proposed measure passes with this probability, this long after the attribution [E].
    enactment_prob: float = share(0.5)
    enactment_lag_days: float = P(180.0, ge=0.0)
    #: P(designation is enforced and the penalty paid | in force) [E]: cross-border enforcement
    #: of terms-of-service abuse is uncertain (seed article).
    enforcement_probability: float = share(0.3)
    enforcement_lag_days: float = P(90.0, ge=0.0)
    discount_rate_per_year: float = P(0.1, ge=0.0, le=1.0)
    #: Share of a blacklisted operator's demand it routes through front companies [E].
    front_company_share: float = share(0.5)
    blacklist_on_attribution: bool = True


@policies.register("sanctions")
class Sanctions(Policy):
    """The chain from attribution to a penalty paid; blacklisting under an enacted regime."""

    Params = SanctionsParams

    @property
    def lag_days(self) -> float:
        """Days from attribution to the penalty taking effect."""
        p = self.params
        enact = p.enactment_lag_days if p.regime == "proposed" else 0.0
        return enact + p.enforcement_lag_days

    def chain_probability(self) -> float:
        """P(public) × P(enacted) × P(enforced): the share of an attribution that is paid."""
        p = self.params
        enacted = p.enactment_prob if p.regime == "proposed" else 1.0
        return p.public_attribution_prob * enacted * p.enforcement_probability

    def expected_penalty_if_attributed(self, t: float) -> float:
        """The discounted expected penalty of a campaign attributed while the policy is in
        force at ``t`` (0 otherwise)."""
        if not self.active(t):
            return 0.0
        r = self.params.discount_rate_per_year
        discount = math.exp(-r * self.lag_days / 365.0)
        return self.params.penalty_usd * self.chain_probability() * discount

    def blacklists(self, t: float) -> bool:
        """Whether an attribution at ``t`` leads to a blacklist inside the run (before the
        enforcement draw): an enacted regime whose designation lands before the horizon."""
        p = self.params
        lands = t + p.enforcement_lag_days * 24.0 < self.model.horizon
        return self.active(t) and p.regime == "enacted" and p.blacklist_on_attribution and lands

    def blacklist_enforced(self, u: float) -> bool:
        """The one draw ``u`` ~ U(0, 1) that decides whether a designation is enforced."""
        p = self.params
        return u < p.public_attribution_prob * p.enforcement_probability
