"""The detector agent: what its share of the budget buys, and a scan -> flags.

A detector with share ``s`` of the budget B is allocated ``S = s·B`` $/day (MODEL §4). Unless S pays
its fixed cost and leaves money to inspect with, it does not run and costs nothing. Otherwise its
money buys, in this order: the fixed cost; the inspection of its target ``coverage`` of the traffic
at its price per exchange; and, with what is left, quality, ``d′ = d′(Q)`` from the quality spend Q
alone, up to the spend that brings d′ within ``detection.dprime_tolerance`` of d∞. What is left
after that is not spent (reported, not moved to other detectors). The quality spend is set once, on
the defender's traffic forecast; each window's coverage is what the inspection money buys on that
window's traffic (the target, or less when traffic outgrows the plan or the share cannot pay for
it). Every ``cadence_hours`` it scores the traffic since its last scan. Legitimate accounts are
scored in distribution (:class:`sim.signal.ThinningSampler`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np
from scipy.special import ndtr, ndtri

from sim.parameters import P, share
from sim.rng import standard_normal_f32
from sim.signal import PersistentMeanSampler, ThinningSampler, d_prime, quality_cap, scores
from sim.thresholds import BayesTerms, bayes_terms, calibrated_threshold, threshold

if TYPE_CHECKING:
    from sim.attackers.base import Operator
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
    #: Target share of the traffic inspected; its cost is paid before any quality is bought.
    coverage: float = share(1.0)
    #: Scores the traffic of the last ``cadence_hours``: a multiple of world.window_hours, or a
    #: whole fraction of it in quarter hours (scored inside the window's step, MODEL §4).
    cadence_hours: float = P(24.0, ge=0.25)
    #: Extra share of the price per exchange once it scores more often than daily: a daily job
    #: runs as a batch, which batch APIs price at half the real-time rate (MODEL §4) [S/E].
    subdaily_premium: float = P(1.0, ge=0.0)
    #: Processing latency (hours from a scan to its flags reaching review) it can buy instead of
    #: ``latency.detector_hours``, and what that costs a day (null: not bought) [E].
    fast_latency_hours: float | None = P(None, ge=0.0)
    fast_latency_usd_per_day: float = P(0.0, ge=0.0)
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
    #: A scan at a sub-window time, before the window's harvest is drawn (MODEL §4).
    sub_window: bool = False


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
    #: Expected flags of the thinned-out legitimate accounts the flagged ones stand for
    #: (review load in a thinned world; 0 when every account is simulated).
    legit_load: float = 0.0
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
        #: Allocation S ($/day) and what it buys: quality Q ($/day, set by :meth:`plan`).
        self.spend = float(spend)
        # It runs if its share pays the fixed cost and leaves money to inspect something.
        self.on = spend > 0 and (
            spend > params.fixed_usd_per_day
            or (spend == params.fixed_usd_per_day and params.usd_per_exchange == 0)
        )
        self.quality_usd = 0.0
        self.dprime = 0.0
        self.period = float(params.cadence_hours)
        self.tau = threshold(model.cfg.detection.threshold, self.dprime, period_hours=self.period)
        #: Processing latency (hours from a scan to review) and what buying it down costs a day.
        self.processing_hours = model.latency.detector_hours(name, params.kind)
        self.latency_usd = 0.0
        self.bayes: BayesTerms | None = None
        self.coverage = 0.0
        #: Dollars booked over the run: fixed, inspection and quality; traffic it covered.
        self.paid = {"fixed": 0.0, "inspection": 0.0, "latency": 0.0, "quality": 0.0}
        self._covered = 0.0
        self._traffic = 0.0
        #: Expected traffic of this window's periods (scans faster than the window), and the part
        #: of it inspected: its traffic-weighted coverage is what the window's inspection pays.
        self._period_traffic = 0.0
        self._period_covered = 0.0
        self.rho = model.cfg.detection.rho
        self._legit_sampler: ThinningSampler | None = None
        #: Σ (w − 1)·q over legitimate accounts (thinned worlds only; 0 otherwise).
        self._extra_weight_q = 0.0
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

    def planned_attacker_signal(self, op: Operator) -> float:
        """g of one of ``op``'s accounts at its planned behaviour (for Bayes thresholds)."""
        raise NotImplementedError

    def attacker_test_factor(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        """Probability an inspected live account can be tested (before coverage)."""
        return np.ones(volume.size)

    def legit_test_factor(self, legit: LegitPopulation, period_hours: float) -> np.ndarray:
        return np.ones(legit.n)

    # ------------------------------------------------------------------ budget
    @property
    def usd_per_exchange(self) -> float:
        """Price of inspecting one exchange at this cadence: the batch price at a daily or
        slower cadence, ``1 + subdaily_premium`` times it when scoring more often."""
        p = self.params
        return p.usd_per_exchange * (1.0 + p.subdaily_premium if self.period < 24.0 else 1.0)

    def plan(self, traffic_per_day: float, tolerance: float) -> None:
        """Split S into fixed cost, inspection of the target coverage, a faster processing
        latency if one is offered, and quality (MODEL §4).

        ``traffic_per_day``: the defender's forecast of the exchanges it serves a day. If S
        cannot pay for the target coverage, the detector inspects what it can and buys nothing
        else; if what is left cannot pay for the faster latency, it keeps the slower one.
        """
        p = self.params
        if not self.on:
            return
        room = self.spend - p.fixed_usd_per_day
        inspect = p.coverage * self.usd_per_exchange * max(traffic_per_day, 0.0)
        left = max(room - inspect, 0.0)
        offered = p.fast_latency_hours is not None
        if offered and inspect <= room and left >= p.fast_latency_usd_per_day:
            self.latency_usd = p.fast_latency_usd_per_day
            self.processing_hours = float(p.fast_latency_hours)
            left -= self.latency_usd
        self.quality_usd = min(left, quality_cap(p.d0, p.d_inf, p.s_half_usd_per_day, tolerance))
        self.dprime = d_prime(self.quality_usd, p.d0, p.d_inf, p.s_half_usd_per_day)
        self.set_coverage(traffic_per_day)

    def set_coverage(self, traffic_per_day: float) -> None:
        """The coverage the inspection money (S − fixed − Q) buys on this traffic, at most the
        target."""
        p = self.params
        if not self.on:
            self.coverage = 0.0
        elif p.usd_per_exchange <= 0 or traffic_per_day <= 0:
            self.coverage = p.coverage
        else:
            room = self.spend - p.fixed_usd_per_day - self.latency_usd - self.quality_usd
            self.coverage = min(p.coverage, room / (self.usd_per_exchange * traffic_per_day))

    def set_period_coverage(self, traffic: float, traffic_per_day: float) -> None:
        """Coverage for one scan period carrying ``traffic`` expected exchanges, bought on
        ``traffic_per_day``; noted for the window's inspection bill."""
        self.set_coverage(traffic_per_day)
        self._period_traffic += traffic
        self._period_covered += self.coverage * traffic

    def window_cost(self, hours: float, traffic: float) -> dict[str, float]:
        """What the detector spends in a window of ``hours`` carrying ``traffic`` exchanges."""
        if not self.on:
            return {"fixed": 0.0, "inspection": 0.0, "latency": 0.0, "quality": 0.0}
        coverage = self.coverage
        if self._period_traffic > 0:
            coverage = self._period_covered / self._period_traffic
            self._period_traffic = self._period_covered = 0.0
        cost = {
            "fixed": self.params.fixed_usd_per_day * hours / 24.0,
            "inspection": coverage * traffic * self.usd_per_exchange,
            "latency": self.latency_usd * hours / 24.0,
            "quality": self.quality_usd * hours / 24.0,
        }
        for k, v in cost.items():
            self.paid[k] += v
        self._covered += coverage * traffic
        self._traffic += traffic
        return cost

    @property
    def mean_coverage(self) -> float:
        """Share of the traffic inspected over the run (traffic-weighted)."""
        return self._covered / self._traffic if self._traffic > 0 else self.coverage

    # ------------------------------------------------------------------ scoring
    def prepare(self, legit: LegitPopulation, rng: np.random.Generator) -> None:
        """Score the legitimate population's persistent terms once and build its sampler."""
        if not self.on or legit.n == 0:
            self._legit_sampler = ThinningSampler(np.zeros(0))
            return
        median_period = legit.median_rate * self.period / 24.0
        mu = self.dprime * self.legit_signal(legit, median_period)
        age = self.model.learning.legit_age_term(legit)
        if age is not None:
            mu = mu + age  # young legitimate accounts look young too
        test = self.legit_test_factor(legit, self.period)
        cfg = self.model.cfg.detection.threshold
        if cfg.method == "bayes":
            self.bayes = bayes_terms(self.model, self)
        # Only a threshold calibrated on the population weighs its accounts (a million products).
        weighed = cfg.method == "capacity" or (
            cfg.method == "fpr" and cfg.calibrate_on == "population"
        )
        weights = legit.weight * test if weighed else None
        if cfg.method == "capacity":
            self.tau = self._capacity_threshold(cfg, mu, weights)
        else:
            self.tau = threshold(
                cfg, self.dprime, mu, weights, self.bayes, period_hours=self.period
            )
        # float32 is ample for a persistent mean, and twice as fast.
        u = standard_normal_f32(rng, legit.n)
        m = mu.astype(np.float32)
        m += np.float32(math.sqrt(self.rho)) * u  # the same float32 sum, one array fewer
        if self.params.auto_ban_score is not None:
            self._legit_mean = m
        constant_test = bool(np.all(test == 1.0))
        self._legit_sampler = PersistentMeanSampler(
            m, self.tau, self.rho, None if constant_test else test
        )
        if legit.thinned:
            extra = legit.weight - 1.0
            self._extra_weight_q = float((extra * self._review_q(np.arange(legit.n))).sum())

    def _capacity_threshold(self, cfg, mu: np.ndarray, weights: np.ndarray) -> float:
        """τ at which the benign population's expected flags per scan are
        ``capacity_utilisation`` × this detector's equal part of the cases the analysts can clear
        in a scan (analyst-hours a day × 60 / mean review minutes × cadence / 24); no analysts,
        no reviewable flags (τ = ∞). Benign flags dominate the cases at any realistic base rate,
        so the attacker's own flags are not counted against the capacity."""
        m = self.model
        rc = m.cfg.review
        n = m.defender.n_analysts
        running = sum(1 for d in m.detector_list if d.on)
        if n <= 0 or running == 0 or self.coverage <= 0:
            return math.inf
        minutes = rc.review_minutes_median * math.exp(rc.review_minutes_sigma**2 / 2)
        per_day = n * rc.shift_hours * 60.0 / minutes
        cases = cfg.capacity_utilisation * per_day * self.period / 24.0 / running
        total = float(weights.sum()) * self.coverage
        fpr = min(cases / total, 0.5) if total > 0 else 0.5
        return calibrated_threshold(mu, weights, fpr)

    def _review_q(self, idx: np.ndarray) -> np.ndarray:
        """Per-window probability that legitimate accounts ``idx`` are flagged for review: over
        the threshold, and not over the auto-ban score (those are acted on without review)."""
        sampler = self._legit_sampler
        q = sampler.q_of(idx)
        auto = self.params.auto_ban_score
        if auto is None:
            return q
        m = self._legit_mean[idx].astype(float)
        over = ndtr((m - auto) / math.sqrt(max(1.0 - self.rho, 1e-18)))
        if sampler.t is not None:
            over = over * sampler.t[idx]
        return np.maximum(q - over, 0.0)

    def _thinned_load(self, ctx: ScanContext) -> float:
        """Expected flags among the accounts a thinned sample stands for but does not simulate.

        An eligible simulated account of weight w is flagged for review with probability c·q
        (flags above an auto-ban score skip review); the w − 1 accounts it stands for would be as
        often, each its own review case: Σ (w−1)·c·q over eligible accounts. Only accounts flagged
        before can be ineligible, so the sum over all accounts (kept from :meth:`prepare`) less
        theirs is cheap.
        """
        if self._extra_weight_q <= 0:
            return 0.0
        legit = ctx.legit
        seen = np.flatnonzero(legit.ever_flagged)
        if seen.size:
            gone = seen[~legit.eligible(seen, ctx.t1)]
            extra = (legit.weight[gone] - 1.0) * self._review_q(gone)
            out = self._extra_weight_q - float(extra.sum())
        else:
            out = self._extra_weight_q
        return self.coverage * max(out, 0.0)

    def due(self, t: float) -> bool:
        """Whether it scores at hour ``t`` (a multiple of its cadence)."""
        k = t / self.period
        return self.on and abs(k - round(k)) < 1e-6

    def period_volume(self, ctx: ScanContext) -> np.ndarray:
        """Expected exchanges of each live account since this detector's last scan: its whole
        traffic, the operator's own and the reseller customers' mixed in (MODEL §4: every
        detector sees an account's total traffic; mixing dilutes only what is in it). A scan
        inside the window counts each account's rate over its live part of the period."""
        if ctx.sub_window:
            h = ctx.harvest
            lo = ctx.t1 - self.period
            own = h.rate * np.clip(np.minimum(h.stop, ctx.t1) - np.maximum(h.start, lo), 0, None)
            return own / (1.0 - ctx.mixing[ctx.fleet.accounts.op[h.idx]])
        cum = ctx.fleet.accounts.view("expected_cum")
        idx = ctx.harvest.idx
        last = self._last_cum
        # cum − last at the live accounts only (last is 0 past the accounts of the last scan)
        own = cum[idx]
        seen = idx < last.size
        if seen.all():
            own -= last[idx]
        else:
            own[seen] -= last[idx[seen]]
        return own / (1.0 - ctx.mixing[ctx.fleet.accounts.op[idx]])

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
        out.legit_load = self._thinned_load(ctx)
        if self._legit_mean is None or idx.size == 0:
            out.legit_scores = np.full(idx.size, np.nan)
            return
        # Score of a flagged account: its persistent mean plus fresh noise, given s > τ.
        m = self._legit_mean[idx].astype(float)
        sd = math.sqrt(1.0 - self.rho)
        tail = ndtr((m - self.tau) / sd)
        u = ctx.rng.random(idx.size) * tail
        out.legit_scores = m - sd * ndtri(np.clip(u, 1e-300, 1.0))
