"""The detector agent: spend -> separation, coverage and threshold; a scan -> flags.

A detector with share ``s`` of the budget B gets ``S = s·B`` $/day. Below its fixed cost it does
not run and costs nothing. Otherwise it spends all of S: the fixed cost and the inspection of a
share of the traffic (its coverage: what S allows at its per-exchange price on the traffic of the
last window, capped at ``max_coverage``), and the rest on its quality, so that its separation is
``d′(S)`` (MODEL §4). Every ``cadence_hours`` it scores the traffic since its last scan.
Legitimate accounts are scored in distribution (:class:`sim.signal.ThinningSampler`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np
from scipy.special import ndtr, ndtri

from sim.parameters import P, share
from sim.signal import PersistentMeanSampler, ThinningSampler, d_prime, scores, threshold

if TYPE_CHECKING:
    from sim.fleet import Fleet
    from sim.harvest import WindowHarvest
    from sim.legit import LegitPopulation


@dataclass
class DetectorParams:
    """Parameters every detector kind has (costs, quality curve, cadence)."""

    kind: str = ""
    #: d′ at zero spend and the ceiling as spend grows; S_half halves the distance [E].
    d0: float = P(0.5, ge=0.0, le=10.0)
    d_inf: float = P(3.0, ge=0.0, le=10.0)
    s_half_usd_per_day: float = P(5000.0, gt=0.0)
    fixed_usd_per_day: float = P(500.0, ge=0.0)
    usd_per_exchange: float = P(1e-5, ge=0.0)
    max_coverage: float = share(1.0)
    #: Scores the traffic of the last ``cadence_hours`` (a multiple of world.window_hours).
    cadence_hours: int = P(24, gt=0)
    #: Scores above this bypass review and go straight to enforcement (null: never).
    auto_ban_score: float | None = None


@dataclass
class ScanContext:
    """Everything a detector may look at when a window closes."""

    t0: float
    t1: float
    fleet: Fleet
    harvest: WindowHarvest
    legit: LegitPopulation
    #: Per live account (aligned with harvest.idx): may it be flagged now?
    eligible: np.ndarray
    #: Per live account: additive prior boost from shared intelligence (d′ units).
    boost: np.ndarray
    #: Per operator: current obfuscation, traffic-mixing share and CoT share.
    obfuscation: np.ndarray
    mixing: np.ndarray
    cot_share: np.ndarray
    #: Per cluster: live accounts in the window.
    cluster_live: np.ndarray
    #: Legitimate median exchanges per account per day.
    legit_median_rate: float
    rho: float
    rng: np.random.Generator
    #: All exchanges served in the window (legitimate and attacker).
    traffic: float = 0.0


@dataclass
class Flags:
    """One detector's flags for one scan."""

    detector: str
    index: int
    accounts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Pooled flags: (cluster id, member fleet indices, score).
    pools: list[tuple[int, np.ndarray, float]] = field(default_factory=list)
    legit: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    #: Scores of the flagged legitimate accounts (NaN unless an auto-ban score needs them).
    legit_scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Number of attacker units tested (for reporting).
    tested: int = 0


