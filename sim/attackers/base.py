"""The attacker operator agent: one campaign that farms accounts and harvests exchanges (MODEL §2).

The base class holds what every strategy shares: buying accounts (price, KYC, creation throughput,
set-up latency, clusters), topping the fleet up to the size its demand and cadence imply, paying
for traffic and infrastructure within its budget, and noticing lost accounts — bans after a notice
delay, throttles (requests fail) after the same delay, degraded outputs with a probability — which
it retires and replaces. Strategies (``fixed``, ``adaptive``) subclass it and override
:meth:`plan` and :meth:`adapt`.

Cadence: ``cadence`` is an account's whole traffic a day, the level the operator keeps under what
it believes the volume detector tolerates; with traffic mixing, a share of it is reseller
customers' own, so the operator harvests ``harvest_cadence = (1 − traffic_mixing) × cadence``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from sim.capability import CapabilityCurve, exchange_quality, target_mix
from sim.fleet import (
    ACT_DEGRADE,
    ACT_NONE,
    ACT_THROTTLE,
    BY_NONE,
    BY_SCREEN,
    END_ABANDONED,
    END_BANNED,
    END_RETIRED,
    END_SCREENED,
)
from sim.harvest import OperatorWindow
from sim.ledger import DEFENDER, attacker
from sim.parameters import OperatorConfig

if TYPE_CHECKING:
    from sim.model import DistillationModel


@dataclass
class BudgetPool:
    """One operator's budget shared by its branches at several providers: cash spent at one is
    not available at another (MODEL §12). Each branch books its own cash; the pool sums it."""

    budget_usd: float
    spent: float = 0.0


@dataclass
class StrategyParams:
    """Parameters shared by every strategy."""

    mode: str = ""


class Operator(mesa.Agent):
    """An attacker operator (Mesa agent). One per campaign."""

    Params: ClassVar[type] = StrategyParams
    kind: ClassVar[str] = ""

    def __init__(
        self,
        model: DistillationModel,
        name: str,
        index: int,
        cfg: OperatorConfig,
        strategy,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        self.cfg = cfg
        #: The campaign facts the defender plans on (its traffic forecast): the configured ones,
        #: whatever levers a best response then plays.
        self.configured = cfg
        self.strategy = strategy
        self.party = attacker(name)
        self.stream = model.streams(f"operator:{name}")
        self.cadence = float(cfg.tolerated_cadence_per_day)
        self.obfuscation = float(cfg.obfuscation)
        self.cluster_size = int(cfg.cluster_size)
        self.demand = float(cfg.demand_per_day)
        self.cash = 0.0
        self.go = True
        self.stopped_at = math.inf
        self.stop_reason = ""
        self.budget_exhausted_at = math.inf
        self.next_slot = float(cfg.start_hour)
        self.open_cluster = -1
        self.curve = CapabilityCurve(model.cfg.capability, cfg.gmax_scale)
        self.mix = target_mix(cfg, self.curve.domains)
        t = model.cfg.teacher
        self.list_price = (
            cfg.tokens_in * t.price_in_usd_per_mtok + cfg.tokens_out * t.price_out_usd_per_mtok
        ) / 1e6
        self.bans_seen: dict[str, int] = {}
        #: Whether the first fleet (whose clusters were prepared in advance) has been ordered,
        #: and the latest cluster the operator knows to be burned (−1: none).
        self.first_fleet_ordered = False
        self.rerouted_at = math.inf
        self.last_burned_cluster = -1
        self.bans_noticed_total = 0

    # ------------------------------------------------------------------ derived
    @property
    def start(self) -> float:
        return float(self.cfg.start_hour)

    @property
    def end(self) -> float:
        """Hour after which the operator harvests nothing."""
        planned = self.cfg.end_hour if self.cfg.end_hour is not None else math.inf
        return min(planned, self.stopped_at, self.model.horizon)

    @property
    def value_usd(self) -> float:
        """What the capability is worth to the operator, given the teacher's lead and the cost of
        its outside option under export controls (MODEL §8)."""
        v = self.cfg.value_usd * self.model.cfg.teacher.lead_over_open_models
        ec = self.model.policy("export_controls")
        return v * ec.value_factor(self.start) if ec is not None else v

    def believed_worth(self, g: float | np.ndarray, t: float | np.ndarray):
        """What the operator believes a student holding capability ``g`` (from its vintages so
        far) is worth delivered at ``t``: value × capability weighted by the lead left of the
        version it was learned from (sim.frontier), on the stock it believes it holds."""
        m = self.model
        return self.value_usd * m.frontier.weighted(m.believed_marks[self.index], g, t)

    @property
    def delivery_hour(self) -> float:
        """When the student is delivered: the campaign's end (planned, stopped, out of money or
        the horizon, whichever comes first)."""
        return min(self.end, self.budget_exhausted_at)

    @property
    def fee_per_exchange(self) -> float:
        """Cash per harvested exchange: discounted API price plus traffic mixing."""
        mix = self.cfg.mixing_cost_per_exchange_usd if self.cfg.traffic_mixing > 0 else 0.0
        return self.list_price * self.cfg.price_factor + mix

    @property
    def own_share(self) -> float:
        """Share of an account's traffic that is the operator's own (1 − traffic mixing)."""
        return 1.0 - float(self.cfg.traffic_mixing)

    @property
    def harvest_cadence(self) -> float:
        """The operator's own exchanges per account and day."""
        return self.cadence * self.own_share

    @property
    def planned_fleet(self) -> int:
        """Accounts the campaign's configured demand and cadence call for."""
        own = self.cfg.tolerated_cadence_per_day * self.own_share
        return int(math.ceil(self.cfg.demand_per_day / own)) if self.cfg.demand_per_day > 0 else 0

    @property
    def serving_loss_per_exchange(self) -> float:
        """What serving one of its exchanges costs the defender, less the fees it receives."""
        margin = self.model.cfg.teacher.gross_margin
        received = self.list_price * self.cfg.price_factor * self.cfg.paid_to_defender_share
        return self.list_price * (1.0 - margin) - received

    @property
    def campaign_days(self) -> float:
        """Planned length of the campaign within the horizon."""
        planned = self.cfg.end_hour if self.cfg.end_hour is not None else math.inf
        return max(min(planned, self.model.horizon) - self.start, 0.0) / 24.0

    def planned_capability_per_effective_exchange(self) -> float:
        """Capability gained per effective exchange over the planned campaign (its average)."""
        n = self.cfg.demand_per_day * self.campaign_days * self.quality
        if n <= 0:
            return 0.0
        return float(self.curve.overall(self.curve.gains(n * self.mix))) / n

    @property
    def infra_per_account_day(self) -> float:
        return self.cfg.infra_usd_per_account_day * self.cluster_size ** (
            -self.cfg.infra_scale_exponent
        )

    @property
    def quality(self) -> float:
        return exchange_quality(self.cfg, self.model.cfg.capability, self.obfuscation)

    def target_fleet(self, t: float) -> int:
        if not self.go or t >= self.end or t < self.start:
            return 0
        return self.fleet_size

    @property
    def fleet_size(self) -> int:
        """Accounts the current demand and cadence call for."""
        return int(math.ceil(self.demand / self.harvest_cadence)) if self.demand > 0 else 0

    #: Fees and infrastructure the window owes so far, not yet paid (they are paid once its harvest
    #: is drawn): scans inside a window make operators order part-way through it (MODEL §4).
    reserved_usd: float = 0.0

    #: The operator's budget shared with its branches at other providers (a world with several,
    #: :mod:`sim.world`); None: the budget is this agent's own (one provider, today's model).
    pool: BudgetPool | None = None

    @property
    def budget_left(self) -> float:
        if self.pool is not None:
            return self.pool.budget_usd - self.pool.spent
        return self.cfg.budget_usd - self.cash

    def spend(self, usd: float) -> None:
        """Cash out of the budget (at this provider, and out of the shared pool if any)."""
        self.cash += usd
        if self.pool is not None:
            self.pool.spent += usd

    def latest_share(self, t: np.ndarray) -> np.ndarray:
        """Share of traffic aimed at the latest teacher release at hours ``t``."""
        share = self.retarget_share
        out = np.ones_like(t, dtype=float)
        for r in self.model.cfg.teacher.releases_hours:  # validated increasing
            after = t >= r
            moved = t >= r + self.cfg.retarget_lag_hours
            out = np.where(after, np.where(moved, share, 0.0), out)
        return out

    @property
    def retarget_share(self) -> float:
        return float(self.cfg.retarget_share)

    # ------------------------------------------------------------------ strategy hooks
    def plan(self) -> None:
        """Decide, before the campaign starts, whether to run it."""

    def adapt(self, t0: float, t1: float) -> None:
        """React to what the window revealed (after noticing bans)."""

    def remember(self, earlier: list[Operator], attributed: list[Operator], share: float) -> None:
        """What the actor's ``earlier`` campaigns taught it before this one starts, ``attributed``
        those publicly attributed, ``share`` of their evidence carried over (sim.deterrence). A
        campaign run as planned learns nothing from them."""

    def supplier_weight(self, supplier, t: float) -> float:
        """Weight on a supplier's price when splitting an order (1: the cheapest wins)."""
        return 1.0

    def replacements(self, when: np.ndarray) -> np.ndarray:
        """Which noticed losses (their notice hours) to replace: all of them."""
        return when

    # ------------------------------------------------------------------ accounts
    def mine(self) -> np.ndarray:
        """Fleet indices of this operator's accounts."""
        return self.model.fleet.operator_rows(self.index)

    def _mine_sel(self) -> np.ndarray | slice:
        """This operator's accounts as an index: a slice when it holds every account (one
        operator), else :meth:`mine`. Indexing a column with it gives the same values in the
        same order, without the gather."""
        fl = self.model.fleet
        rows = fl.operator_rows(self.index)
        return slice(0, fl.n) if rows.size == fl.n else rows

    @staticmethod
    def _rows_where(sel: np.ndarray | slice, mask: np.ndarray) -> np.ndarray:
        """The fleet indices of ``sel`` (from :meth:`_mine_sel`) where ``mask`` holds."""
        return np.flatnonzero(mask) if isinstance(sel, slice) else sel[mask]

    def _noticed_at(self, rows: np.ndarray | slice) -> np.ndarray:
        """When the operator learns each account ended (bans after a notice delay; a refused
        sign-up, or an account it retired or abandoned itself, at once)."""
        acc = self.model.fleet.accounts
        ended = acc.ended_at[rows]
        banned = acc.end_kind[rows] == END_BANNED
        return np.where(banned, ended + self.model.latency.notice_hours, ended)

    def believed_open(self, t: float) -> int:
        """Accounts the operator believes alive at ``t`` (a ban counts once it is noticed)."""
        return int((self._noticed_at(self._mine_sel()) > t).sum())

    def noticed_losses(self, t0: float, t1: float) -> np.ndarray:
        """Own accounts banned, retired as throttled or degraded, or blocked at sign-up, that the
        operator noticed in ``[t0, t1)``."""
        rows = self._mine_sel()
        acc = self.model.fleet.accounts
        seen = self._noticed_at(rows)
        kind = acc.end_kind[rows]
        lost = (kind == END_BANNED) | (kind == END_RETIRED) | (kind == END_SCREENED)
        return self._rows_where(rows, lost & (seen >= t0) & (seen < t1))

    def retire_noticed(self, t1: float) -> None:
        """Retire accounts noticed as throttled (requests fail: seen after the notice delay) or
        degraded (outputs worse: seen with ``degraded_notice_prob``, after the same delay) by
        ``t1``; they are replaced like bans (:meth:`top_up`)."""
        rows = self._mine_sel()
        acc = self.model.fleet.accounts
        acted = self._rows_where(rows, acc.action[rows] != ACT_NONE)
        if acted.size == 0:
            return
        act = acc.action[acted]
        seen = (act == ACT_THROTTLE) | (
            (act == ACT_DEGRADE) & (acc.notice_u[acted] < self.cfg.degraded_notice_prob)
        )
        when = acc.action_at[acted] + self.model.latency.notice_hours
        due = seen & (when < t1) & (acc.ended_at[acted] > when)
        if due.any():
            fl = self.model.fleet
            fl.end(acted[due], when[due], END_RETIRED, acc.banned_by[acted[due]])

    def begin_window(self, t0: float, t1: float) -> None:
        """End the campaign at its planned hour if that falls in this window."""
        end = self.cfg.end_hour
        if end is not None and end < t1 and self.stopped_at > end and self.go:
            self.stop(max(float(end), t0), "planned end")

    def order(self, times: np.ndarray) -> int:
        """Buy one account per request time from the market (while the budget lasts); returns
        how many. Creation slots follow the operator's own throughput; the suppliers set the
        price and the delivery; accounts on burned infrastructure may be screened at sign-up."""
        if times.size == 0:
            return 0
        m = self.model
        gap = 24.0 / self.cfg.creation_per_day
        # slot_i = max(slot_{i−1} + gap, t_i) from slot_0 = max(next_slot, t_0): the running
        # maximum of t_i − i·gap, shifted back by i·gap.
        steps = np.arange(times.size) * gap
        lead = np.maximum.accumulate(times - steps)
        slots = np.maximum(lead, self.next_slot) + steps
        # Creation slots past the end of the campaign are never bought.
        slots = slots[slots < self.end]
        if slots.size == 0:
            return 0
        rows, supplier, d = m.market.buy(self, slots, self.budget_left - self.reserved_usd)
        k = rows.size
        if k == 0:
            return 0
        slots, attempts, cost = slots[rows], d.attempts, d.price
        self.next_slot = float(slots.max() + gap)
        clusters, ready = self._assign_clusters(k, slots)
        self.first_fleet_ordered = True
        fl = m.fleet
        nd = fl.accounts.u.shape[1]
        age0 = np.array([s.params.age_days for s in m.market.offers(self)])
        new = fl.accounts.append(
            k,
            op=self.index,
            cluster=clusters,
            requested_at=slots,
            active_at=np.maximum(d.active_at, ready),
            u=self.stream.standard_normal((k, nd)).astype(np.float32),
            u_select=self.stream.standard_normal(k).astype(np.float32),
            intel_u=self.stream.random(k).astype(np.float32),
            notice_u=self.stream.random(k).astype(np.float32),
            price_usd=cost,
            attempts=attempts,
            supplier=supplier,
            age0_days=age0[np.maximum(supplier, 0)],  # −1: the operator's own, one offer
        )
        idx = np.arange(new.start, new.stop)
        acc = fl.accounts
        blocked = m.learning.screen(idx, acc.active_at[idx])
        if blocked.any():
            # Blocked at sign-up: paid for, never served; noticed and replaced like a ban.
            fl.end(idx[blocked], acc.active_at[idx[blocked]], END_SCREENED, BY_SCREEN)
        self.spend(float(cost.sum()))
        m.ledger.book(slots, self.party, "account_vendors", "accounts", cost)
        kyc = m.policy("kyc")
        if kyc is not None:
            checked = m.market.checked(self, supplier, slots)
            kyc.book_attacker_checks(slots[checked], attempts[checked])
        return k

    def _assign_clusters(self, k: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fill the operator's open cluster up to its size, then open fresh ones; returns each
        account's cluster and the hour its infrastructure is ready.

        A fresh cluster that replaces a burned one costs ``cluster_setup_usd`` and is ready
        ``cluster_setup_hours`` later; a share ``reuse_burned_share`` of the accounts that would
        need it go on the burned cluster's infrastructure instead (free, at once, and known to
        the defender)."""
        cl = self.model.fleet.clusters
        c0 = self.cfg
        later = self.first_fleet_ordered
        if not (later and self.last_burned_cluster >= 0 and c0.reuse_burned_share > 0):
            return self._assign_fresh_clusters(k, t)
        out = np.empty(k, dtype=np.int64)
        i = 0
        while i < k:
            c = self.open_cluster
            if c < 0 or cl.burned[c] or cl.assigned[c] >= cl.target_size[c]:
                # The first fleet's clusters were prepared before the campaign; later ones
                # replace burned infrastructure or grow the fleet, and need new infrastructure.
                later = self.first_fleet_ordered
                burned = self.last_burned_cluster
                if later and burned >= 0 and c0.reuse_burned_share > 0:
                    reuse = int(self.stream.binomial(k - i, c0.reuse_burned_share))
                    if reuse:
                        out[i : i + reuse] = burned
                        cl.assigned[burned] += reuse
                        i += reuse
                        if i >= k:
                            break
                nd = cl.u.shape[1]
                when = float(t[i])
                ready = when + c0.cluster_setup_hours if later else 0.0
                cl.append(
                    1,
                    op=self.index,
                    target_size=self.cluster_size,
                    ready_at=ready,
                    u=self.stream.standard_normal((1, nd)).astype(np.float32),
                )
                c = self.open_cluster = cl.n - 1
                if later and c0.cluster_setup_usd > 0:
                    self.spend(c0.cluster_setup_usd)
                    self.model.ledger.book(
                        when, self.party, "proxy_vendors", "infrastructure", c0.cluster_setup_usd
                    )
            room = int(cl.target_size[c] - cl.assigned[c])
            take = min(room, k - i)
            out[i : i + take] = c
            cl.assigned[c] += take
            i += take
        return out, cl.ready_at[out]

    def _assign_fresh_clusters(self, k: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_assign_clusters` when no account goes on burned infrastructure: the open
        cluster filled, then fresh clusters of ``cluster_size`` opened all at once, with the
        same draws (one block of normals is the sequence of one row at a time), bookings
        (the same rows, in order) and spending (added one cluster at a time) as one by one."""
        cl = self.model.fleet.clusters
        c0 = self.cfg
        later = self.first_fleet_ordered
        out = np.empty(k, dtype=np.int64)
        i = 0
        c = self.open_cluster
        if not (c < 0 or cl.burned[c] or cl.assigned[c] >= cl.target_size[c]):
            take = min(int(cl.target_size[c] - cl.assigned[c]), k)
            out[:take] = c
            cl.assigned[c] += take
            i = take
        if i < k:
            size = self.cluster_size
            rest = k - i
            m = -(-rest // size)
            first = i + np.arange(m) * size
            when = t[first].astype(float)
            ready = when + c0.cluster_setup_hours if later else 0.0
            nd = cl.u.shape[1]
            new = cl.append(
                m,
                op=self.index,
                target_size=size,
                ready_at=ready,
                u=self.stream.standard_normal((m, nd)).astype(np.float32),
            )
            ids = np.arange(new.start, new.stop)
            self.open_cluster = cl.n - 1
            if later and c0.cluster_setup_usd > 0:
                for _ in range(m):
                    self.spend(c0.cluster_setup_usd)
                self.model.ledger.book(
                    when, self.party, "proxy_vendors", "infrastructure", c0.cluster_setup_usd
                )
            out[i:] = np.repeat(ids, size)[:rest]
            cl.assigned[ids] = size
            cl.assigned[ids[-1]] = rest - (m - 1) * size
        return out, cl.ready_at[out]

    def top_up(self, t0: float, t1: float) -> None:
        """Order accounts: up to the target when the window (or the campaign) starts, then one
        replacement per lost account as the operator notices it."""
        if not self.go:
            return
        self.retire_noticed(t1)
        t = max(t0, self.start)
        if t < min(t1, self.end):
            deficit = self.target_fleet(t) - self.believed_open(t)
            if deficit > 0:
                self.order(np.full(deficit, t))
        seen = self.noticed_losses(t0, t1)
        if seen.size:
            acc = self.model.fleet.accounts
            # Burned infrastructure is not reused: new accounts go to a fresh cluster.
            burned = np.unique(acc.cluster[seen])
            self.model.fleet.clusters.burned[burned] = True
            self.last_burned_cluster = int(burned[-1])
            when = np.sort(self._noticed_at(seen))
            when = when[(when < self.end) & (when >= self.start)]
            if when.size and self.rerouted_at < t1:
                # Rerouted after a blacklist: replace only up to the smaller fleet.
                room = self.target_fleet(float(when[-1])) - self.believed_open(float(when[-1]))
                when = when[: max(room, 0)]
            if when.size and self.target_fleet(float(when[0])) > 0:
                self.order(self.replacements(when))

    # ------------------------------------------------------------------ money per window
    def window_inputs(self, t0: float, t1: float, staleness: np.ndarray) -> OperatorWindow:
        limits = self.model.policy("rate_limits")
        return OperatorWindow(
            cadence_per_day=self.harvest_cadence,
            end_hour=self.end,
            quality=self.quality,
            mix=self.mix,
            staleness=staleness,
            # A rate limit counts the account's requests: its whole traffic.
            accept_share=limits.accept_share(self.cadence, t0) if limits else 1.0,
        )

    def infra_cost(self, t0: float, t1: float, end: float) -> float:
        """Infrastructure for accounts held in ``[t0, min(t1, end))``, set-up time included."""
        acc = self.model.fleet.accounts
        rows = self._mine_sel()
        a = np.maximum(acc.requested_at[rows], t0)
        b = np.minimum(acc.ended_at[rows], t1)
        np.minimum(b, end, out=b)
        b -= a
        hours = np.maximum(b, 0.0, out=b).sum()  # np.clip(b - a, 0, None), in place
        return float(hours / 24.0 * self.infra_per_account_day)

    def budget_end(
        self, t0: float, t1: float, expected_exchanges: float, infra: float | None = None
    ) -> float:
        """Hour in the window at which the money runs out at the expected spending rate
        (``infra``: :meth:`infra_cost` to ``min(end, t1)``, if known)."""
        end = min(self.end, t1)
        if end <= t0:
            return self.end
        if infra is None:
            infra = self.infra_cost(t0, t1, end)
        spend = expected_exchanges * self.fee_per_exchange + infra
        room = self.budget_left
        if spend <= room:
            return self.end
        return t0 + (end - t0) * max(room, 0.0) / spend

    def pay_window(
        self,
        t0: float,
        hours_harvested: np.ndarray,
        end: float,
        t1: float,
        infra: float | None = None,
    ) -> None:
        """Book the window's API fees (hourly), mixing and infrastructure, and what serving the
        exchanges costs the defender (MODEL §7).

        Serving an exchange costs the defender (1 − gross margin) × list price whoever pays for
        it; it receives only the share of the fees paid to it in real money, so traffic resold
        cheaply or paid with farmed credits is served at a loss. Mixed-in reseller customers'
        exchanges are the reseller's business, served either way, and are not booked here.
        ``infra``: :meth:`infra_cost` to ``end``, if known (the fleet unchanged since).
        """
        led = self.model.ledger
        hrs = t0 + np.arange(hours_harvested.size)
        api = hours_harvested * self.list_price * self.cfg.price_factor
        to_def = api * self.cfg.paid_to_defender_share
        led.book(hrs, self.party, DEFENDER, "api_fees", to_def)
        led.book(hrs, self.party, "resellers", "api_fees", api - to_def)
        margin = self.model.cfg.teacher.gross_margin
        served = hours_harvested * self.list_price * (1.0 - margin)
        led.book(hrs, DEFENDER, "compute", "serving_cost", served)
        if self.cfg.traffic_mixing > 0:
            led.book(
                hrs,
                self.party,
                "resellers",
                "traffic_mixing",
                hours_harvested * self.cfg.mixing_cost_per_exchange_usd,
            )
        if infra is None:
            infra = self.infra_cost(t0, t1, end)
        led.book(t0, self.party, "proxy_vendors", "infrastructure", infra)
        self.spend(float(hours_harvested.sum()) * self.fee_per_exchange + infra)
        if self.budget_left <= 1e-6 * max(self.cfg.budget_usd, 1.0):
            # Spent out at the expected rate by ``end``, or (the fee cap bound: more was answered
            # than expected, the affordable exchanges spread over the window) by the window's end.
            out = min(end, t1)
            self.budget_exhausted_at = min(self.budget_exhausted_at, out)
            self.stop(out, "budget")

    def reroute(self, t: float, share: float) -> None:
        """Blacklisted at ``t``: carry on through front companies and resellers with ``share``
        of the demand (the accounts lost to the blacklist are replaced up to that fleet)."""
        self.demand *= share
        self.rerouted_at = min(self.rerouted_at, t)

    def shed(self, t: float) -> int:
        """Abandon, at ``t``, the live accounts beyond the fleet the current demand calls for
        (demand displaced to another provider, MODEL §12), the latest requested first (the
        least invested in); returns how many. Abandoned accounts are not losses: not replaced."""
        rows = self.mine()
        acc = self.model.fleet.accounts
        rows = rows[self._noticed_at(rows) > t]
        excess = rows.size - self.target_fleet(t)
        if excess <= 0:
            return 0
        order = np.argsort(acc.requested_at[rows], kind="stable")[::-1]
        return int(self.model.fleet.end(rows[order[:excess]], t, END_ABANDONED, BY_NONE).size)

    def stop(self, t: float, reason: str) -> None:
        """End the campaign at ``t``: no more orders, live accounts abandoned."""
        if t >= self.stopped_at:
            return
        self.stopped_at = t
        self.stop_reason = reason
        rows = self.mine()
        rows = rows[self.model.fleet.accounts.ended_at[rows] > t]
        self.model.fleet.end(rows, t, END_ABANDONED, BY_NONE)
