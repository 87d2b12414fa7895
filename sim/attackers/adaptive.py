"""``adaptive``: go/no-go, rule-based responses to bans, re-targeting, and a marginal stop rule.

(1) Before starting, the operator runs the campaign only if its expected net value under its
beliefs (ban hazard, attribution, penalty) is positive. (2) When bans it notices in a window exceed
``response_threshold`` of its fleet, it answers the kind of ban it saw most, after a lag: volume ->
spread thinner (lower cadence, more accounts); content -> more obfuscation (lower quality);
linkage or sweeps -> smaller clusters (dearer infrastructure). (3) It re-targets a new teacher
release. (4) It stops when the marginal value of the next exchange, value × dG/dN × q, falls below
its marginal cost: price + account price amortised over the expected lifetime + infrastructure +
the expected penalty it adds (MODEL §2). It sees the kind of each ban it suffers (a simplification:
real operators infer it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.attackers.base import Operator, StrategyParams
from sim.fleet import BY_BLACKLIST, BY_SWEEP
from sim.parameters import P, share
from sim.registry import attackers


@dataclass
class AdaptiveParams(StrategyParams):
    mode: str = "adaptive"
    go_no_go: bool = True
    stop_rule: bool = True
    #: Prior beliefs: per-account ban hazard per day, and P(attribution) of the campaign [E].
    belief_ban_hazard_per_day: float = P(0.01, ge=0.0)
    belief_attribution: float = share(0.2)
    #: Weight of the latest window in the operator's running estimate of the hazard.
    belief_smoothing: float = share(0.3)
    #: Share of the fleet banned in a window that triggers a response.
    response_threshold: float = share(0.01)
    cadence_step: float = share(0.25)
    min_cadence_per_day: float = P(2.0, gt=0.0)
    obfuscation_step: float = share(0.15)
    max_obfuscation: float = share(0.8)
    cluster_step: float = share(0.5)
    min_cluster_size: int = P(1, ge=1)
    #: Share of traffic moved to a new teacher release.
    retarget_share: float = share(1.0)


@attackers.register("adaptive")
class AdaptiveOperator(Operator):
    """Best-responds with simple rules to the bans it observes."""

    Params = AdaptiveParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hazard = self.strategy.belief_ban_hazard_per_day
        self.pending: list[tuple[float, str]] = []
        self.responses: list[tuple[float, str]] = []

    @property
    def retarget_share(self) -> float:
        return max(float(self.cfg.retarget_share), self.strategy.retarget_share)

    def expected_penalty(self, t: float) -> float:
        s = self.model.policy("sanctions")
        return s.penalty(t) if s else 0.0

    def plan(self) -> None:
        """Go/no-go on the expected net value of the whole campaign under prior beliefs."""
        limits = self.model.policy("rate_limits")
        if limits is not None:
            # A known rate limit: spread thinner rather than have requests refused.
            self.cadence = min(self.cadence, limits.params.exchanges_per_account_day)
        if not self.strategy.go_no_go:
            return
        days = max(min(self.end, self.model.horizon) - self.start, 0.0) / 24.0
        n_eff = self.demand * days * self.quality * self.mix
        gain = float(self.curve.overall(self.curve.gains(n_eff)))
        fleet = math.ceil(self.demand / self.cadence) if self.demand > 0 else 0
        accounts = fleet * (1.0 + self.hazard * days)
        cost = (
            self.demand * days * self.fee_per_exchange
            + accounts * self.cfg.account_base_price_usd * self._price_multiplier()
            + fleet * days * self.infra_per_account_day
        )
        value = self.value_usd * gain
        risk = self.strategy.belief_attribution * self.expected_penalty(self.start)
        self.plan_net_value = value - min(cost, self.cfg.budget_usd) - risk
        if self.plan_net_value <= 0:
            self.go = False
            self.stop_reason = "no-go"

    def _price_multiplier(self) -> float:
        kyc = self.model.policy("kyc")
        if kyc is None or not kyc.active(self.start):
            return 1.0
        return kyc.params.price_multiplier / (1.0 - kyc.params.block_share)

    def adapt(self, t0: float, t1: float) -> None:
        if not self.go or t1 >= self.end:
            return
        self._apply_pending(t1)
        seen = self.noticed_bans(t0, t1)
        live = max(self.believed_open(t1), 1)
        days = (t1 - t0) / 24.0
        s = self.strategy
        self.hazard = (1 - s.belief_smoothing) * self.hazard + s.belief_smoothing * (
            seen.size / live / days
        )
        if seen.size and seen.size / live >= s.response_threshold:
            kinds = self._ban_kinds(seen)
            kind = max(kinds, key=kinds.get)
            self.pending.append((t1 + self.model.latency.reaction_hours, kind))
        if s.stop_rule and self._marginal_value() < self._marginal_cost(t1):
            self.stop(t1, "marginal value below marginal cost")

    def _ban_kinds(self, idx: np.ndarray) -> dict[str, int]:
        by = self.model.fleet.accounts.banned_by[idx]
        out: dict[str, int] = {}
        for code, n in zip(*np.unique(by, return_counts=True), strict=True):
            if code == BY_SWEEP:
                k = "linkage"
            elif code == BY_BLACKLIST:
                k = "blacklist"
            elif code >= 0:
                k = self.model.detector_list[int(code)].kind
            else:
                k = "other"
            out[k] = out.get(k, 0) + int(n)
        return out

    def _apply_pending(self, t: float) -> None:
        s = self.strategy
        due = [p for p in self.pending if p[0] <= t]
        self.pending = [p for p in self.pending if p[0] > t]
        for when, kind in due:
            if kind == "content":
                self.obfuscation = min(s.max_obfuscation, self.obfuscation + s.obfuscation_step)
            elif kind == "linkage":
                self.cluster_size = max(
                    s.min_cluster_size, int(round(self.cluster_size * (1 - s.cluster_step)))
                )
            elif kind == "blacklist":
                continue
            else:
                self.cadence = max(s.min_cadence_per_day, self.cadence * (1 - s.cadence_step))
            self.responses.append((when, kind))

    def _marginal_value(self) -> float:
        n_eff = self.model.capability_stock[self.index]
        dg = self.curve.marginal_per_exchange(n_eff, self.mix)
        return self.value_usd * dg * self.quality

    def _marginal_cost(self, t: float) -> float:
        # Accounts already bought are sunk: an exchange costs the replacements it wears out, an
        # account price per expected lifetime (1 / hazard days) of cadence exchanges a day.
        # (Spreading the price over the days left instead would make the last days look dear
        # and stop a campaign that still pays.)
        per_account = self.cfg.account_base_price_usd * self._price_multiplier()
        amortised = per_account * self.hazard / self.cadence
        infra = self.infra_per_account_day / self.cadence
        conf = self.model.defender.confirmed_by_op[self.index]
        scale = self.model.cfg.enforcement.attribution.confirmed_scale
        d_attr = math.exp(-conf / scale) / scale * self.hazard / self.cadence
        return self.fee_per_exchange + amortised + infra + self.expected_penalty(t) * d_attr
