"""Per-exchange reference: the same world, one SimPy process per account and one event per exchange.

The straightforward discrete-event implementation the package's vectorised shortcuts replace
(issue #4): every attacker and legitimate account is a SimPy process that yields once per
exchange (exponential gaps, the diurnal profile by thinning), pays and records each exchange as it
happens, and every legitimate account is scored directly each window (one Bernoulli per account
and detector) instead of through the thinning sampler. Reviews, enforcement, operators, detectors
on attacker accounts and everything downstream are the package's own code, so the two differ only
in how traffic and legitimate scoring are drawn. Operators order accounts once an hour here (the
package orders at the exact notice time), the only change of semantics, and a small one.

Lives in benchmarks/ on purpose: it is a measuring stick, not part of the package.
"""

from __future__ import annotations

import math

import numpy as np

from sim.fleet import ACT_DEGRADE, ACT_THROTTLE
from sim.harvest import WindowHarvest, live_intervals
from sim.model import DistillationModel


class DirectSampler:
    """Flags every legitimate account with its own Bernoulli draw each window (O(accounts))."""

    def __init__(self, q: np.ndarray) -> None:
        self.q = np.asarray(q, dtype=float)

    def expected(self, c: float = 1.0) -> float:
        return float(c * self.q.sum())

    def draw(self, rng: np.random.Generator, c: float = 1.0) -> np.ndarray:
        return np.flatnonzero(rng.random(self.q.size) < c * self.q)


class PerExchangeModel(DistillationModel):
    """The package's model with per-exchange SimPy processes for all traffic."""

    def __init__(self, cfg, streams=None) -> None:
        super().__init__(cfg, streams)
        self.rx = self.streams("reference")
        for det in self.detector_list:
            if det._legit_sampler is not None:
                det._legit_sampler = DirectSampler(det._legit_sampler.q)
        self._started = 0
        self._win_sent: dict[int, int] = {}
        self._win_harv: dict[int, int] = {}
        self._win_fees = np.zeros(len(self.operator_list))
        self._cum_dom = [np.cumsum(op.mix) for op in self.operator_list]
        w = self.cfg.world
        self._amp, self._peak = w.diurnal_amplitude, w.diurnal_peak_hour
        for j in range(self.legit.n):
            self.env.process(self._legit_account(j))

    # ------------------------------------------------------------------ processes
    def _legit_account(self, j: int):
        """A legitimate customer: Poisson exchanges at its rate, shaped by the diurnal profile."""
        env, rx, legit = self.env, self.rx, self.legit
        peak_rate = legit.rate[j] / 24.0 * (1.0 + self._amp)
        weight = legit.weight[j]
        if peak_rate <= 0:
            return
        while True:
            yield env.timeout(rx.exponential(1.0 / peak_rate))
            t = env.now
            if t >= self.horizon or legit.banned[j]:
                return
            profile = 1.0 + self._amp * math.cos(2 * math.pi * (t % 24 - self._peak) / 24)
            if rx.random() * (1.0 + self._amp) < profile:
                self.legit_h[int(t)] += weight

    def _attacker_account(self, i: int):
        env, rx = self.env, self.rx
        acc = self.fleet.accounts
        k = int(acc.op[i])
        op = self.operator_list[k]
        if acc.active_at[i] > env.now:
            yield env.timeout(acc.active_at[i] - env.now)
        en = self.cfg.enforcement
        pois = self.policy("poisoning")
        q_pois = pois.quality if pois is not None else 1.0
        while True:
            yield env.timeout(rx.exponential(24.0 / op.cadence))
            t = env.now
            if t >= acc.ended_at[i] or t >= op.end or t >= self.horizon:
                return
            h = int(t)
            self.sent_h[k, h] += 1
            self._win_sent[i] = self._win_sent.get(i, 0) + 1
            acted = acc.action[i] > 0 and t >= acc.action_at[i]
            if acted and acc.action[i] == ACT_THROTTLE and rx.random() >= en.throttle_factor:
                continue
            fee = op.fee_per_exchange
            if op.cash + self._win_fees[k] + fee > op.cfg.budget_usd:
                continue  # no money left for this exchange
            self._win_fees[k] += fee
            self.harvested_h[k, h] += 1
            self._win_harv[i] = self._win_harv.get(i, 0) + 1
            q = op.quality * (q_pois if acc.poisoned[i] else 1.0)
            q *= en.degrade_quality if acted and acc.action[i] == ACT_DEGRADE else 1.0
            q *= float(self._staleness(op, np.array([float(h)]))[0])
            d = int(np.searchsorted(self._cum_dom[k], rx.random() * self._cum_dom[k][-1]))
            self.effective_hd[k, h, min(d, self.effective_hd.shape[2] - 1)] += q

    # ------------------------------------------------------------------ one window
    def step(self) -> None:
        t0 = self.time_h
        t1 = min(t0 + self.window, self.horizon)
        self._win_sent.clear()
        self._win_harv.clear()
        self._win_fees[:] = 0.0
        for hour in range(int(t0), int(t1)):
            for op in self.operator_list:
                op.begin_window(hour, hour + 1)
                op.top_up(hour, hour + 1)
            for i in range(self._started, self.fleet.n):
                self.env.process(self._attacker_account(i))
            self._started = self.fleet.n
            self.env.run(until=hour + 1)
        h = self._window_harvest(t0, t1)
        self._close_window(t0, t1, h, self.legit_h[int(t0) : int(t1)].copy())

    def _window_harvest(self, t0: float, t1: float) -> WindowHarvest:
        """The window's per-account record, as the vectorised model reports it."""
        ops = self.operator_list
        idx, a, b = live_intervals(self.fleet, t0, t1, np.array([op.end for op in ops]))
        acc = self.fleet.accounts
        cad = np.array([op.cadence for op in ops])
        expected = cad[acc.op[idx]] / 24.0 * (b - a)
        sent = np.array([self._win_sent.get(int(i), 0) for i in idx], dtype=float)
        harv = np.array([self._win_harv.get(int(i), 0) for i in idx], dtype=float)
        acc.sent[idx] += sent
        acc.harvested[idx] += harv
        acc.expected_cum[idx] += expected
        i0, i1 = int(t0), int(t1)
        for k, op in enumerate(ops):
            op.pay_window(t0, self.harvested_h[k, i0:i1], min(op.end, t1), t1)
        self._accumulate_capability(t0, t1, self.effective_hd[:, i0:i1])
        return WindowHarvest(
            idx=idx,
            live_hours=b - a,
            expected=expected,
            sent=sent,
            harvested=harv,
            sent_h=self.sent_h[:, i0:i1],
            harvested_h=self.harvested_h[:, i0:i1],
            effective_hd=self.effective_hd[:, i0:i1],
        )
