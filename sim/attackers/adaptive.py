"""``adaptive``: go/no-go and a stop rule on one belief model, rule-based responses, re-targeting.

The operator acts only on what it can know (MODEL §2): whether the provider enforces at all (a
provider that bans distillation accounts says so, and any probe shows it), the policies in force
(sanctions, watermarking, intelligence sharing are public), the losses it notices on its own
accounts and how long they were exposed. It does not know the detection budget, the detectors'
strength or how much evidence the defender holds.

Beliefs (:class:`BanBelief`): the per-account daily loss hazard is Gamma-distributed, prior mean
``belief_ban_hazard_per_day`` worth ``belief_prior_account_days`` of exposure, updated by every
loss it notices (bans, throttled or degraded accounts) over its accounts' active days; zero when
nothing can confirm an account. A second Gamma belief, with the same prior, tracks confirmations:
losses to a detector, counted once per cluster and window (a pooled review confirms a cluster in
one decision; sweeps and blacklisting confirm nothing). The attribution it fears follows
:func:`sim.attribution.attribution_probability`, and the penalty is the one in force at the
horizon, when the evidence is weighed. It values what it harvested at the quality it chose: it
cannot see poisoning or degradation it did not notice (``model.believed_stock``).

(1) Go/no-go and (2) the stop rule are one comparison (:meth:`AdaptiveOperator.outlook`): the best
expected net value of harvesting T more days, over every T up to the end of the campaign — value
of the capability gained, minus fees, replacement accounts and infrastructure (within the money
left: the harvest ends when the budget does), minus the expected penalty the added evidence
brings. It goes if some T pays (counting the first fleet's price), and stops when none does
(accounts already bought are sunk). (3) When noticed losses in a window exceed
``response_threshold`` of its fleet, it answers the kind of loss it saw most, after a lag: volume
-> spread thinner (lower cadence, more accounts); content -> more obfuscation (lower quality);
linkage or sweeps -> smaller clusters (dearer infrastructure). It sees the detector behind each
loss (a simplification: real operators infer it). (4) It re-targets a new teacher release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.attackers.base import Operator, StrategyParams
from sim.attribution import attribution_probability
from sim.fleet import BY_BLACKLIST, BY_SCREEN, BY_SWEEP
from sim.parameters import P, share
from sim.registry import attackers


@dataclass
class AdaptiveParams(StrategyParams):
    mode: str = "adaptive"
    go_no_go: bool = True
    stop_rule: bool = True
    #: Prior belief: mean per-account daily ban hazard where the provider enforces [E], and how
    #: many account-days of exposure the prior is worth.
    belief_ban_hazard_per_day: float = P(0.01, ge=0.0)
    belief_prior_account_days: float = P(1000.0, gt=0.0)
    #: Share of the fleet lost in a window that triggers a response.
    response_threshold: float = share(0.01)
    cadence_step: float = share(0.25)
    min_cadence_per_day: float = P(2.0, gt=0.0)
    obfuscation_step: float = share(0.15)
    max_obfuscation: float = share(0.8)
    cluster_step: float = share(0.5)
    min_cluster_size: int = P(1, ge=1)
    #: Share of traffic moved to a new teacher release.
    retarget_share: float = share(1.0)


@dataclass
class BanBelief:
    """Gamma(α, β) belief about the per-account daily ban hazard (conjugate to Poisson losses)."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / self.beta

    def update(self, losses: float, account_days: float) -> None:
        self.alpha += losses
        self.beta += account_days


@dataclass
class Outlook:
    """The operator's best continuation: how many more days, and what it expects them to net."""

    days: float
    net_value_usd: float


