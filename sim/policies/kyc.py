"""Identity checks (KYC) at sign-up: raise the usable-account price, block a share (MODEL §2, §4).

The checks act through the account market (:mod:`sim.suppliers.base`): a tier whose accounts do
not meet ``required_verification`` has each usable account take Geometric(1 − block_share)
attempts, each paid at its price × multiplier, so its expected price is
``price × kyc_price_multiplier / (1 − kyc_block_share)``, and its supply falls by the blocked
share (without the market, an operator's own accounts are such a tier). Every attempt is a
check the defender pays for; legitimate sign-ups pay checks too and a share is lost to friction:
the defender forgoes the margin on their discounted lifetime revenue, the prospective customers
lose that revenue's worth of service (reported apart, MODEL §7). Anthropic strengthened
verification on the most abused pathways (Feb 2026); verification costs get arbitraged (Thomas et
al. 2014) [multiplier, block share, check price and friction are estimates].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.ledger import DEFENDER
from sim.legit import DAYS_PER_MONTH, lifetime_value
from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class KycParams(PolicyParams):
    price_multiplier: float = P(2.5, ge=1.0)
    block_share: float = P(0.3, ge=0.0, lt=1.0)
    usd_per_check: float = P(1.5, ge=0.0)
    legit_friction_share: float = share(0.03)
    #: Verification level a sign-up must show (sim.suppliers.VERIFICATION); with the account
    #: market on, only tiers below it are checked, blocked and priced up.
    required_verification: str = P("payment", choices=["phone", "payment", "identity"])


def usable_price(base: float, multiplier: float, block_share: float) -> float:
    """Expected price of one usable account under KYC."""
    return base * multiplier / (1.0 - block_share)


@policies.register("kyc")
class Kyc(Policy):
    """Verification at sign-up."""

    Params = KycParams

    @property
    def required(self) -> str:
        return self.params.required_verification

    def book_attacker_checks(self, hours: np.ndarray, attempts: np.ndarray) -> None:
        on = bool(self.params.enabled) & (hours >= self.params.effective_hour)
        usd = np.where(on, attempts * self.params.usd_per_check, 0.0)
        self.model.ledger.book(hours, DEFENDER, "identity_vendor", "kyc_checks", usd)

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        if not self.active(t0):
            return
        p, legit, days = self.params, self.model.legit, (t1 - t0) / 24.0
        checks = friction = 0.0
        for t in legit.tiers:
            n = t.signups_per_day * days
            mean_day = t.median_exchanges_per_day * np.exp(t.sigma**2 / 2)
            ltv = lifetime_value(t, mean_day * DAYS_PER_MONTH * t.revenue_per_exchange_usd)
            checks += n * p.usd_per_check
            friction += n * p.legit_friction_share * ltv
        m = self.model
        led = m.ledger
        led.book(t0, DEFENDER, "identity_vendor", "kyc_checks", checks)
        led.book(t0, DEFENDER, "prospective_users", "kyc_friction", m.margin * friction)
        led.book(t0, "prospective_users", "lost_service", "user_kyc_friction", friction)
