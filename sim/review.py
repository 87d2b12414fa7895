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
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy

from sim.parameters import ReviewConfig
from sim.rng import BlockDraws


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

    def submit(self, cases: list[Case], delay: float) -> None:
        """Cases reach the queue after ``delay`` hours (detector processing latency)."""
        if cases:
            self._after(max(delay, 0.0), self._arrive, cases)

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