@attackers.register("adaptive")
class AdaptiveOperator(Operator):
    """Acts on its beliefs: go/no-go, a stop rule, and simple responses to the losses it sees."""

    Params = AdaptiveParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        s = self.strategy
        prior = (
            s.belief_ban_hazard_per_day * s.belief_prior_account_days,
            s.belief_prior_account_days,
        )
        self.belief = BanBelief(*prior)
        self.confirmation_belief = BanBelief(*prior)
        #: The loss hazard of each supplier's accounts (same prior), for choosing among them.
        self.supplier_beliefs = {s.index: BanBelief(*prior) for s in self.model.market.offers(self)}
        #: Confirmations it believes the defender holds (losses to a detector, once per cluster).
        self.confirmations_seen = 0
        #: The part of it carried over from the actor's attributed earlier campaigns.
        self.inherited_fear = 0.0
        self.pending: list[tuple[float, str]] = []
        self.responses: list[tuple[float, str]] = []
        self.plan_net_value: float | None = None

    @property
    def retarget_share(self) -> float:
        return max(float(self.cfg.retarget_share), self.strategy.retarget_share)

    @property
    def hazard(self) -> float:
        """Believed per-account daily loss hazard: zero where nothing can confirm an account."""
        return self.belief.mean if self.model.defender.can_confirm else 0.0

    @property
    def confirmation_rate(self) -> float:
        """Believed confirmations per account-day (zero where nothing can confirm an account)."""
        return self.confirmation_belief.mean if self.model.defender.can_confirm else 0.0

    # ------------------------------------------------------------------ beliefs -> decisions
    def outlook(self, t: float, upfront: bool) -> Outlook:
        """The best expected net value of harvesting ``T`` more days from ``t``, over ``T`` in
        whole windows up to the end of the campaign (``upfront``: the first fleet is still to buy).

        Net value of T days: value × [G(N + r·T′) − G(N)] − c·T′ − upfront − penalty ×
        [P(C + k·T′, H + d·T′) − P(C, H)], with T′ = min(T, the days the money left lasts),
        r the effective exchanges a day, c the cash a day (fees, replacements at the believed
        hazard, infrastructure), k the confirmations a day (believed rate × fleet) and P the
        attribution the operator fears (MODEL §8). Before the campaign starts, from its start.
        """
        m = self.model
        t = max(t, self.start)
        days_left = (min(self.end, m.horizon) - t) / 24.0
        if days_left <= 0 or self.demand <= 0:
            return Outlook(0.0, 0.0)
        step = m.window / 24.0
        grid = np.minimum(np.arange(1, math.ceil(days_left / step - 1e-9) + 1) * step, days_left)
        fleet = self.fleet_size
        hazard = self.hazard
        price = self.account_price
        cash_per_day = (
            self.demand * self.fee_per_exchange
            + hazard * fleet * price
            + fleet * self.infra_per_account_day
        )
        first = fleet * price if upfront else 0.0
        room = self.budget_left - first
        if room <= 0:
            return Outlook(0.0, -first)
        affordable = room / cash_per_day if cash_per_day > 0 else math.inf
        span = np.minimum(grid, affordable)
        n_now = m.believed_stock[self.index]
        eff_per_day = self.demand * self.quality * self.mix
        g_now = float(self.curve.overall(self.curve.gains(n_now)))
        g = self.curve.overall(self.curve.gains(n_now + span[:, None] * eff_per_day))
        harvested = float(m.harvested_h[self.index].sum())
        risk = np.array(
            [
                self.feared_attribution(
                    self.confirmations_seen + self.confirmation_rate * fleet * d,
                    harvested + self.demand * d,
                )
                for d in span
            ]
        ) - (
            # Not going leaves no campaign to attribute, whatever an earlier one left.
            self.feared_attribution(0.0, 0.0)
            if upfront
            else self.feared_attribution(self.confirmations_seen, harvested)
        )
        # The student is worth the lead left when it is delivered (sim.frontier): stopping now
        # delivers G(N) at t, going on G(N + r·T′) at t + T′, each vintage at its own lead.
        if m.frontier.moves:
            value = self._projected_worth(t, span, n_now, eff_per_day) - self.believed_worth(
                g_now, t
            )
        else:
            value = self.value_usd * (g - g_now)
        net = value - cash_per_day * span - first - self.penalty_usd * risk
        best = int(np.argmax(net))
        return Outlook(float(span[best]), float(net[best]))

    def _projected_worth(
        self, t: float, span: np.ndarray, n_now: np.ndarray, eff_per_day: np.ndarray
    ) -> np.ndarray:
        """What the student would be worth delivered after each continuation in ``span`` (days
        from ``t``), by vintage (sim.frontier), the releases ahead included: each devalues the
        stock by ``staleness_factor`` and starts a vintage of its own."""
        m = self.model
        f = m.cfg.teacher.staleness_factor
        ends = t + span * 24.0
        ahead = [r for r in m.cfg.teacher.releases_hours if t <= r < float(ends.max(initial=t))]
        marks = list(m.believed_marks[self.index])
        stock, since = [n_now], [t]  # the stock after each release ahead, and its hour
        n = n_now
        for r in ahead:
            before = n + eff_per_day * (r - since[-1]) / 24.0
            n = before * f
            g_b = float(self.curve.overall(self.curve.gains(before)))
            marks.append((float(r), g_b, float(self.curve.overall(self.curve.gains(n)))))
            stock.append(n)
            since.append(float(r))
        # A release at the delivery hour comes after it (as in sim.outcomes).
        k = np.searchsorted(np.array(ahead, dtype=float), ends, side="left")
        out = np.empty(span.size)
        for j in np.unique(k):
            sel = k == j
            n_end = stock[j] + ((ends[sel] - since[j]) / 24.0)[:, None] * eff_per_day
            g_end = self.curve.overall(self.curve.gains(n_end))
            n_marks = len(m.believed_marks[self.index]) + int(j)
            out[sel] = self.value_usd * m.frontier.weighted(marks[:n_marks], g_end, ends[sel])
        return out

    def remember(self, earlier: list[Operator], attributed: list[Operator], share: float) -> None:
        """Start from the posterior beliefs of the latest earlier campaign that ran
        (``belief_carryover``) and fear ``share`` of the confirmations it saw itself in the
        campaigns attributed (sim.deterrence)."""
        if self.model.cfg.deterrence.belief_carryover:
            last = max(
                (o for o in earlier if isinstance(o, AdaptiveOperator) and o.go),
                key=lambda o: o.start,
                default=None,
            )
            if last is not None:
                self.belief = BanBelief(last.belief.alpha, last.belief.beta)
                self.confirmation_belief = BanBelief(
                    last.confirmation_belief.alpha, last.confirmation_belief.beta
                )
                for j, b in last.supplier_beliefs.items():
                    if j in self.supplier_beliefs:
                        self.supplier_beliefs[j] = BanBelief(b.alpha, b.beta)
        feared = share * sum(
            getattr(o, "confirmations_seen", 0.0) - getattr(o, "inherited_fear", 0.0)
            for o in attributed
        )
        self.inherited_fear += feared
        self.confirmations_seen += feared

    def feared_attribution(self, confirmations: float, harvested: float) -> float:
        """P(attribution) the operator expects from this much evidence (the defender's formula)."""
        m = self.model
        intel = m.policy("intel_sharing")
        wm = m.policy("watermarking")
        return attribution_probability(
            confirmations,
            m.cfg.enforcement.attribution.confirmed_scale,
            intel.params.attribution_boost if intel is not None else 0.0,
            wm.attribution_evidence(harvested) if wm is not None else 0.0,
        )

    @property
    def penalty_usd(self) -> float:
        """Expected penalty if attributed under the sanctions in force at the horizon, when the
        evidence is weighed: the chain's discounted expected penalty (0 without sanctions)."""
        s = self.model.policy("sanctions")
        return s.expected_penalty_if_attributed(self.model.horizon) if s else 0.0

    @property
    def account_price(self) -> float:
        """Expected price of the next usable account (identity checks included) from the
        supplier it would buy from now."""
        m = self.model
        t = max(m.time_h, self.start)
        m.market.refresh(t)
        offers = m.market.offers(self)
        cost = [float(s.usable_price(t)) * self.supplier_weight(s, t) for s in offers]
        return float(offers[int(np.argmin(cost))].usable_price(t))

    def supplier_weight(self, supplier, t: float) -> float:
        """Believed hazard of the supplier's accounts, floored at one over the days left: price
        × weight is the believed cost of an account per day it serves."""
        days = max((min(self.end, self.model.horizon) - t) / 24.0, self.model.window / 24.0)
        belief = self.supplier_beliefs.get(supplier.index)
        h = belief.mean if belief is not None and self.model.defender.can_confirm else 0.0
        return max(h, 1.0 / days)

    def marginal_value_per_exchange(self) -> float:
        """What one more of its exchanges is worth to it now: value × dG/dN at the stock it
        believes it holds, over a day's harvest."""
        m = self.model
        n_now = m.believed_stock[self.index]
        day = max(self.demand, 1.0)
        g0 = float(self.curve.overall(self.curve.gains(n_now)))
        g1 = float(self.curve.overall(self.curve.gains(n_now + day * self.quality * self.mix)))
        fr = m.frontier
        if fr.moves:
            # Learned now, delivered at the planned end at the lead this version has left then.
            share = fr.era_share(fr.latest_release(m.time_h), min(self.end, m.horizon))
            return self.value_usd * share * (g1 - g0) / day
        return self.value_usd * (g1 - g0) / day

    def replacements(self, when: np.ndarray) -> np.ndarray:
        """Replace lost accounts only while one is worth its price: the value of what it would
        harvest over its believed life (1 / hazard, at most the days left) less its
        infrastructure, against the price of the next account."""
        if when.size == 0:
            return when
        t = float(when[0])
        days = max((min(self.end, self.model.horizon) - t) / 24.0, 0.0)
        h = self.hazard
        life = min(1.0 / h, days) if h > 0 else days
        worth = life * (
            self.marginal_value_per_exchange() * self.harvest_cadence - self.infra_per_account_day
        )
        return when if worth >= self.account_price else when[:0]

    # ------------------------------------------------------------------ strategy hooks
    def plan(self) -> None:
        """Go/no-go on the best expected net value of the campaign under prior beliefs."""
        limits = self.model.policy("rate_limits")
        if limits is not None:
            # A known rate limit: spread thinner rather than have requests refused.
            self.cadence = min(self.cadence, limits.params.exchanges_per_account_day)
        if not self.strategy.go_no_go:
            return
        best = self.outlook(self.start, upfront=True)
        self.plan_net_value = best.net_value_usd
        if best.net_value_usd <= 0:
            self.go = False
            self.stop_reason = "no-go"

    def adapt(self, t0: float, t1: float) -> None:
        if not self.go or t1 >= self.end or t1 <= self.start:
            return
        self._apply_pending(t1)
        seen = self.noticed_losses(t0, t1)
        kinds = self._loss_kinds(seen)
        acc = self.model.fleet.accounts
        confirmed = seen[acc.banned_by[seen] >= 0]  # by a detector: not a sweep or a blacklist
        batches = np.unique(acc.cluster[confirmed]).size
        exposure = self._active_days(t0, t1)
        self.confirmations_seen += batches
        self.belief.update(seen.size, exposure)
        self.confirmation_belief.update(batches, exposure)
        if len(self.supplier_beliefs) > 1:
            lost = np.bincount(acc.supplier[seen] + 1, minlength=len(self.supplier_beliefs) + 1)
            days = self._active_days(t0, t1, by_supplier=True)
            for j, b in self.supplier_beliefs.items():
                b.update(float(lost[j + 1]), float(days[j + 1]))
        live = max(self.believed_open(t1), 1)
        s = self.strategy
        if seen.size and seen.size / live >= s.response_threshold:
            kind = max(kinds, key=kinds.get)
            self.pending.append((t1 + self.model.latency.reaction_hours, kind))
        if s.stop_rule and self.outlook(t1, upfront=False).net_value_usd <= 0:
            self.stop(t1, "no continuation worth its cost")

    def _active_days(self, t0: float, t1: float, by_supplier: bool = False):
        """Account-days the operator's accounts were active (exposed to detection) in the
        window; ``by_supplier``: per supplier index + 1 (0: its own accounts)."""
        acc = self.model.fleet.accounts
        rows = self.mine()
        a = np.maximum(acc.active_at[rows], t0)
        b = np.minimum(acc.ended_at[rows], t1)
        hours = np.clip(b - a, 0.0, None)
        if by_supplier:
            n = len(self.model.market.suppliers) + 1
            return np.bincount(acc.supplier[rows] + 1, weights=hours, minlength=n) / 24.0
        return float(hours.sum() / 24.0)

    def _loss_kinds(self, idx: np.ndarray) -> dict[str, int]:
        by = self.model.fleet.accounts.banned_by[idx]
        out: dict[str, int] = {}
        for code, n in zip(*np.unique(by, return_counts=True), strict=True):
            if code == BY_SWEEP:
                k = "sweep"
            elif code == BY_BLACKLIST:
                k = "blacklist"
            elif code == BY_SCREEN:
                k = "screen"
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
            elif kind in ("linkage", "sweep"):
                self.cluster_size = max(
                    s.min_cluster_size, int(round(self.cluster_size * (1 - s.cluster_step)))
                )
            elif kind in ("blacklist", "screen"):
                continue  # nothing in its rule book answers these
            else:
                self.cadence = max(s.min_cadence_per_day, self.cadence * (1 - s.cadence_step))
            self.responses.append((when, kind))
