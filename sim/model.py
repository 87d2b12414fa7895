"""The world of one run: a Mesa model of operators, a defender and detectors (DESIGN §3).

Time is simulated hours; the model steps one window (``world.window_hours``) at a time. SimPy
carries everything with latency or capacity between window ends (reviews, enforcement delays,
partners' indicators); per-account state lives in numpy arrays (:mod:`sim.fleet`,
:mod:`sim.legit`). One step reads like the story it simulates; see :meth:`DistillationModel.step`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mesa
import numpy as np
import simpy

from sim.attackers.base import Operator
from sim.capability import CapabilityCurve
from sim.defender import Defender
from sim.detectors.base import Detector, Flags, ScanContext
from sim.deterrence import CampaignMemory
from sim.fleet import ACT_NONE, Fleet
from sim.frontier import OpenFrontier
from sim.harvest import expected_harvest, harvest_window, live_accounts
from sim.latency import LatencyModel
from sim.learning import Learning
from sim.ledger import Ledger
from sim.legit import LegitPopulation
from sim.market import AccountMarket
from sim.parameters import Config
from sim.policies.base import Policy
from sim.registry import attackers, detectors, load_all, policies
from sim.rng import Streams, root_sequence


class DistillationModel(mesa.Model):
    """Distillation attacks against one API provider over a horizon of days.

    Args:
        cfg: a validated :class:`~sim.parameters.Config` (see :func:`sim.configuration.load`).
        streams: named random streams; defaults to ``SeedSequence(cfg.seed)``.
        on_window: called after every window with the model (progress reporting).
    """

    def __init__(
        self,
        cfg: Config,
        streams: Streams | None = None,
        on_window: Callable[[DistillationModel], None] | None = None,
    ) -> None:
        load_all()
        streams = streams or Streams(root_sequence(cfg.seed))
        super().__init__(rng=streams("mesa"))
        self.cfg = cfg
        self.streams = streams
        self.on_window = on_window
        self.window = cfg.world.window_hours
        self.horizon = float(cfg.world.days * 24)
        self.n_windows = int(math.ceil(self.horizon / self.window))
        self.time_h = 0.0
        #: The defender's gross margin on served traffic: lost revenue costs it this share.
        self.margin = cfg.teacher.gross_margin
        self.env = simpy.Environment()
        self.ledger = Ledger()
        self.latency = LatencyModel(cfg.latency, streams("latency"))
        self.legit = LegitPopulation(cfg.legit, cfg.world, streams("legit"))
        #: The open-weight frontier closing on the teacher (what the lead is worth over time).
        self.frontier = OpenFrontier(cfg.teacher)

        # Policies (not agents: they are the defender's instruments).
        self.policies: dict[str, Policy] = {}
        for name, params in cfg.policies.items():
            self.policies[name] = policies.get(params.kind or name)(self, name, params)

        # Detectors and the defender that funds them.
        self.detector_list: list[Detector] = []
        B = cfg.detection.budget_usd_per_day
        for i, (name, params) in enumerate(cfg.detectors.items()):
            spend = float(cfg.detection.shares.get(name, 0.0)) * B
            self.detector_list.append(detectors.get(params.kind)(self, name, params, i, spend))
        self.detector_index = {d.name: d.index for d in self.detector_list}
        self.fleet = Fleet(len(self.detector_list))
        # The account market the operators buy from, and what the defender learns.
        self.market = AccountMarket(self)
        self.learning = Learning(self)

        # Attacker operators, one per campaign, with the strategy named by attacker.mode.
        strategy_cls = attackers.get(cfg.attacker.mode)
        self.operator_list: list[Operator] = [
            strategy_cls(self, name, k, op_cfg, cfg.attacker)
            for k, (name, op_cfg) in enumerate(cfg.operators.items())
        ]
        self.defender = Defender(self)
        #: What an actor's earlier campaigns leave for its later ones (deterrence).
        self.memory = CampaignMemory(self)
        for p in self.policies.values():
            p.setup()

        forecast = self.traffic_forecast_per_day()
        for det in self.detector_list:
            det.plan(forecast, cfg.detection.dprime_tolerance)
            det.prepare(self.legit, streams(f"legit:{det.name}"))
        self.domains = CapabilityCurve(cfg.capability).domains
        n_ops, n_dom, H = len(self.operator_list), len(self.domains), int(self.horizon)
        self.capability_stock = np.zeros((n_ops, n_dom))
        #: The effective exchanges each operator believes it holds (it cannot see poisoning).
        self.believed_stock = np.zeros((n_ops, n_dom))
        #: Per operator, each release crossed: (hour, capability before, after the devaluation),
        #: of the actual and of the believed stock; kept only when the open frontier moves.
        self.capability_marks: list[list[tuple[float, float, float]]] = [[] for _ in range(n_ops)]
        self.believed_marks: list[list[tuple[float, float, float]]] = [[] for _ in range(n_ops)]
        self.sent_h = np.zeros((n_ops, H))
        self.harvested_h = np.zeros((n_ops, H))
        self.effective_hd = np.zeros((n_ops, H, n_dom))
        self.legit_h = np.zeros(H)
        #: Windows at whose end at least one detector scored.
        self.scan_windows = 0
        self.rng_harvest = streams("harvest")
        self.rng_detect = streams("detection")
        self.rng_legit_traffic = streams("legit_traffic")

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "hour": lambda m: m.time_h,
                "legit_false_bans": lambda m: m.defender.legit_false_bans,
                "legit_false_actions": lambda m: m.defender.legit_false_actions,
            },
            agenttype_reporters={
                strategy_cls: {
                    "operator": "name",
                    "cadence_per_day": "cadence",
                    "obfuscation": "obfuscation",
                    "cluster_size": "cluster_size",
                    "stopped": lambda a: a.stopped_at <= a.model.time_h,
                }
            },
        )
        # A campaign that remembers an earlier one, or that starts later while the open frontier
        # moves (its lead then is not the lead now), decides when it starts.
        self.plans_at_start = [
            op.index
            for op in self.operator_list
            if self.memory.remembers(op.index) or (self.frontier.moves and op.start > 0)
        ]
        for op in self.operator_list:
            if op.index not in self.plans_at_start:
                op.plan()
        self.running = True

    # ------------------------------------------------------------------ lookups
    def traffic_forecast_per_day(self) -> float:
        """The defender's forecast of the exchanges it serves a day: its legitimate traffic and
        every campaign's at its planned demand, mixed-in customers' traffic included."""
        attack = sum(
            op.configured.demand_per_day / (1.0 - op.configured.traffic_mixing)
            for op in self.operator_list
        )
        return self.legit.live_rate + attack

    def policy(self, name: str) -> Policy | None:
        """The policy ``name`` if it is enabled (from any hour), else None."""
        p = self.policies.get(name)
        return p if p is not None and p.params.enabled else None

    # ------------------------------------------------------------------ one window
    def step(self) -> None:
        """One window: events resolve, operators top up, detectors that score faster than the
        window score at their times inside it, the fleet harvests, the window's scans close it."""
        t0 = self.time_h
        t1 = min(t0 + self.window, self.horizon)
        hours = np.arange(int(t0), int(t1), dtype=float)
        # Campaigns that decide as they start (a later campaign remembering its actor's earlier
        # ones) decide at the start of the window their start falls in.
        for k in self.plans_at_start:
            if t0 <= self.operator_list[k].start < t1:
                if self.memory.remembers(k):
                    self.memory.begin(k, t0)
                else:
                    self.operator_list[k].plan()

        prev = t0
        for k, t in enumerate([*self._sub_window_scans(t0, t1), t1]):
            self.time_h = prev
            # Reviews, enforcement and partners' indicators that fall before t.
            self.defender.queue.run_until(t)
            # Operators end campaigns as planned, replace the bans they notice, keep fleets at
            # size.
            if k > 0:
                self._reserve_fees(t0, t1, prev)
            for op in self.operator_list:
                if k == 0:
                    op.begin_window(t0, t1)
                op.top_up(prev, t)
            if t < t1:
                self._scan_inside_window(t0, t1, t)
            prev = t
        self.time_h = t0
        for op in self.operator_list:
            op.reserved_usd = 0.0
        # The fleet harvests; operators pay for what they get while their money lasts.
        h = self._harvest(t0, t1, hours)
        # Legitimate customers use the API as usual.
        legit_h = self.legit.hourly_traffic(hours, self.cfg.world, self.rng_legit_traffic)
        self._close_window(t0, t1, h, legit_h)

    def _sub_window_scans(self, t0: float, t1: float) -> list[float]:
        """Hours strictly inside the window at which a detector faster than the window scores."""
        times = {
            round(t0 + j * d.period, 9)
            for d in self.detector_list
            if d.on and d.period < self.window
            for j in range(1, int(round((t1 - t0) / d.period)))
        }
        return sorted(times)

    def _plain_inputs(self, t0: float, t1: float) -> list:
        """The operators' window inputs without teacher staleness: what live intervals and
        expected volumes need (scans and reservations inside a window)."""
        return [op.window_inputs(t0, t1, np.ones(0)) for op in self.operator_list]

    def _reserve_fees(self, t0: float, t1: float, t: float) -> None:
        """What each operator owes for ``[t0, t)`` at the expected spending rate, set aside so
        that ordering part-way through a window does not spend the fees the harvest will need."""
        ops = self.operator_list
        inputs = self._plain_inputs(t0, t1)
        so_far = expected_harvest(self.fleet, t0, t, inputs, self.cfg.enforcement.throttle_factor)
        for k, op in enumerate(ops):
            fees = float(so_far[k]) * op.fee_per_exchange + op.infra_cost(t0, t1, t)
            op.reserved_usd = min(fees, max(op.budget_left, 0.0))

    def _scan_inside_window(self, t0: float, t1: float, t: float) -> None:
        """Scans at hour ``t`` inside the window, before its harvest is drawn: detectors see live
        intervals and expected volumes only, so scoring them now is exact (MODEL §4); their
        flags go to review at ``t`` and may end accounts before the window does. Attribution is
        checked after them, as at a window's end."""
        flags, ctx = self._period_scans(t0, t1, t)
        if ctx is not None:
            self.defender.triage(flags, ctx)
            self.defender.attribute(t)

    def _period_scans(
        self, t0: float, t1: float, t: float
    ) -> tuple[list[Flags], ScanContext | None]:
        """The scans at hour ``t`` of detectors faster than the window, each on the accounts live
        in its own period ``[t − cadence, t)``; an operator's accounts are live until its money
        runs out at the expected spending rate, as the window's harvest will have it. Inspection
        money is a daily amount, so coverage is what it buys on the day's mean rate (legitimate
        live rate plus the period's attacker rate), and the bill counts the period's expected
        traffic, diurnal peak included."""
        due = [d for d in self.detector_list if d.period < self.window and d.due(t)]
        if not due:
            return [], None
        ops = self.operator_list
        inputs = self._plain_inputs(t0, t1)
        expected = expected_harvest(
            self.fleet, t0, t1, inputs, self.cfg.enforcement.throttle_factor
        )
        for k, op in enumerate(ops):
            inputs[k].end_hour = op.budget_end(t0, t1, float(expected[k]))
        own = np.array([op.own_share for op in ops])
        flags, ctx = [], None
        for period in sorted({d.period for d in due}):
            lo = t - period
            live = live_accounts(self.fleet, lo, t, inputs)
            legit = self.legit.expected_traffic(lo, t, self.cfg.world)
            attack = float((live.expected / own[self.fleet.accounts.op[live.idx]]).sum())
            traffic = legit + attack
            per_day = self.legit.live_rate + attack * 24.0 / period
            ctx = self._scan_context(lo, t, live, traffic, sub_window=True)
            for det in due:
                if det.period == period:
                    det.set_period_coverage(traffic, per_day)
                    flags.append(det.scan(ctx))
        flags.sort(key=lambda f: f.index)  # one case per account, under the first detector
        return flags, ctx

    def _close_window(self, t0: float, t1: float, h, legit_h: np.ndarray) -> None:
        """What follows the window's traffic: detection, policies, payment, adaptation."""
        self.legit_h[int(t0) : int(t1)] = legit_h
        # All the traffic served: legitimate, attackers' and the reseller customers' mixed in.
        own = np.array([op.own_share for op in self.operator_list])
        traffic = float(legit_h.sum() + (h.sent_h.sum(axis=1) / own).sum())
        # Detectors inspect what their money covers of it, score the window, and flag; flags go
        # to review after each detector's latency.
        ctx = self._scan_context(t0, t1, h, traffic)
        flags, _ = self._period_scans(t0, t1, t1)
        for det in self.detector_list:
            if det.period >= self.window:
                det.set_coverage(traffic * 24.0 / (t1 - t0))
                flags.append(det.scan(ctx))
        flags.sort(key=lambda f: f.index)
        self.scan_windows += any(det.due(t1) for det in self.detector_list)
        self.defender.triage(flags, ctx)
        # Policies act on what the window showed (poisoning marks, costs).
        poisoned = float(h.harvested[self.fleet.accounts.poisoned[h.idx]].sum())
        pois = self.policy("poisoning")
        if pois is not None and poisoned:
            pois.book_attacker_compute(t0, poisoned)
        for p in self.policies.values():
            p.end_of_window(t0, t1, ctx)
        # The defender pays for detection.
        self.defender.pay(t0, t1, traffic)
        # Operators read the bans they noticed and adapt; campaigns may be attributed.
        for op in self.operator_list:
            op.adapt(t0, t1)
        self.defender.attribute(t1)

        self.time_h = t1
        self.datacollector.collect(self)
        if self.on_window is not None:
            self.on_window(self)
        if t1 >= self.horizon:
            self.running = False

    def _harvest(self, t0: float, t1: float, hours: np.ndarray):
        ops = self.operator_list
        inputs = [op.window_inputs(t0, t1, self._staleness(op, hours)) for op in ops]
        en = self.cfg.enforcement
        # Expected paid exchanges per operator at current ends, to find where money runs out.
        expected = expected_harvest(self.fleet, t0, t1, inputs, en.throttle_factor)
        fee_room = np.empty(len(ops))
        fee = np.empty(len(ops))
        infra: list[float] = []
        for k, op in enumerate(ops):
            # Infrastructure to the end of the window (or campaign), and to where the money
            # runs out: one computation when they are the same hour. The fleet does not change
            # until the operator pays, so the payment books the same amount.
            full = min(op.end, t1)
            at_full = op.infra_cost(t0, t1, full) if full > t0 else None
            inputs[k].end_hour = op.budget_end(t0, t1, float(expected[k]), infra=at_full)
            end = min(inputs[k].end_hour, t1)
            infra.append(
                at_full if at_full is not None and end == full else op.infra_cost(t0, t1, end)
            )
            fee_room[k] = max(op.budget_left - infra[k], 0.0)
            fee[k] = op.fee_per_exchange
        pois = self.policy("poisoning")
        h = harvest_window(
            self.fleet,
            t0,
            t1,
            inputs,
            throttle_factor=en.throttle_factor,
            degrade_quality=en.degrade_quality,
            poison_quality=pois.quality if pois is not None else 1.0,
            n_domains=len(self.domains),
            rng=self.rng_harvest,
            fee_room=fee_room,
            fee_per_exchange=fee,
        )
        acc = self.fleet.accounts
        acc.sent[h.idx] += h.sent
        acc.harvested[h.idx] += h.harvested
        acc.expected_cum[h.idx] += h.expected
        i0, i1 = int(t0), int(t1)
        self.sent_h[:, i0:i1] = h.sent_h
        self.harvested_h[:, i0:i1] = h.harvested_h
        self.effective_hd[:, i0:i1] = h.effective_hd
        for k, op in enumerate(ops):
            op.pay_window(t0, h.harvested_h[k], inputs[k].end_hour, t1, infra=infra[k])
        self._accumulate_capability(t0, t1, h.effective_hd)
        # What the operators believe they harvested: their exchanges at the quality they chose,
        # without the poisoning and degradation they did not notice.
        believed = np.stack(
            [
                h.harvested_h[k][:, None] * (x.quality * x.staleness)[:, None] * x.mix[None, :]
                for k, x in enumerate(inputs)
            ]
        )
        self._accumulate_capability(t0, t1, believed, self.believed_stock)
        return h

    def _staleness(self, op: Operator, hours: np.ndarray) -> np.ndarray:
        """Weight of an exchange harvested at each hour, against the latest teacher release."""
        s = op.latest_share(hours)
        return s + (1.0 - s) * self.cfg.teacher.staleness_factor

    def _accumulate_capability(
        self, t0: float, t1: float, eff_hd: np.ndarray, stock: np.ndarray | None = None
    ) -> None:
        """Add the window's effective exchanges to ``stock`` (default: the students' capability
        stock); a release devalues what was harvested before it."""
        stock = self.capability_stock if stock is None else stock
        start = 0
        for r in sorted(self.cfg.teacher.releases_hours):
            if t0 <= r < t1:
                k = int(math.ceil(r - t0))  # hours of the window before the release
                stock += eff_hd[:, start:k].sum(axis=1)
                before = self._overall(stock) if self.frontier.moves else None
                stock *= self.cfg.teacher.staleness_factor
                if before is not None:
                    # Capability by vintage: what each version taught (sim.frontier).
                    believed = stock is self.believed_stock
                    marks = self.believed_marks if believed else self.capability_marks
                    for j, (b, a) in enumerate(zip(before, self._overall(stock), strict=True)):
                        marks[j].append((float(r), b, a))
                start = k
        stock += eff_hd[:, start:].sum(axis=1)

    def _overall(self, stock: np.ndarray) -> list[float]:
        """Each operator's overall capability from an effective-exchange stock."""
        return [
            float(op.curve.overall(op.curve.gains(stock[k])))
            for k, op in enumerate(self.operator_list)
        ]

    def _scan_context(
        self, t0: float, t1: float, h, traffic: float, sub_window: bool = False
    ) -> ScanContext:
        acc = self.fleet.accounts
        idx = h.idx
        eligible = (
            (acc.ended_at[idx] > t1)
            & ~acc.in_review[idx]
            & (acc.cooldown_until[idx] <= t1)
            & ~acc.confirmed[idx]
            & (acc.action[idx] == ACT_NONE)
        )
        boost = self.learning.boost(idx, t1)
        cl = acc.cluster[idx]
        ops = self.operator_list
        ctx = ScanContext(
            t0=t0,
            t1=t1,
            fleet=self.fleet,
            harvest=h,
            legit=self.legit,
            eligible=eligible,
            boost=boost,
            obfuscation=np.array([op.obfuscation for op in ops]),
            mixing=np.array([op.cfg.traffic_mixing for op in ops]),
            cot_share=np.array([op.cfg.cot_share for op in ops]),
            cluster_live=np.bincount(cl, minlength=self.fleet.clusters.n),
            legit_median_rate=self.legit.median_rate,
            rho=self.cfg.detection.rho,
            rng=self.rng_detect,
            traffic=traffic,
            sub_window=sub_window,
        )
        return ctx

    # ------------------------------------------------------------------ whole run
    def run(self) -> DistillationModel:
        """Step to the horizon, then settle attribution and expected penalties."""
        while self.running:
            self.step()
        self.finish()
        return self

    def release(self) -> None:
        """Drop what keeps a finished model alive after its last reference goes.

        Mesa 3.3's ``Agent._ids`` holds every model for the life of the process (mesa#3179, fixed
        in Mesa versions that need Python 3.12), which leaks one world per run in sweeps.
        """
        agents = list(self.agents)
        for agent in agents:
            agent.remove()
        mesa.Agent._ids.pop(self, None)
        # Break the reference cycles (agents, SimPy callbacks) by hand so the arrays are freed
        # at once by reference counting, without waiting for (or paying for) a full collection.
        for obj in (*agents, self.defender.queue, self.env, *self.policies.values(), self):
            vars(obj).clear()

    def finish(self) -> None:
        """P(attribution) per operator from the evidence held at the horizon, watermark evidence
        included (it arrives after the fact), and the attacker's expected penalty,
        P × P(enforcement) × penalty, booked as a risk line (MODEL §8)."""
        self.defender.retrospective()
        wm = self.policy("watermarking")
        sanctions = self.policy("sanctions")
        n_ops = len(self.operator_list)
        self.final_attribution = np.zeros(n_ops)
        self.expected_penalty = np.zeros(n_ops)
        for k, op in enumerate(self.operator_list):
            marked = 0.0
            if wm is not None:
                # Only what was harvested once watermarking was in force carries the mark.
                since = int(math.ceil(wm.params.effective_hour))
                marked = wm.attribution_evidence(float(self.harvested_h[k, since:].sum()))
            p = self.defender.attribution_probability(k, self.horizon, watermark=marked)
            self.final_attribution[k] = p
            penalty = (
                p * sanctions.expected_penalty_if_attributed(self.horizon) if sanctions else 0.0
            )
            self.expected_penalty[k] = penalty
            self.ledger.book(self.horizon, op.party, "sanctions", "expected_penalty", penalty)
