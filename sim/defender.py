"""The defender agent: splits the detection budget, triages flags, reviews, enforces, attributes.

Budget (MODEL §4): detector k gets ``share_k × B``; the review share pays analysts
(``floor(S_review / (shift_hours × $/h))`` of them); what neither spends is reported unspent.
Flags from one window become cases (one per account, one per flagged pool, one per flagged
legitimate account); after each detector's latency they join the review queue. In a thinned world
a flagged legitimate account stands for ``w`` real ones: it is one case that decides its fate,
and the review work of the ``w − 1`` others arrives as load (:meth:`Defender._thinned_load`), so
the queue sees the arrivals of the whole population. A confirmed attacker account is enforced
against after a delay, and its cluster is found with probability ``1 − Π(1 − p_signal)``; a found
cluster is attributed in full and a sweep takes down ``sweep_share`` of its live accounts. Each
confirmation decision is one piece of evidence; a campaign is attributed in-run when its evidence
(:mod:`sim.attribution`) crosses the operator's (uniform) attribution draw.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import review
from sim.attribution import attribution_probability
from sim.detectors.base import Flags, ScanContext
from sim.fleet import ACT_DEGRADE, ACT_THROTTLE, BY_BLACKLIST, BY_SWEEP, END_BANNED
from sim.ledger import DEFENDER
from sim.review import Case, CaseBatch
from sim.review_kernel import ATTACKER, LEGIT, LOAD, POOL
from sim.rng import BlockDraws, DrawBuffer

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import DistillationModel


class Defender(mesa.Agent):
    """The API provider's trust-and-safety operation (Mesa agent)."""

    def __init__(self, model: DistillationModel) -> None:
        super().__init__(model)
        cfg = model.cfg
        self.cfg = cfg
        #: Uniforms only, through a buffer the compiled review decisions draw from too.
        self.stream = DrawBuffer(model.streams("defender"), normal=False, block=1024)
        B = cfg.detection.budget_usd_per_day
        self.budget = B
        self.spend = {k: float(v) * B for k, v in cfg.detection.shares.items()}
        review_usd = self.spend.get("review", 0.0)
        shift_cost = cfg.review.shift_hours * cfg.review.analyst_usd_per_hour
        self.n_analysts = int(math.floor(review_usd / shift_cost + 1e-9)) if B > 0 else 0
        self.queue = review.make_queue(
            model.env, cfg.review, self.n_analysts, model.streams("review"), self
        )
        self.verdicts = BlockDraws(model.streams("review_decisions"))
        n_ops = len(cfg.operators)
        #: Attacker accounts confirmed, and confirmation decisions (the evidence), per operator.
        self.confirmed_by_op = np.zeros(n_ops)
        self.decisions_by_op = np.zeros(n_ops)
        #: Evidence carried over from the actor's attributed earlier campaigns (sim.deterrence).
        self.inherited_evidence = np.zeros(n_ops)
        #: Indicator sharing (sim.sharing): operator -> the decisions all participants hold.
        self.evidence_pool: Callable[[int], float] | None = None
        self.attributed_at = np.full(n_ops, math.inf)
        self.blacklisted_at = np.full(n_ops, math.inf)
        self.attribution_draw = self.stream.random(n_ops)
        #: Whether a blacklist would be enforced (its own stream: drawing it changes nothing else).
        self.blacklist_draw = model.streams("sanctions").random(n_ops)
        # Probability an investigation exposes a confirmed account's cluster: 1 − Π(1 − p_signal).
        signals = list(cfg.enforcement.sweep_signals.values())
        self.p_cluster_found = 1.0 - math.prod(1.0 - p for p in signals) if signals else 0.0
        self.first_flag_at = math.inf
        self.first_detection_at = math.inf
        #: Weighted legitimate accounts flagged, summed over scans (FPR per window numerator).
        self.legit_flag_events = 0.0
        self.legit_false_bans = 0.0
        #: Weighted legitimate accounts wrongly banned, throttled or degraded.
        self.legit_false_actions = 0.0
        self.reseller_customers_hit = 0.0
        self.rng_load = model.streams("review_load")
        dets = model.detector_list
        #: Whether anything can confirm an attacker account (a public fact an operator can know:
        #: the provider detects, and someone or something decides). A running detector inspects.
        self.can_confirm = any(d.on for d in dets) and (
            self.n_analysts > 0 or any(d.on and d.params.auto_ban_score is not None for d in dets)
        )
        self.auto_bans = 0
        self.sweeps = 0

    # ------------------------------------------------------------------ triage
    def triage(self, flags: list[Flags], ctx: ScanContext) -> None:
        """Turn one window's flags into review cases (or auto-bans) and queue them.

        An account flagged by several detectors in one window becomes one case, under the first
        detector (in config order) that flagged it; pooled flags come first. An account already
        cased or enforced against this window is recognised by its state (in review, confirmed).
        """
        m = self.model
        fleet, legit, t = m.fleet, m.legit, ctx.t1
        acc = fleet.accounts
        intel = m.policy("intel_sharing")
        for f in flags:
            det = m.detector_list[f.index]
            delay = det.processing_hours
            auto = det.params.auto_ban_score
            name, by = f.detector, m.detector_index[f.detector]
            if det.links_clusters and f.accounts.size:
                fleet.clusters.linked[acc.cluster[f.accounts]] = True
            pools, p_score, p_op, p_cl = [], [], [], []
            for cl, members, score in f.pools:
                members = members[~acc.in_review[members] & ~acc.confirmed[members]]
                if members.size == 0:
                    continue
                self._flagged(members, t)
                if auto is not None and score > auto:
                    self.auto_ban(members, t + delay, f.index, each=False)
                    continue
                acc.in_review[members] = True
                pools.append(members)
                p_score.append(score)
                p_op.append(int(acc.op[members[0]]))
                p_cl.append(cl)
            new = ~acc.in_review[f.accounts] & ~acc.confirmed[f.accounts]
            idx, sc = f.accounts[new], f.scores[new]
            self._flagged(idx, t)
            if auto is not None:
                hit = sc > auto
                if hit.any():
                    self.auto_ban(idx[hit], t + delay, f.index, each=True)
                idx, sc = idx[~hit], sc[~hit]
            acc.in_review[idx] = True
            matched = m.learning.partner_match(idx, t)
            open_ = ~legit.in_review[f.legit] & ~legit.banned[f.legit] & ~legit.acted[f.legit]
            lidx, lsc = f.legit[open_], f.legit_scores[open_]
            legit.ever_flagged[lidx] = True
            self.legit_flag_events += float(legit.weight[lidx].sum())
            if auto is not None:
                hit = lsc > auto
                if hit.any():
                    self._false_action(lidx[hit], t + delay)
                lidx = lidx[~hit]
            legit.in_review[lidx] = True
            load = int(self.rng_load.poisson(f.legit_load)) if f.legit_load > 0 else 0
            # Legitimate cases, then the load; the thinned accounts' own cases sit at random
            # places among the load, as they would among the other flags of the whole population.
            l_kind = np.concatenate([np.full(lidx.size, LEGIT), np.full(load, LOAD)])
            l_acc = np.concatenate([lidx, np.full(load, -1)])
            if load:
                order = self.rng_load.permutation(l_kind.size)
                l_kind, l_acc = l_kind[order], l_acc[order]
            nl = l_kind.size
            # One batch: pools, the accounts not matched, the legitimate cases; and the
            # accounts matching partners' indicators, sooner.
            rest = ~matched
            cases = CaseBatch(
                name,
                by,
                t,
                np.concatenate(
                    [np.full(len(pools), POOL), np.full(int(rest.sum()), ATTACKER), l_kind]
                ),
                np.concatenate([np.arange(len(pools)), idx[rest], l_acc]),
                np.concatenate([np.array(p_score, dtype=float), sc[rest], np.full(nl, math.nan)]),
                np.concatenate(
                    [np.array(p_op, dtype=np.int64), acc.op[idx[rest]], np.full(nl, -1)]
                ),
                np.concatenate(
                    [np.array(p_cl, dtype=np.int64), acc.cluster[idx[rest]], np.full(nl, -1)]
                ),
                np.concatenate([[float(p.size) for p in pools], np.ones(int(rest.sum()) + nl)]),
                pools,
            )
            self.queue.submit(cases, delay)
            if matched.any():
                fast = idx[matched]
                self.queue.submit(
                    CaseBatch(
                        name,
                        by,
                        t,
                        np.full(fast.size, ATTACKER),
                        fast,
                        sc[matched],
                        acc.op[fast].astype(np.int64),
                        acc.cluster[fast].astype(np.int64),
                        np.ones(fast.size),
                        [],
                    ),
                    delay * intel.params.latency_factor,
                )

    def _flagged(self, idx: np.ndarray, t: float) -> None:
        if idx.size:
            acc = self.model.fleet.accounts
            acc.first_flag_at[idx] = np.minimum(acc.first_flag_at[idx], t)
            self.first_flag_at = min(self.first_flag_at, t)

    def auto_ban(self, idx: np.ndarray, t: float, by: int, each: bool) -> None:
        """Enforce without review (score above the detector's auto-ban score); each scored unit
        over the score is one decision: every account (``each``) or the one pool ``idx`` is."""
        self.auto_bans += int(idx.size)
        self.enforce(idx, t, by, confirmed=True, decisions=1, each=each)
        self.first_detection_at = min(self.first_detection_at, t)
        acc = self.model.fleet.accounts
        for cl in np.unique(acc.cluster[idx]).tolist():
            self.model.learning.learn(cl, int(self.model.fleet.clusters.op[cl]), t)
            self.investigate(cl, t)

    def _false_action(self, idx: np.ndarray, t: float) -> None:
        """Enforce on legitimate accounts by mistake (the configured action) and book the loss:
        the defender's (lost margin, support) and the users' own (MODEL §7)."""
        m = self.model
        legit = m.legit
        en = self.cfg.enforcement
        new = idx[~legit.banned[idx] & ~legit.acted[idx]]
        self.legit_false_actions += float(legit.weight[new].sum())
        if en.action == "ban":
            self.legit_false_bans += float(legit.weight[new].sum())
        loss = legit.act(
            idx,
            t,
            en.action,
            en.throttle_factor,
            en.legit_churn_share_if_not_banned,
            en.degrade_quality,
        )
        led = m.ledger
        led.book(t, DEFENDER, "legitimate_users", "false_positives", m.margin * loss.revenue_usd)
        led.book(t, DEFENDER, "support_staff", "support", loss.support_usd)
        led.book(t, "legitimate_users", "lost_service", "user_false_actions", loss.revenue_usd)

    # ------------------------------------------------------------------ review outcome
    def decide(self, case: Case, now: float) -> None:
        """Called by an analyst when a review ends."""
        if not case.decides:
            return  # review work of thinned-out accounts: it took an analyst's time, nothing more
        u = self.verdicts.uniform()
        if case.attacker:
            by = self.model.detector_index[case.detector]
            self.decide_attacker(case.accounts, case.pooled, by, case.op, case.cluster, now, u)
        else:
            legit = self.model.legit
            j = case.accounts  # a legitimate case is one (thinned) account
            legit.in_review[j] = False
            if u < self.cfg.review.false_confirm_legit_prob:
                self._false_action(np.array([j]), now)
            else:
                legit.cooldown_until[j] = now + self.cfg.review.cooldown_hours

    def decide_attacker(
        self, accounts, pooled: bool, by: int, op: int, cluster: int, now: float, u: float
    ) -> None:
        """The decision on a reviewed attacker account or pool, given its verdict draw ``u``."""
        m = self.model
        acc = m.fleet.accounts
        acc.in_review[accounts] = False
        if u < self.cfg.review.confirm_attacker_prob:
            t = now + m.latency.enforcement_hour()
            if pooled:
                self.enforce(accounts, t, by, confirmed=True, decisions=1)
            else:
                self._enforce_one(accounts, t, by, op)
            self.first_detection_at = min(self.first_detection_at, now)
            m.learning.learn(cluster, op, now)
            self.investigate(cluster, now)
        else:
            acc.cooldown_until[accounts] = now + self.cfg.review.cooldown_hours

    def _enforce_one(self, j: int, t: float, by: int, op: int) -> None:
        """:meth:`enforce` of one confirmed account ``j`` of operator ``op`` (one decision), on
        scalars: the review of a single account, the commonest decision by far."""
        acc = self.model.fleet.accounts
        if self.cfg.enforcement.action != "ban":
            self.enforce(np.array([j]), t, by, confirmed=True, decisions=1)
            return
        if not acc.confirmed[j]:
            acc.confirmed[j] = True
            self.confirmed_by_op[op] += 1
        acc.attributed[j] = True
        self.decisions_by_op[op] += 1
        if acc.ended_at[j] > t:
            acc.ended_at[j] = t
            acc.end_kind[j] = END_BANNED
            acc.banned_by[j] = by
            self._collateral_of(op, 1, t)

    def enforce(
        self,
        idx: np.ndarray,
        t: float,
        by: int,
        confirmed: bool,
        decisions: int = 0,
        each: bool = False,
    ) -> None:
        """Ban (or throttle/degrade) attacker accounts from hour ``t``. A confirmation adds
        ``decisions`` to the evidence against the accounts' operator — one per review decision,
        however many accounts it covers (a case is one operator's) — or, with ``each``, one per
        account to its own operator (individually scored auto-bans)."""
        m = self.model
        acc = m.fleet.accounts
        if confirmed:
            new = idx[~acc.confirmed[idx]]
            acc.confirmed[new] = True
            acc.attributed[idx] = True
            self.confirmed_by_op += np.bincount(acc.op[new], minlength=self.confirmed_by_op.size)
            if each:
                self.decisions_by_op += np.bincount(
                    acc.op[idx], minlength=self.decisions_by_op.size
                )
            elif decisions and idx.size:
                self.decisions_by_op[int(acc.op[idx[0]])] += decisions
        action = self.cfg.enforcement.action
        if action == "ban":
            self._collateral(m.fleet.end(idx, t, END_BANNED, by), t)
        else:
            code = ACT_THROTTLE if action == "throttle" else ACT_DEGRADE
            m.fleet.act(idx, t, code, by)

    def _collateral(self, idx: np.ndarray, t: float) -> None:
        """Banning accounts that resell to real customers cuts those customers off too."""
        m = self.model
        if idx.size == 0 or t >= m.horizon:
            return
        per_op = np.bincount(m.fleet.accounts.op[idx], minlength=len(m.operator_list))
        for k in np.flatnonzero(per_op).tolist():
            self._collateral_of(k, int(per_op[k]), t)

    def _collateral_of(self, k: int, n: int, t: float) -> None:
        """Book the customers cut off by banning ``n`` accounts of operator ``k`` at ``t``."""
        m = self.model
        op = m.operator_list[k]
        mix = op.cfg.traffic_mixing
        if mix <= 0 or t >= m.horizon:
            return  # a ban that lands after the horizon cuts nobody off within it
        # Customers' own traffic per account, in units of a median legitimate customer.
        customers = n * op.cadence * mix / max(m.legit.median_rate, 1e-9)
        cost = customers * self.cfg.enforcement.reseller_customer_usd
        self.reseller_customers_hit += customers
        m.ledger.book(t, DEFENDER, "reseller_customers", "reseller_collateral", cost)

    def investigate(self, cluster: int, now: float) -> None:
        """Look for the confirmed account's cluster; if found, attribute it and sweep it."""
        m = self.model
        cl = m.fleet.clusters
        if cl.found[cluster]:
            return
        if self.stream.random() >= self.p_cluster_found:
            return
        self.cluster_found(cluster, now)

    def cluster_found(self, cluster: int, now: float) -> None:
        """An investigation found the cluster: attribute it in full and sweep it."""
        m = self.model
        cl = m.fleet.clusters
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
    def attribution_probability(self, k: int, t: float, watermark: float = 0.0) -> float:
        """P(attribution) of operator k from the evidence held at ``t`` (:mod:`sim.attribution`):
        confirmation decisions, shared intelligence and, after the fact, watermark evidence."""
        intel = self.model.policy("intel_sharing")
        pool = self.evidence_pool
        return attribution_probability(
            (self.decisions_by_op[k] if pool is None else pool(k)) + self.inherited_evidence[k],
            self.cfg.enforcement.attribution.confirmed_scale,
            intel.attribution_evidence(t) if intel else 0.0,
            watermark,
        )

    def attribute(self, t: float) -> None:
        """Attribute campaigns whose evidence crossed their draw; blacklist if sanctioned."""
        m = self.model
        sanctions = m.policy("sanctions")
        for k, op in enumerate(m.operator_list):
            if self.attributed_at[k] < math.inf:
                continue
            if self.attribution_probability(k, t) > self.attribution_draw[k]:
                self.attributed_at[k] = t
                m.memory.attributed(k, t)
                enforced = sanctions and sanctions.blacklist_enforced(self.blacklist_draw[k])
                if enforced and sanctions.blacklists(t) and op.go:
                    lag = sanctions.params.enforcement_lag_days * 24.0
                    self.schedule_blacklist(k, t + lag, sanctions.params.front_company_share)

    def schedule_blacklist(self, k: int, t: float, front_share: float) -> None:
        """Blacklist operator ``k`` at hour ``t`` (a SimPy event): its live accounts are banned
        and it routes ``front_share`` of its demand through front companies (0: it stops)."""
        m = self.model

        def designation():
            yield m.env.timeout(max(t - m.env.now, 0.0))
            op = m.operator_list[k]
            acc = m.fleet.accounts
            mine = m.fleet.operator_rows(k)
            acc.attributed[mine] = True
            live = mine[acc.ended_at[mine] > t]
            ban_t = t + m.latency.enforcement_hours(1)[0]
            self.enforce(live, ban_t, BY_BLACKLIST, confirmed=False)
            self.blacklisted_at[k] = t
            if front_share > 0:
                op.reroute(ban_t, front_share)
            else:
                op.stop(ban_t, "blacklisted")
            m.memory.blacklisted(k, t)

        m.env.process(designation())

    def designate_at_start(self, k: int, t: float) -> bool:
        """Operator ``k``'s actor is blacklisted already when its campaign begins at ``t``
        (sim.deterrence): through front companies, with the sanctions' ``front_company_share``
        of its demand, it is designated at once; with none it cannot run (not a campaign: never
        attributed). Returns whether it can run."""
        sanctions = self.model.policy("sanctions")
        front = sanctions.params.front_company_share if sanctions is not None else 0.0
        op = self.model.operator_list[k]
        if front <= 0:
            op.go = False
            op.stop_reason = "actor blacklisted"
            return False
        self.attributed_at[k] = min(self.attributed_at[k], t)
        self.blacklisted_at[k] = t
        op.reroute(t, front)
        return True

    def designate_running(self, k: int, t: float) -> None:
        """Operator ``k``'s actor was blacklisted at ``t`` while ``k`` runs (sim.deterrence): as
        its own designation, at once (:meth:`schedule_blacklist` with no lag)."""
        sanctions = self.model.policy("sanctions")
        front = sanctions.params.front_company_share if sanctions is not None else 0.0
        self.attributed_at[k] = min(self.attributed_at[k], t)
        self.schedule_blacklist(k, t, front)

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
            for c in hit.tolist():
                m.fleet.accounts.attributed[m.fleet.cluster_members(c)] = True

    # ------------------------------------------------------------------ money
    def pay(self, t0: float, t1: float, traffic: float) -> float:
        """Book the window's detector costs (fixed, inspection of ``traffic`` exchanges,
        quality) and review staff; returns the detection spend."""
        m = self.model
        hours = t1 - t0
        total = 0.0
        for det in m.detector_list:
            payee = f"detector:{det.name}"
            for part, usd in det.window_cost(hours, traffic).items():
                m.ledger.book(t0, DEFENDER, payee, f"detection_{part}", usd)
                total += usd
        staff = self.queue.staff_usd_per_day * hours / 24.0
        m.ledger.book(t0, DEFENDER, "analysts", "review_staff", staff)
        return total + staff
