"""Human review: flags queue for a finite team of analysts working shifts (SimPy).

A multi-server queue on the SimPy clock. Each analyst works one shift a day (``shift_hours``,
staggered over ``shifts_per_day``) and is paid for it. Cases wait in arrival order (or highest
score first); an analyst on shift takes the next case, reviews it for a lognormal time and hands it
to the defender's decision; a review running past the end of a shift is finished first. A pooled
case of n accounts takes n^scaling reviews. In a thinned world the review work of thinned-out
legitimate accounts arrives as cases of their own that decide nothing (``decides=False``), so
the queue's arrivals, waits and backlog are those of the whole population. When flags outrun
analysts the queue grows and attacker accounts keep harvesting while they wait.

Arrivals and shift changes (one timeout per crew) are SimPy events. Reviews in progress are held
in the queue's own heap of finishing times rather than as one SimPy timeout each, and the queue
runs the clock (:meth:`ReviewQueue.run_until`): it ends the reviews that finish before each
SimPy event first, so they end in the same order, at the same times, with the same draws as
per-case events would (``per_case_events = True`` keeps those: the direct method
``tests/test_review.py`` compares against) for a fraction of the overhead. This is exact because
a decision never schedules a SimPy event and service times are continuous (no ties with other
events).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy

from sim import review_kernel as K
from sim.ledger import DEFENDER
from sim.parameters import ReviewConfig
from sim.rng import BlockDraws, DrawBuffer


@dataclass(eq=False, slots=True)
class Case:
    """A unit of review work: one flagged account or a flagged pool."""

    detector: str
    attacker: bool
    #: The account (fleet or legitimate-population index), or a pool's accounts.
    accounts: int | np.ndarray
    score: float
    flagged_at: float
    #: False for the review work of a thinned-out legitimate account (load only, no decision).
    decides: bool = True
    op: int = -1
    cluster: int = -1
    pooled: bool = False
    arrived_at: float = math.nan
    started_at: float = math.nan
    done_at: float = math.nan
    seq: int = 0


class ReviewQueue:
    """Analysts serving a queue of cases on the SimPy clock."""

    #: One SimPy timeout per review (the direct method) instead of the heap of finishing times.
    per_case_events = False

    def __init__(
        self,
        env: simpy.Environment,
        cfg: ReviewConfig,
        n_analysts: int,
        rng: np.random.Generator,
        decide: Callable[[Case, float], None],
    ) -> None:
        self.env = env
        self.cfg = cfg
        self.draws = BlockDraws(rng)
        self.decide = decide
        self.n_analysts = n_analysts
        self.by_score = cfg.discipline == "score"
        self._fifo: deque[Case] = deque()
        self._heap: list[tuple[float, int, Case]] = []
        self.cases: list[Case] = []
        self._seq = 0
        self._idle: deque[int] = deque()
        self._on = [False] * n_analysts
        self._busy = [False] * n_analysts
        self._in_idle = [False] * n_analysts
        #: Reviews in progress: (finishing hour, start order, analyst, case).
        self._running: list[tuple[float, int, int, Case]] = []
        self._starts = 0
        self._schedule_shifts()

    def _schedule_shifts(self) -> None:
        cfg, env, n_analysts = self.cfg, self.env, self.n_analysts
        always = cfg.shift_hours >= 24.0
        # Analysts in the same shift start and stop together: one event per shift, not per analyst.
        self._crews: list[list[int]] = [
            list(range(k, n_analysts, cfg.shifts_per_day)) for k in range(cfg.shifts_per_day)
        ]
        for k, crew in enumerate(self._crews):
            if not crew:
                continue
            if always:
                self._shift_begins(k)
                continue
            start = (8.0 + k * 24.0 / cfg.shifts_per_day) % 24.0
            into = (env.now - start) % 24.0
            if into < cfg.shift_hours:
                self._shift_begins(k)
                self._after(cfg.shift_hours - into, self._shift_ends, k)
            else:
                self._after(24.0 - into, self._shift_begins, k, True)

    # ------------------------------------------------------------------ public
    @property
    def staff_usd_per_day(self) -> float:
        return self.n_analysts * min(self.cfg.shift_hours, 24.0) * self.cfg.analyst_usd_per_hour

    @property
    def waiting(self) -> int:
        """Cases waiting for an analyst now."""
        return len(self._heap) if self.by_score else len(self._fifo)

    def run_until(self, t: float) -> None:
        """Run the SimPy clock to hour ``t``, ending the reviews that finish before each event
        (and before ``t``) first, so everything happens in time order."""
        env = self.env
        while env.peek() < t:
            self.advance(env.peek())
            env.step()
        self.advance(t)
        env.run(until=t)

    def advance(self, until: float) -> None:
        """End, in time order, every review in progress that finishes before hour ``until``
        (the analysts go straight on to the next case, whose review may end before it too)."""
        run = self._running
        while run and run[0][0] < until:
            done_at, _, a, case = heapq.heappop(run)
            self._finish(a, case, done_at)

    def submit(self, batch: CaseBatch | list[Case], delay: float) -> None:
        """Cases reach the queue after ``delay`` hours (detector processing latency)."""
        if len(batch):
            cases = batch.cases() if isinstance(batch, CaseBatch) else batch
            self._after(max(delay, 0.0), self._arrive, cases)

    def case_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrival, start and end hours of every case that arrived, in arrival order (NaN: not
        yet)."""
        cs = self.cases
        return tuple(np.array([getattr(c, f) for c in cs], dtype=float) for f in _TIMES)

    def case_kinds(self) -> np.ndarray:
        """Each arrived case's kind (:data:`sim.review_kernel.ATTACKER` ... ``LOAD``)."""
        return np.array([_kind(c) for c in self.cases], dtype=np.int8)

    # ------------------------------------------------------------------ events
    def _after(self, delay: float, fn: Callable, *args) -> None:
        self.env.timeout(delay).callbacks.append(partial(_call, fn, args))

    def _arrive(self, cases: list[Case]) -> None:
        now = self.env.now
        for c in cases:
            c.arrived_at = now
            c.seq = self._seq
            self._seq += 1
            self.cases.append(c)
            if self.by_score:
                heapq.heappush(self._heap, (-c.score, c.seq, c))
            else:
                self._fifo.append(c)
        self._dispatch()

    def _shift_begins(self, crew: int, schedule_end: bool = False) -> None:
        for a in self._crews[crew]:
            self._on[a] = True
            if not self._busy[a]:
                self._make_idle(a)
        self._dispatch()
        if schedule_end:
            self._after(self.cfg.shift_hours, self._shift_ends, crew)

    def _shift_ends(self, crew: int) -> None:
        for a in self._crews[crew]:
            self._on[a] = False
        self._after(24.0 - self.cfg.shift_hours, self._shift_begins, crew, True)

    def _make_idle(self, a: int) -> None:
        if not self._in_idle[a]:
            self._in_idle[a] = True
            self._idle.append(a)

    def _next_case(self) -> Case | None:
        if self.by_score:
            return heapq.heappop(self._heap)[2] if self._heap else None
        return self._fifo.popleft() if self._fifo else None

    def _dispatch(self) -> None:
        while self._idle and self.waiting:
            a = self._idle.popleft()
            self._in_idle[a] = False
            if not self._on[a]:
                continue  # went off shift while idle
            self._start(a, self._next_case())

    def _finish(self, a: int, case: Case, now: float | None = None) -> None:
        if now is None:
            now = self.env.now
        case.done_at = now
        self.decide(case, now)
        if self._on[a] and self.waiting:
            self._start(a, self._next_case(), now)  # straight on to the next case
            return
        self._busy[a] = False
        if self._on[a]:
            self._make_idle(a)
            self._dispatch()

    def _start(self, a: int, case: Case, now: float | None = None) -> None:
        self._busy[a] = True
        if now is None:
            now = self.env.now
        case.started_at = now
        hours = self._service_hours(case)
        if self.per_case_events:
            self.env.timeout(hours).callbacks.append(partial(_call, self._finish, (a, case)))
        else:
            self._starts += 1
            heapq.heappush(self._running, (now + hours, self._starts, a, case))

    def _service_hours(self, case: Case) -> float:
        c = self.cfg
        minutes = c.review_minutes_median * math.exp(c.review_minutes_sigma * self.draws.normal())
        n = case.accounts.size if case.pooled else 1
        return minutes / 60.0 * n**c.pooled_case_scaling


