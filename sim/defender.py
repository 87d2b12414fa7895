"""The defender agent: splits the detection budget, triages flags, reviews, enforces, attributes.

Budget (MODEL §4): detector k gets ``share_k × B``; the review share pays analysts
(``floor(S_review / (shift_hours × $/h))`` of them). Flags from one window become cases (one per
account, one per flagged pool, one per thinned legitimate account); after each detector's latency
they join the review queue. A confirmed attacker account is enforced against after a delay, and its
cluster is found with probability ``1 − Π(1 − p_signal)``; a found cluster is attributed in full and
a sweep takes down ``sweep_share`` of its live accounts. A campaign is attributed in-run when its
evidence crosses the operator's (uniform) attribution draw.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.detectors.base import Flags, ScanContext
from sim.fleet import ACT_DEGRADE, ACT_THROTTLE, BY_BLACKLIST, BY_SWEEP, END_BANNED
from sim.ledger import DEFENDER
from sim.review import Case, ReviewQueue

if TYPE_CHECKING:
    from sim.model import DistillationModel


class Defender(mesa.Agent):
    """The API provider's trust-and-safety operation (Mesa agent)."""

    def __init__(self, model: DistillationModel) -> None:
        super().__init__(model)
        cfg = model.cfg
        self.cfg = cfg
        self.stream = model.streams("defender")
        B = cfg.detection.budget_usd_per_day
        self.budget = B
        self.spend = {k: float(v) * B for k, v in cfg.detection.shares.items()}
        review_usd = self.spend.get("review", 0.0)
        shift_cost = cfg.review.shift_hours * cfg.review.analyst_usd_per_hour
        self.n_analysts = int(math.floor(review_usd / shift_cost + 1e-9)) if B > 0 else 0
        self.queue = ReviewQueue(
            model.env, cfg.review, self.n_analysts, model.streams("review"), self.decide
        )
        n_ops = len(cfg.operators)
        self.confirmed_by_op = np.zeros(n_ops)
        self.attributed_at = np.full(n_ops, math.inf)
        self.attribution_draw = self.stream.random(n_ops)
        self.first_flag_at = math.inf
        self.first_detection_at = math.inf
        self.legit_flag_events = 0.0
        self.legit_false_bans = 0.0
        self.legit_fp_cost = 0.0
        self.reseller_customers_hit = 0.0
        self.auto_bans = 0
        self.sweeps = 0

    # ------------------------------------------------------------------ triage
    def triage(self, flags: list[Flags], ctx: ScanContext) -> None:
        """Turn one window's flags into review cases (or auto-bans) and queue them."""
        m = self.model
        fleet, legit, t = m.fleet, m.legit, ctx.t1
        acc = fleet.accounts
        taken: set[int] = set()
        legit_taken: set[int] = set()
        intel = m.policy("intel_sharing")
        for f in flags:
            det = m.detector_list[f.index]
            base_delay = m.latency.detector_hours(f.detector)
            cases: list[Case] = []
            fast: list[Case] = []
            if det.links_clusters and f.accounts.size:
                fleet.clusters.linked[acc.cluster[f.accounts]] = True
            for cl, members, score in f.pools:
                members = np.array([i for i in members if i not in taken], dtype=np.int64)
                if members.size == 0:
                    continue
                taken.update(members.tolist())
                cases.append(
                    Case(
                        f.detector,
                        True,
                        members,
                        score,
                        t,
                        op=int(acc.op[members[0]]),
                        cluster=cl,
                        pooled=True,
                    )
                )
            auto = det.params.auto_ban_score
            matched = intel.matched(f.accounts, t) if intel else np.zeros(f.accounts.size, bool)
            for i, s, mt in zip(
                f.accounts.tolist(), f.scores.tolist(), matched.tolist(), strict=True
            ):
                if i in taken:
                    continue
                taken.add(i)
                if auto is not None and s > auto:
                    self.auto_bans += 1
                    self.enforce(np.array([i]), t + base_delay, f.index, confirmed=True)
                    continue
                c = Case(
                    f.detector,
                    True,
                    np.array([i]),
                    s,
                    t,
                    op=int(acc.op[i]),
                    cluster=int(acc.cluster[i]),
                )
                (fast if mt else cases).append(c)
            for j in f.legit.tolist():
                if j in legit_taken:
                    continue
                legit_taken.add(j)
                cases.append(
                    Case(
                        f.detector, False, np.array([j]), math.nan, t, weight=float(legit.weight[j])
                    )
                )
            for c in cases + fast:
                if c.attacker:
                    acc.in_review[c.accounts] = True
                    acc.first_flag_at[c.accounts] = np.minimum(acc.first_flag_at[c.accounts], t)
                    self.first_flag_at = min(self.first_flag_at, t)
                else:
                    legit.in_review[c.accounts] = True
                    legit.ever_flagged[c.accounts] = True
            self.queue.submit(cases, base_delay)
            if fast:
                self.queue.submit(fast, base_delay * intel.params.latency_factor)
        self.legit_flag_events += float(sum(legit.weight[j] for j in legit_taken))

    # ------------------------------------------------------------------ review outcome
    def decide(self, case: Case, now: float) -> None:
        """Called by an analyst when a review ends."""
        m = self.model
        rng = self.stream
        if case.attacker:
            acc = m.fleet.accounts
            acc.in_review[case.accounts] = False
            if rng.random() < self.cfg.review.confirm_attacker_prob:
                by = m.detector_index[case.detector]
                delay = m.latency.enforcement_hours(1)[0]
                self.enforce(case.accounts, now + delay, by, confirmed=True)
                self.first_detection_at = min(self.first_detection_at, now)
                for cl in np.unique(acc.cluster[case.accounts]).tolist():
                    self.investigate(cl, now)
            else:
                acc.cooldown_until[case.accounts] = now + self.cfg.review.cooldown_hours
        else:
            legit = m.legit
            legit.in_review[case.accounts] = False
            if rng.random() < self.cfg.review.false_confirm_legit_prob:
                cost = legit.ban(case.accounts, now)
                self.legit_false_bans += case.weight
                self.legit_fp_cost += cost
                m.ledger.book(now, DEFENDER, "legitimate_users", "false_positives", cost)
            else:
                legit.cooldown_until[case.accounts] = now + self.cfg.review.cooldown_hours

    def enforce(self, idx: np.ndarray, t: float, by: int, confirmed: bool) -> None:
        """Ban (or throttle/degrade) attacker accounts from hour ``t``."""
        m = self.model
        acc = m.fleet.accounts
        if confirmed:
            new = idx[~acc.confirmed[idx]]
            acc.confirmed[new] = True
            acc.attributed[idx] = True
            np.add.at(self.confirmed_by_op, acc.op[new].astype(np.intp), 1.0)
        action = self.cfg.enforcement.action
        if action == "ban":
            self._collateral(m.fleet.end(idx, t, END_BANNED, by))
        else:
            code = ACT_THROTTLE if action == "throttle" else ACT_DEGRADE
            m.fleet.act(idx, t, code, by)

    def _collateral(self, idx: np.ndarray) -> None:
        """Banning accounts that resell to real customers cuts those customers off too."""
        m = self.model
        if idx.size == 0:
            return
        acc = m.fleet.accounts
        for k, op in enumerate(m.operator_list):
            mix = op.cfg.traffic_mixing
            n = int((acc.op[idx] == k).sum())
            if mix <= 0 or n == 0:
                continue
            # Customers' own traffic per account, in units of a median legitimate customer.
            own = op.cadence * mix / (1.0 - mix)
            customers = n * own / max(m.legit.median_rate, 1e-9)
            cost = customers * self.cfg.enforcement.reseller_customer_usd
            self.reseller_customers_hit += customers
            self.legit_fp_cost += cost
            m.ledger.book(m.env.now, DEFENDER, "legitimate_users", "false_positives", cost)

    def investigate(self, cluster: int, now: float) -> None:
        """Look for the confirmed account's cluster; if found, attribute it and sweep it."""
        m = self.model
        cl = m.fleet.clusters
        if cl.found[cluster]:
            return
        p = np.array(list(self.cfg.enforcement.sweep_signals.values()), dtype=float)
        p_found = 1.0 - float(np.prod(1.0 - p)) if p.size else 0.0
        if self.stream.random() >= p_found:
            return
        cl.found[cluster] = True
        cl.linked[cluster] = True
        members = m.fleet.cluster_members(cluster)
        acc = m.fleet.accounts
        acc.attributed[members] = True
        t = now + m.latency.sweep_hours
        alive = members[acc.ended_at[members] > t]
        if alive.size:
            hit = alive[self.stream.random(alive.size) < self.cfg.enforcement.sweep_share]
            if hit.size:
                self.sweeps += 1
                self.enforce(hit, t, BY_SWEEP, confirmed=False)

    # ------------------------------------------------------------------ attribution
    def attribution_probability(self, k: int, t: float) -> float:
        """In-run P(attribution) of operator k from confirmations and shared intelligence."""
        m = self.model
        scale = self.cfg.enforcement.attribution.confirmed_scale
        p_conf = 1.0 - math.exp(-self.confirmed_by_op[k] / scale)
        intel = m.policy("intel_sharing")
        p_intel = intel.attribution_evidence(t) if intel and self.confirmed_by_op[k] > 0 else 0.0
        return 1.0 - (1.0 - p_conf) * (1.0 - p_intel)

    def attribute(self, t: float) -> None:
        """Attribute campaigns whose evidence crossed their draw; blacklist if sanctioned."""
        m = self.model
        sanctions = m.policy("sanctions")
        for k, op in enumerate(m.operator_list):
            if self.attributed_at[k] < math.inf:
                continue
            if self.attribution_probability(k, t) > self.attribution_draw[k]:
                self.attributed_at[k] = t
                if sanctions and sanctions.blacklists(t) and op.go:
                    acc = m.fleet.accounts
                    n = m.fleet.n
                    mine = np.flatnonzero(acc.op[:n] == k)
                    acc.attributed[mine] = True
                    live = mine[acc.ended_at[mine] > t]
                    ban_t = t + m.latency.enforcement_hours(1)[0]
                    self.enforce(live, ban_t, BY_BLACKLIST, confirmed=False)
                    op.stop(ban_t, "blacklisted")

    def retrospective(self) -> None:
        """Post-campaign investigation of every operator with a confirmed account.

        Disclosed figures (accounts, exchanges) come from such an investigation, not only from
        the bans made while the campaign ran: it links each of the operator's clusters not yet
        found with probability ``retrospective_find_prob`` and attributes (does not ban) them.
        """
        m = self.model
        cl = m.fleet.clusters
        p = self.cfg.enforcement.retrospective_find_prob
        for k in range(len(m.operator_list)):
            if self.confirmed_by_op[k] < 1:
                continue
            todo = np.flatnonzero((cl.op[: cl.n] == k) & ~cl.found[: cl.n])
            hit = todo[self.stream.random(todo.size) < p]
            cl.found[hit] = True
            acc = m.fleet.accounts
            n = m.fleet.n
            acc.attributed[:n] |= np.isin(acc.cluster[:n], hit)

    # ------------------------------------------------------------------ money
    def pay(self, t0: float, t1: float, traffic: float) -> float:
        """Book the window's detector costs and review staff; returns the detection spend."""
        m = self.model
        hours = t1 - t0
        total = 0.0
        for det in m.detector_list:
            c = det.window_cost(traffic, hours)
            det.cost_usd += c
            total += c
            m.ledger.book(t0, DEFENDER, f"detector:{det.name}", "detection", c)
        staff = self.queue.staff_usd_per_day * hours / 24.0
        m.ledger.book(t0, DEFENDER, "analysts", "review_staff", staff)
        return total + staff
