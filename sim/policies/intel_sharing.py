"""Intelligence sharing with other labs (Frontier Model Forum, from ~6 Apr 2026; OSTP NSTM-4).

Partners detect each operator's infrastructure at a Poisson rate and share indicators (a SimPy
process per operator). An attacker account matches the latest indicators with probability
``match_share × exp(−age / decay)``; a match adds a prior boost to its scores and shortens the
latency of its flags, and (with ``learning.enabled``) sign-up screening blocks matching new
accounts as it does for the defender's own indicators (:mod:`sim.learning`). Shared evidence also
raises the chance of attributing the campaign.
Membership costs analyst time. Rates, shares and boosts are estimates [E].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.ledger import DEFENDER
from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class IntelSharingParams(PolicyParams):
    match_share: float = share(0.3)
    indicator_decay_hours: float = P(336.0, gt=0.0)
    partner_detections_per_day: float = P(0.2, ge=0.0)
    prior_boost: float = P(1.0, ge=0.0, le=10.0)
    latency_factor: float = P(0.5, gt=0.0, le=1.0)
    analyst_hours_per_day: float = P(8.0, ge=0.0)
    attribution_boost: float = share(0.3)


@policies.register("intel_sharing")
class IntelSharing(Policy):
    """Shared indicators: better priors and shorter latency on matching accounts."""

    Params = IntelSharingParams

    def setup(self) -> None:
        m = self.model
        self.last_indicator = np.full(len(m.operator_list), -np.inf)
        if self.params.enabled and self.params.partner_detections_per_day > 0:
            rng = m.streams("intel_sharing")
            for k in range(len(m.operator_list)):
                m.env.process(self._partners(k, rng))

    def _partners(self, k: int, rng: np.random.Generator):
        env = self.model.env
        rate = self.params.partner_detections_per_day / 24.0
        while True:
            yield env.timeout(rng.exponential(1.0 / rate))
            if self.active(env.now):
                self.last_indicator[k] = env.now

    def matched(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Which attacker accounts match shared indicators at hour ``t``."""
        if not self.active(t) or idx.size == 0:
            return np.zeros(idx.size, dtype=bool)
        return self.matched_at(idx, np.full(idx.size, float(t)))

    def matched_at(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Which accounts match shared indicators, each at its own hour ``t``."""
        if not self.params.enabled or idx.size == 0:
            return np.zeros(idx.size, dtype=bool)
        acc = self.model.fleet.accounts
        age = t - self.last_indicator[acc.op[idx]]
        p = self.params.match_share * np.exp(-age / self.params.indicator_decay_hours)
        return (acc.intel_u[idx] < p) & (t >= self.params.effective_hour)

    def attribution_evidence(self, t: float) -> float:
        return self.params.attribution_boost if self.active(t) else 0.0

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        if self.active(t0):
            usd = (
                self.params.analyst_hours_per_day
                * (t1 - t0)
                / 24.0
                * self.model.cfg.review.analyst_usd_per_hour
            )
            self.model.ledger.book(t0, DEFENDER, "partners", "intel_sharing", usd)