def _call(fn: Callable, args: tuple, _event) -> None:
    fn(*args)


_TIMES = ("arrived_at", "started_at", "done_at")


def _kind(c: Case) -> int:
    if not c.decides:
        return K.LOAD
    if not c.attacker:
        return K.LEGIT
    return K.POOL if c.pooled else K.ATTACKER


#: Accounts of a load-only review case (thinned-out legitimate accounts).
_NONE = np.empty(0, dtype=np.int64)


@dataclass(eq=False, slots=True)
class CaseBatch:
    """Cases flagged together (one detector, one window), as arrays: the rows' kinds
    (:mod:`sim.review_kernel`), accounts (a pool's: its index in ``pools``), scores, operators,
    clusters and sizes (accounts reviewed)."""

    detector: str
    det: int
    flagged_at: float
    kind: np.ndarray
    acc: np.ndarray
    score: np.ndarray
    op: np.ndarray
    cluster: np.ndarray
    size: np.ndarray
    pools: list[np.ndarray]

    def __len__(self) -> int:
        return self.kind.size

    def cases(self) -> list[Case]:
        """The same cases as :class:`Case` objects (for :class:`ReviewQueue`)."""
        name, t, nan, out = self.detector, self.flagged_at, math.nan, []
        for kind, j, s, op, cl in zip(
            self.kind.tolist(),
            self.acc.tolist(),
            self.score.tolist(),
            self.op.tolist(),
            self.cluster.tolist(),
            strict=True,
        ):
            if kind == K.ATTACKER:
                out.append(Case(name, True, j, s, t, op=op, cluster=cl))
            elif kind == K.POOL:
                out.append(Case(name, True, self.pools[j], s, t, op=op, cluster=cl, pooled=True))
            elif kind == K.LEGIT:
                out.append(Case(name, False, j, nan, t))
            else:
                out.append(Case(name, False, _NONE, nan, t, decides=False))
        return out