class Detector(mesa.Agent):
    """A scoring detector (Mesa agent). Subclasses define the signal ``g`` in [0, 1]."""

    Params: ClassVar[type] = DetectorParams
    kind: ClassVar[str] = ""
    #: Flags from this detector reveal the flagged account's cluster to the defender.
    links_clusters: ClassVar[bool] = False

    def __init__(self, model: mesa.Model, name: str, params, index: int, spend: float) -> None:
        super().__init__(model)
        self.name = name
        self.params = params
        self.index = index
        self.spend = float(spend)
        self.on = spend > 0 and spend >= params.fixed_usd_per_day
        self.dprime = (
            d_prime(spend, params.d0, params.d_inf, params.s_half_usd_per_day) if self.on else 0.0
        )
        self.tau = threshold(model.cfg.detection.threshold, self.dprime)
        self.coverage = 0.0
        self.rho = model.cfg.detection.rho
        self.period = float(params.cadence_hours)
        self._legit_sampler: ThinningSampler | None = None
        self._legit_mean: np.ndarray | None = None
        self._last_cum = np.zeros(0)
        self.cost_usd = 0.0
        self.scans = 0

    # ------------------------------------------------------------------ signals (override)
    def attacker_signal(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        """g in [0, 1] for each live attacker account, given its volume over the period."""
        raise NotImplementedError

    def legit_signal(self, legit: LegitPopulation, median_period: float) -> np.ndarray:
        """g in [0, 1] for each legitimate account (persistent: from its usage and tier)."""
        raise NotImplementedError

    def attacker_test_factor(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        """Probability an inspected live account can be tested (before coverage)."""
        return np.ones(volume.size)

    def legit_test_factor(self, legit: LegitPopulation, period_hours: float) -> np.ndarray:
        return np.ones(legit.n)

    # ------------------------------------------------------------------ budget
    def set_coverage(self, traffic_per_day: float) -> None:
        """Coverage affordable with what is left of S after the fixed cost."""
        p = self.params
        if not self.on:
            self.coverage = 0.0
        elif p.usd_per_exchange <= 0 or traffic_per_day <= 0:
            self.coverage = p.max_coverage
        else:
            room = self.spend - p.fixed_usd_per_day
            self.coverage = min(p.max_coverage, room / (p.usd_per_exchange * traffic_per_day))

    def window_cost(self, hours: float) -> float:
        """What the detector spends in ``hours``: its whole allocation while it runs."""
        return self.spend * hours / 24.0 if self.on else 0.0

    # ------------------------------------------------------------------ scoring
    def prepare(self, legit: LegitPopulation, rng: np.random.Generator) -> None:
        """Score the legitimate population's persistent terms once and build its sampler."""
        if not self.on or legit.n == 0:
            self._legit_sampler = ThinningSampler(np.zeros(0))
            return
        median_period = legit.median_rate * self.period / 24.0
        mu = self.dprime * self.legit_signal(legit, median_period)
        test = self.legit_test_factor(legit, self.period)
        self.tau = threshold(
            self.model.cfg.detection.threshold, self.dprime, mu, legit.weight * test
        )
        # float32 is ample for a persistent mean, and twice as fast.
        u = rng.standard_normal(legit.n, dtype=np.float32)
        m = mu.astype(np.float32) + np.float32(math.sqrt(self.rho)) * u
        if self.params.auto_ban_score is not None:
            self._legit_mean = m
        constant_test = bool(np.all(test == 1.0))
        self._legit_sampler = PersistentMeanSampler(
            m, self.tau, self.rho, None if constant_test else test
        )

    def due(self, t1: float) -> bool:
        return self.on and round(t1) % self.params.cadence_hours == 0

    def period_volume(self, ctx: ScanContext) -> np.ndarray:
        """Expected exchanges of each live account since this detector's last scan."""
        cum = ctx.fleet.accounts.view("expected_cum")
        last = np.zeros(cum.size)
        last[: self._last_cum.size] = self._last_cum
        return (cum - last)[ctx.harvest.idx]

    def scan(self, ctx: ScanContext) -> Flags:
        """Score the traffic since the last scan and return the flags."""
        out = Flags(self.name, self.index)
        if not self.due(ctx.t1):
            return out
        volume = self.period_volume(ctx)
        self._scan_accounts(ctx, volume, np.ones(volume.size, dtype=bool), out)
        self._scan_legit(ctx, out)
        self._done(ctx)
        return out

    def _done(self, ctx: ScanContext) -> None:
        self._last_cum = ctx.fleet.accounts.view("expected_cum").copy()
        self.scans += 1

    def _scan_accounts(
        self, ctx: ScanContext, volume: np.ndarray, which: np.ndarray, out: Flags
    ) -> None:
        rng = ctx.rng
        h = ctx.harvest
        if h.idx.size == 0:
            return
        t = self.coverage * self.attacker_test_factor(ctx, volume)
        tested = which & ctx.eligible & (rng.random(h.idx.size) < t)
        sel = np.flatnonzero(tested)
        out.tested += sel.size
        if sel.size == 0:
            return
        g = self.attacker_signal(ctx, volume)[sel]
        mu = self.dprime * g + ctx.boost[sel]
        acc = h.idx[sel]
        s = scores(mu, ctx.fleet.accounts.u[acc, self.index], self.rho, rng)
        hit = s > self.tau
        out.accounts = acc[hit]
        out.scores = s[hit]

    def _scan_legit(self, ctx: ScanContext, out: Flags) -> None:
        idx = self._legit_sampler.draw(ctx.rng, self.coverage)
        idx = idx[ctx.legit.eligible(idx, ctx.t1)]
        out.legit = idx
        if self._legit_mean is None or idx.size == 0:
            out.legit_scores = np.full(idx.size, np.nan)
            return
        # Score of a flagged account: its persistent mean plus fresh noise, given s > τ.
        m = self._legit_mean[idx].astype(float)
        sd = math.sqrt(1.0 - self.rho)
        tail = ndtr((m - self.tau) / sd)
        u = ctx.rng.random(idx.size) * tail
        out.legit_scores = m - sd * ndtri(np.clip(u, 1e-300, 1.0))
