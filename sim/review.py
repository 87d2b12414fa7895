"""Human review: flags queue for a finite team of analysts working shifts (a SimPy resource).

Each analyst is a SimPy process that takes the next case from a store (first come, or highest
score first), reviews it for a lognormal time and hands it to the defender's decision. A pooled
case of n accounts takes n^scaling reviews; a case standing for w thinned legitimate accounts takes
w reviews, so analyst load is preserved when the legitimate population is thinned. When flags
outrun analysts the store grows and attacker accounts keep harvesting while they wait.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.parameters import ReviewConfig


@dataclass(eq=False, slots=True)
class Case:
    """A unit of review work: one flagged account, a flagged pool, or a thinned legit account."""

    detector: str
    attacker: bool
    accounts: np.ndarray
    score: float
    flagged_at: float
    weight: float = 1.0
    op: int = -1
    cluster: int = -1
    pooled: bool = False
    arrived_at: float = math.nan
    started_at: float = math.nan
    done_at: float = math.nan
    seq: int = 0
    extra: dict = field(default_factory=dict)


class ReviewQueue:
    """Analysts (SimPy processes) serving a store of cases."""

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
        self.rng = rng
        self.decide = decide
        self.n_analysts = n_analysts
        self.by_score = cfg.discipline == "score"
        self.store = simpy.PriorityStore(env) if self.by_score else simpy.Store(env)
        self.cases: list[Case] = []
        self._seq = 0
        full_day = cfg.shifts_per_day * cfg.shift_hours >= 24.0
        for i in range(n_analysts):
            s = i % cfg.shifts_per_day
            start = (8.0 + s * 24.0 / cfg.shifts_per_day) % 24.0
            env.process(self._analyst(None if full_day else start))

    @property
    def staff_usd_per_day(self) -> float:
        return self.n_analysts * self.cfg.shift_hours * self.cfg.analyst_usd_per_hour

    @property
    def backlog(self) -> int:
        return len(self.store.items)

    def submit(self, cases: list[Case], delay: float) -> None:
        """Cases reach the queue after ``delay`` hours (detector processing latency)."""
        if cases:
            self.env.process(self._deliver(cases, max(delay, 0.0)))

    def _deliver(self, cases: list[Case], delay: float):
        if delay > 0:
            yield self.env.timeout(delay)
        now = self.env.now
        for c in cases:
            c.arrived_at = now
            c.seq = self._seq
            self._seq += 1
            self.cases.append(c)
            if self.by_score:
                self.store.put(simpy.PriorityItem((-c.score, c.seq), c))
            else:
                self.store.put(c)

    def _service_hours(self, case: Case) -> float:
        c = self.cfg
        minutes = c.review_minutes_median * math.exp(
            c.review_minutes_sigma * self.rng.standard_normal()
        )
        n = case.accounts.size if case.pooled else 1
        return minutes / 60.0 * n**c.pooled_case_scaling * case.weight

    def _analyst(self, shift_start: float | None):
        env = self.env
        while True:
            if shift_start is not None:
                into = (env.now - shift_start) % 24.0
                if into >= self.cfg.shift_hours:
                    yield env.timeout(24.0 - into)
                    continue
                get = self.store.get()
                ends = env.timeout(self.cfg.shift_hours - into)
                got = yield get | ends
                if get not in got:
                    get.cancel()
                    continue
                item = got[get]
            else:
                item = yield self.store.get()
            case = item.item if self.by_score else item
            case.started_at = env.now
            yield env.timeout(self._service_hours(case))
            case.done_at = env.now
            self.decide(case, env.now)