class CompiledReviewQueue(ReviewQueue):
    """:class:`ReviewQueue` with its cases in arrays and its loop, and the commonest decisions,
    compiled (:mod:`sim.review_kernel`): the same reviews, draws, decisions and outcomes.

    It makes the defender's decisions itself (rarer ones are handed back to the defender's
    methods). Its random numbers come from :class:`DrawBuffer` s of the same streams: its own
    and the verdicts' (which serve nothing else), and the latency model's and the defender's
    (through which everything that draws from those streams draws), so each stream's sequence is
    taken in the same order as by the Python queue.
    """

    def __init__(self, env, cfg, n_analysts, rng, decide, defender) -> None:
        self.defender = defender
        self.qi, self.qf = K.empty_state(n_analysts, cfg.discipline == "score")
        qf = self.qf
        qf[K.MED], qf[K.SIG] = cfg.review_minutes_median, cfg.review_minutes_sigma
        qf[K.SCALE] = cfg.pooled_case_scaling
        self._bound = False
        cap = 1024
        self._cap = cap
        self.cases_i = np.zeros((5, cap), np.int64)  # kind, account, operator, cluster, detector
        self.neg = np.empty(cap)  # minus the score (the score order's key)
        self.c_n = np.ones(cap)  # accounts reviewed
        self.c_times = np.full((3, cap), math.nan)  # arrived, started, done
        self.wh = np.zeros(cap, np.int64)  # waiting cases, by score
        self.pools: list[np.ndarray] = []
        # the pools' accounts, one after another, and where each starts (the last: the end)
        self.pool_members = np.zeros(1024, np.int64)
        self.pool_start = np.zeros(1, np.int64)
        # on shift, busy, in the idle line, the idle line (a ring)
        self.an = tuple(np.zeros(n_analysts, np.int64) for _ in range(4))
        r = max(n_analysts, 1)  # reviews in progress: at most one an analyst
        self.run = (
            np.zeros(r),
            np.zeros(r, np.int64),
            np.zeros(r, np.int64),
            np.zeros(r, np.int64),
        )
        # ledger rows not yet booked: hour and category code, amount
        self.led = (np.empty((2, 4096)), np.empty(4096))
        self.service = DrawBuffer(rng, normal=True)
        super().__init__(env, cfg, n_analysts, rng, decide)
        del self.cases  # no Case objects: case_times() and case_kinds() instead

    # ------------------------------------------------------------------ public
    @property
    def waiting(self) -> int:
        qi = self.qi
        return int(qi[K.W_SIZE] if qi[K.BY_SCORE] else qi[K.N_CASES] - qi[K.HEAD])

    def case_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = int(self.qi[K.N_CASES])
        return tuple(self.c_times[i, :n].copy() for i in range(3))

    def case_kinds(self) -> np.ndarray:
        return self.cases_i[0, : int(self.qi[K.N_CASES])].astype(np.int8)

    def submit(self, batch: CaseBatch, delay: float) -> None:
        if len(batch):
            self._after(max(delay, 0.0), self._arrive, batch)

    def advance(self, until: float) -> None:
        qi = self.qi
        if qi[K.R_SIZE] == 0 or self.run[0][0] >= until:
            return
        if not self._bound:
            self._bind()
        d, qf, draws = self.defender, self.qf, self._draws
        legit = d.model.legit
        state = self._state()
        while True:
            qf[K.FIRST_DET], qf[K.RESELLER_HIT] = d.first_detection_at, d.reseller_customers_hit
            qf[K.FALSE_ACTIONS], qf[K.FALSE_BANS] = d.legit_false_actions, d.legit_false_bans
            qf[K.LIVE_RATE] = legit._live_rate
            qi[K.SWEEPS] = d.sweeps
            qi[K.ZQ], qi[K.UV], qi[K.ZL], qi[K.US] = (b.pos for b in draws)
            bufs = (b.buf for b in draws)
            code = K.advance(until, qi, qf, self.an, self.wh, self.neg, self.c_n, *state, *bufs)
            for b, slot in zip(draws, (K.ZQ, K.UV, K.ZL, K.US), strict=True):
                b.pos = int(qi[slot])
            d.first_detection_at = float(qf[K.FIRST_DET])
            d.reseller_customers_hit = float(qf[K.RESELLER_HIT])
            d.sweeps = int(qi[K.SWEEPS])
            d.legit_false_actions = float(qf[K.FALSE_ACTIONS])
            d.legit_false_bans = float(qf[K.FALSE_BANS])
            legit._live_rate = float(qf[K.LIVE_RATE])
            if code == K.FLUSH:
                self._flush_pending()  # the buffer is full
            elif qi[K.LED_N]:
                # Booked when the ledger is next written or read: fewer, longer bookings of
                # the same rows in the same order.
                d.model.ledger.defer(self._flush_pending)
            if code == K.DONE:
                return
            if code == K.DRAWS:
                for b, i in zip(draws, range(K.NEED_ZQ, K.NEED_US + 1), strict=True):
                    b.ensure(int(qi[i]))
            elif code != K.FLUSH:
                self._bail(code, int(qi[K.BAIL_K]), float(qf[K.PEND_NOW]))
                state = self._state()

    # ------------------------------------------------------------------ internals
    def _bind(self) -> None:
        """The decisions' parameters (the defender is complete by the first review)."""
        d, qf = self.defender, self.qf
        m, rc = d.model, d.cfg.review
        qf[K.P_CONFIRM], qf[K.P_FALSE] = rc.confirm_attacker_prob, rc.false_confirm_legit_prob
        qf[K.COOLDOWN] = rc.cooldown_hours
        lat = m.latency.cfg
        qf[K.ENF_MED], qf[K.ENF_SIG] = lat.enforcement_hours_median, lat.enforcement_hours_sigma
        qf[K.P_FOUND], qf[K.HORIZON] = d.p_cluster_found, m.horizon
        qf[K.RESELLER_USD] = d.cfg.enforcement.reseller_customer_usd
        qf[K.LEARN] = float(m.learning.enabled)
        qf[K.BAN] = float(d.cfg.enforcement.action == "ban")
        qf[K.SWEEP_H], qf[K.SWEEP_SHARE] = m.latency.sweep_hours, d.cfg.enforcement.sweep_share
        qf[K.MARGIN] = m.margin
        self._mixing = np.array([op.cfg.traffic_mixing for op in m.operator_list], dtype=float)
        # service times, verdicts, enforcement delays, cluster searches and sweeps
        verdicts = DrawBuffer(d.verdicts.rng, normal=False)
        self._draws = (self.service, verdicts, m.latency.rng, d.stream)
        self._bound = True

    def _state(self) -> tuple:
        """The arrays the decisions read and write, as they are now (fleet columns grow)."""
        d = self.defender
        m = d.model
        fleet, legit = m.fleet, m.legit
        acc, cl = fleet.accounts, fleet.clusters
        self.qf[K.RATE] = max(legit.median_rate, 1e-9)
        index = fleet.cluster_index() if fleet.n else _NO_INDEX
        cadence = np.array([op.cadence for op in m.operator_list], dtype=float)
        per_op = (
            d.confirmed_by_op,
            d.decisions_by_op,
            m.learning.templates_at,
            cadence,
            self._mixing,
        )
        ct = self.c_times
        return (
            ct[1],
            ct[2],
            *self.run,
            self.cases_i,
            (acc.in_review, acc.confirmed, acc.attributed),
            (acc.cooldown_until, acc.ended_at),
            (acc.end_kind, acc.banned_by, acc.op),
            (legit.in_review, legit.banned, legit.acted),
            (
                legit.cooldown_until,
                legit.banned_at,
                legit.weight,
                legit.rate,
                legit.revenue_per_exchange,
            ),
            legit.tier,
            (legit._remaining_per_rate, legit._churn, legit._support),
            (cl.found, cl.linked),
            cl.known_at,
            index,
            (self.pool_members, self.pool_start),
            per_op,
            *self.led,
        )

    def _flush_pending(self) -> None:
        """Book the rows in the kernel's ledger buffer and empty it."""
        n = int(self.qi[K.LED_N])
        if n:
            self.qi[K.LED_N] = 0
            self._flush(n)

    def _flush(self, n: int) -> None:
        """Book the kernel's ledger rows, in order: one booking per run of one category."""
        hours, codes, usd = self.led[0][0, :n], self.led[0][1, :n], self.led[1][:n]
        bounds = [0, *(np.flatnonzero(np.diff(codes)) + 1).tolist(), n]
        book = self.defender.model.ledger.book_rows  # the kernel books no zero amount
        for a, b in itertools.pairwise(bounds):
            book(hours[a:b], *_KERNEL_ROWS[int(codes[a])], usd[a:b])

    def _bail(self, code: int, k: int, now: float) -> None:
        """A decision the kernel left to the defender's own methods."""
        d = self.defender
        kind, j, op, cl, by = self.cases_i[:, k].tolist()
        if code == K.BAIL_ATTACKER:
            pooled = kind == K.POOL
            accounts = self.pools[j] if pooled else j
            d.decide_attacker(accounts, pooled, by, op, cl, now, float(self.qf[K.U]))
        else:
            d._false_action(np.array([j]), now)

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        n = int(self.qi[K.N_CASES])

        def grown(a: np.ndarray, fill) -> np.ndarray:
            new = np.full((*a.shape[:-1], cap), fill, dtype=a.dtype)
            new[..., :n] = a[..., :n]
            return new

        self.cases_i, self.neg = grown(self.cases_i, 0), grown(self.neg, 0)
        self.c_n, self.c_times, self.wh = (
            grown(self.c_n, 1),
            grown(self.c_times, math.nan),
            grown(self.wh, 0),
        )
        self._cap = cap

    def _add_pools(self, pools: list[np.ndarray]) -> None:
        ends = self.pool_start[-1] + np.cumsum([p.size for p in pools])
        need = int(ends[-1])
        if need > self.pool_members.size:
            grown = np.zeros(max(need, 2 * self.pool_members.size), np.int64)
            grown[: self.pool_start[-1]] = self.pool_members[: self.pool_start[-1]]
            self.pool_members = grown
        self.pool_members[self.pool_start[-1] : need] = np.concatenate(pools)
        self.pool_start = np.concatenate([self.pool_start, ends])

    def _common(self) -> tuple:
        """The arguments of the kernels that start reviews (enough service draws for all)."""
        self.service.ensure(self.n_analysts)
        self.qi[K.ZQ] = self.service.pos
        return (
            self.qi,
            self.qf,
            self.an,
            self.wh,
            self.neg,
            self.c_n,
            self.c_times[1],
            *self.run,
            self.service.buf,
        )

    # ------------------------------------------------------------------ events
    def _arrive(self, batch: CaseBatch) -> None:
        now = self.env.now
        lo = int(self.qi[K.N_CASES])
        hi = lo + len(batch)
        if hi > self._cap:
            self._grow(hi)
        ci = self.cases_i
        ci[0, lo:hi] = batch.kind
        acc = batch.acc
        if batch.pools:
            acc = np.where(batch.kind == K.POOL, acc + len(self.pools), acc)
            self.pools.extend(batch.pools)
            self._add_pools(batch.pools)
        ci[1, lo:hi] = acc
        ci[2, lo:hi] = batch.op
        ci[3, lo:hi] = batch.cluster
        ci[4, lo:hi] = batch.det
        self.neg[lo:hi] = -batch.score
        self.c_n[lo:hi] = batch.size
        self.c_times[0, lo:hi] = now
        K.arrive(lo, hi, now, *self._common())
        self.service.pos = int(self.qi[K.ZQ])

    def _shift_begins(self, crew: int, schedule_end: bool = False) -> None:
        if not hasattr(self, "_crew_idx"):  # the first, during __init__
            self._crew_idx = [np.array(c, dtype=np.int64) for c in self._crews]
        K.shift_begins(self._crew_idx[crew], self.env.now, *self._common())
        self.service.pos = int(self.qi[K.ZQ])
        if schedule_end:
            self._after(self.cfg.shift_hours, self._shift_ends, crew)

    def _shift_ends(self, crew: int) -> None:
        self.an[0][self._crew_idx[crew]] = 0
        self._after(24.0 - self.cfg.shift_hours, self._shift_begins, crew, True)


#: Payer, payee and category of the ledger rows the kernel books, by its code.
_KERNEL_ROWS = {
    K.COLLATERAL: (DEFENDER, "reseller_customers", "reseller_collateral"),
    K.FALSE_POSITIVES: (DEFENDER, "legitimate_users", "false_positives"),
    K.SUPPORT: (DEFENDER, "support_staff", "support"),
    K.USER_FALSE_ACTIONS: ("legitimate_users", "lost_service", "user_false_actions"),
}

#: The cluster index of an empty fleet (legitimate cases only).
_NO_INDEX = (np.zeros(0, np.int64), np.zeros(1, np.int64))

#: Whether a defender gets the compiled queue (the Python one stays the reference tests use).
COMPILED = True


def make_queue(env, cfg: ReviewConfig, n_analysts: int, rng, defender) -> ReviewQueue:
    """The defender's review queue: compiled unless the reference (or per-case events) is
    asked for."""
    if COMPILED and not ReviewQueue.per_case_events:
        return CompiledReviewQueue(env, cfg, n_analysts, rng, defender.decide, defender)
    return ReviewQueue(env, cfg, n_analysts, rng, defender.decide)
