"""What the defender learns from each confirmed account (MODEL §4): indicators, with decay.

A confirmation teaches the defender two kinds of indicators:

- the **infrastructure** of the confirmed account's cluster (proxy range, payment instruments,
  devices): every account on it, now or later, matches exactly, and its scores get
  ``cluster_boost × exp(−age / decay_hours)`` (age: hours since the indicators were learned);
- the operator's **templates** (prompt templates, sign-up pattern): a later account of the same
  operator matches with probability ``template_match_share × exp(−age / decay_hours)`` and gets
  ``template_boost``.

Partners' indicators (:mod:`sim.policies.intel_sharing`) are templates learned elsewhere, fed into
the same store with the policy's own share, decay and boost. Sign-up screening blocks a new account
that matches — on known infrastructure with ``screening_prob × exp(−age / decay)``, on a template
match with ``screening_prob`` — before it ever serves: the operator has paid for it and notices the
loss like a ban. Account age can be a signal too (``age_boost``, off by default: its strength is
unsourced): every account's scores, legitimate ones included, get ``age_boost × exp(−age /
age_scale_days)``; aged or hijacked accounts arrive with their history. All figures are
estimates [E].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.legit import DAYS_PER_MONTH

if TYPE_CHECKING:
    from sim.model import DistillationModel
    from sim.sharing import Received


class Learning:
    """The defender's indicator store: infrastructure by cluster, templates by operator."""

    def __init__(self, model: DistillationModel) -> None:
        self.model = model
        self.params = model.cfg.learning
        self.enabled = bool(self.params.enabled)
        n_ops = len(model.cfg.operators)
        #: When the defender last learned each operator's templates (own confirmations).
        self.templates_at = np.full(n_ops, -math.inf)
        self.rng = model.streams("learning")
        #: The indicators the other labs sent, set by sim.sharing for a lab that shares (None:
        #: no sharing, today's model).
        self.received: Received | None = None

    # ------------------------------------------------------------------ learning
    def learn(self, cluster: int, op: int, t: float) -> None:
        """A confirmed account of cluster ``cluster`` (operator ``op``) at ``t``."""
        if not self.enabled:
            return
        cl = self.model.fleet.clusters
        cl.known_at[cluster] = min(float(cl.known_at[cluster]), t)
        self.templates_at[op] = max(self.templates_at[op], t)

    # ------------------------------------------------------------------ matching
    def _cluster_factor(self, clusters: np.ndarray, t: float | np.ndarray) -> np.ndarray:
        if self.received is not None:
            self.received.sync()  # clusters opened since: indicators the others sent first
        known = self.model.fleet.clusters.known_at[clusters]
        age = t - known
        return np.where(age >= 0, np.exp(-np.maximum(age, 0.0) / self.params.decay_hours), 0.0)

    def partner_match(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Accounts matching partners' indicators at ``t`` (intelligence sharing)."""
        intel = self.model.policy("intel_sharing")
        if intel is None or idx.size == 0:
            return np.zeros(idx.size, dtype=bool)
        return intel.matched(idx, t)

    def template_match(self, idx: np.ndarray, t: float | np.ndarray) -> np.ndarray:
        """Accounts matching the operator's templates learned from own confirmations, at hour
        ``t`` (one for all, or one per account)."""
        if not self.enabled or idx.size == 0:
            return np.zeros(idx.size, dtype=bool)
        acc = self.model.fleet.accounts
        ops = acc.op[idx].astype(np.int64)
        age = t - self.templates_at[ops]
        if self.received is not None:
            # Templates the other labs sent count as learned here when they arrived.
            age = np.minimum(age, self.received.template_age(ops, t))
        p = self.params
        share = p.template_match_share * np.exp(-np.maximum(age, 0.0) / p.decay_hours)
        return acc.intel_u[idx] < share

    # ------------------------------------------------------------------ account age
    @property
    def uses_age(self) -> bool:
        return self.enabled and self.params.age_boost > 0

    def _age_term(self, age_days: np.ndarray) -> np.ndarray:
        p = self.params
        return p.age_boost * np.exp(-np.maximum(age_days, 0.0) / p.age_scale_days)

    def legit_age_term(self, legit) -> np.ndarray | None:
        """The age term of every legitimate account (None when age is not used). Ages are
        uniform over each tier's lifetime — the steady state of a tier with constant sign-ups,
        which also keeps the share of young accounts constant over the run."""
        if not self.uses_age:
            return None
        if getattr(self, "_legit_age", None) is None:
            life = np.array([t.lifetime_months * DAYS_PER_MONTH for t in legit.tiers])
            rng = self.model.streams("legit_age")
            self._legit_age = rng.random(legit.n) * life[legit.tier]
        return self._age_term(self._legit_age)

    def boost(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Additive score boost (d′ units) of accounts ``idx`` at ``t``: shared and learned
        indicators, and (if used) the account's age."""
        out = np.zeros(idx.size)
        intel = self.model.policy("intel_sharing")
        partners = self.partner_match(idx, t)
        if intel is not None:
            out[partners] = intel.params.prior_boost
        if not self.enabled or idx.size == 0:
            return out
        p = self.params
        own = self.template_match(idx, t)
        out = np.maximum(out, np.where(own, p.template_boost, 0.0))
        acc = self.model.fleet.accounts
        out = out + p.cluster_boost * self._cluster_factor(acc.cluster[idx], t)
        if self.uses_age:
            age = acc.age0_days[idx] + (t - acc.active_at[idx]) / 24.0
            out = out + self._age_term(age)
        return out

    # ------------------------------------------------------------------ sign-up screening
    def screen(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Which new accounts ``idx`` (signing up at hours ``t``) screening blocks."""
        if not self.enabled or self.params.screening_prob <= 0 or idx.size == 0:
            return np.zeros(idx.size, dtype=bool)
        acc = self.model.fleet.accounts
        p = self.params
        t = np.asarray(t, dtype=float)
        infra = self._cluster_factor(acc.cluster[idx], t)
        templ = self.template_match(idx, t)
        intel = self.model.policy("intel_sharing")
        if intel is not None:
            templ |= intel.matched_at(idx, t)
        prob = p.screening_prob * np.maximum(infra, templ.astype(float))
        return self.rng.random(idx.size) < prob
