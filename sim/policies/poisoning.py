"""Output poisoning (antidistillation sampling; Savani et al. 2025, TraceGuard 2026).

A selector scores accounts each window like a cheap content detector (its own separation and
per-window FPR); traffic of the accounts it marks is served perturbed in the next window, which
multiplies the harvest quality of those exchanges by ``quality_factor``. No ban, and the attacker
need not notice. Falsely marked legitimate traffic loses a share of its value: the users' loss,
at revenue; the defender forgoes the margin on it (MODEL §7). Perturbed sampling costs compute.
All magnitudes are estimates [E]: the papers give a tunable teacher-utility/student-degradation
frontier, not a single number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.detectors.content import ContentParams, content_signal
from sim.ledger import DEFENDER
from sim.parameters import P, ThresholdConfig, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies
from sim.signal import ThinningSampler, flag_probability, scores
from sim.thresholds import threshold


@dataclass
class PoisoningParams(PolicyParams):
    quality_factor: float = share(0.3)
    selector_dprime: float = P(2.0, ge=0.0, le=10.0)
    selector_fpr: float = P(0.01, gt=0.0, lt=1.0)
    usd_per_marked_exchange: float = P(2e-5, ge=0.0)
    legit_utility_loss_share: float = share(0.1)


@policies.register("poisoning")
class OutputPoisoning(Policy):
    """Marks suspicious accounts and degrades what they harvest next window."""

    Params = PoisoningParams

    def setup(self) -> None:
        m = self.model
        p = self.params
        self.rng = m.streams("poisoning")
        self.tau = threshold(ThresholdConfig(method="fpr", target_fpr_per_day=p.selector_fpr), 0)
        self.content = ContentParams()
        self.marked_legit_exchanges = 0.0
        legit = m.legit
        if p.enabled and legit.n:
            u = self.rng.standard_normal(legit.n)
            rho = m.cfg.detection.rho
            mean = p.selector_dprime * legit.content_lookalike + np.sqrt(rho) * u
            self.sampler = ThinningSampler(flag_probability(self.tau, mean, rho))
        else:
            self.sampler = ThinningSampler(np.zeros(0))

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        m = self.model
        acc = m.fleet.accounts
        acc.poisoned[: m.fleet.n] = False
        if not self.active(t1):
            return
        p, rng, rho = self.params, self.rng, m.cfg.detection.rho
        h = ctx.harvest
        if h.idx.size:
            op = acc.op[h.idx]
            g = content_signal(1.0 - ctx.mixing, ctx.obfuscation, ctx.cot_share, self.content)[op]
            s = scores(p.selector_dprime * g, acc.u_select[h.idx].astype(float), rho, rng)
            acc.poisoned[h.idx[s > self.tau]] = True
        # Legitimate accounts marked now are served perturbed outputs next window.
        legit = m.legit
        marked = self.sampler.draw(rng)
        marked = marked[~legit.banned[marked]]
        hours = t1 - t0
        served = legit.rate[marked] * legit.served_share[marked]
        exch = rng.poisson(served * hours / 24.0) * legit.weight[marked]
        loss = float((exch * legit.revenue_per_exchange[marked]).sum()) * p.legit_utility_loss_share
        compute = float(exch.sum()) * p.usd_per_marked_exchange
        m.ledger.book(t1, DEFENDER, "legitimate_users", "utility_loss", m.margin * loss)
        m.ledger.book(t1, "legitimate_users", "lost_service", "user_poisoned_output", loss)
        m.ledger.book(t1, DEFENDER, "compute", "poisoning_compute", compute)
        self.marked_legit_exchanges += float(exch.sum())

    def book_attacker_compute(self, t: float, poisoned_exchanges: float) -> None:
        """Overhead of serving the attacker's poisoned exchanges."""
        self.model.ledger.book(
            t,
            DEFENDER,
            "compute",
            "poisoning_compute",
            poisoned_exchanges * self.params.usd_per_marked_exchange,
        )

    @property
    def quality(self) -> float:
        return self.params.quality_factor
