"""Per-account rate limits: requests above a daily cap are refused (not charged, not harvested).

An operator whose per-account cadence exceeds the cap gets only cap/cadence of its requests
answered (a cap counts an account's whole traffic, mixed-in customers' included); an adaptive
operator, knowing the limit, spreads thinner instead. Legitimate power users above the cap lose
that service: refused exchanges × revenue per exchange × the share of it that is lost, which is
the users' loss; the defender forgoes the margin on it (MODEL §7). Claude Code's suggested
per-user limits are 0.25-7 requests a minute [S]; the cap itself is an estimate [E].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.ledger import DEFENDER
from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class RateLimitParams(PolicyParams):
    exchanges_per_account_day: float = P(300.0, gt=0.0)
    #: Share of the revenue of refused legitimate exchanges that is lost (not deferred).
    legit_lost_share: float = share(1.0)


@policies.register("rate_limits")
class RateLimits(Policy):
    """A cap on exchanges per account and day."""

    Params = RateLimitParams

    def setup(self) -> None:
        self._refused: float | None = None

    @property
    def legit_refused_usd_per_day(self) -> float:
        """Revenue per day of legitimate demand above the cap (weighted); computed when first
        needed (the population's rates are fixed for the run), so a limit never in force costs
        no pass over a million accounts."""
        if self._refused is None:
            legit = self.model.legit
            over = np.maximum(legit.rate - self.params.exchanges_per_account_day, 0.0)
            self._refused = float((legit.weight * over * legit.revenue_per_exchange).sum())
        return self._refused

    def accept_share(self, cadence_per_day: float, t: float) -> float:
        """Share of an account's requests answered at this cadence."""
        if not self.active(t) or cadence_per_day <= 0:
            return 1.0
        return min(1.0, self.params.exchanges_per_account_day / cadence_per_day)

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        if self.active(t0):
            m = self.model
            lost = self.legit_refused_usd_per_day * (t1 - t0) / 24.0 * self.params.legit_lost_share
            m.ledger.book(t0, DEFENDER, "legitimate_users", "rate_limit_loss", m.margin * lost)
            m.ledger.book(t0, "legitimate_users", "lost_service", "user_rate_limits", lost)
