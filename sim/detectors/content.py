"""Content classifier (CoT elicitation, capability-targeted prompts) over pooled traffic windows.

Calibrated on Liu, Guo & Dong 2026 (MMD on sentence embeddings): windows of ~1,500 queries, benign
FPR 0.3% and mean TPR 90.5% at attack shares 5-50%, i.e. d′ ≈ Φ⁻¹(0.997) + Φ⁻¹(0.905) ≈ 4.1.
A unit is testable in a window with probability min(1, volume / window_queries), its volume being
its whole traffic (reseller customers' exchanges included): one account at ~26 exchanges a day
almost never fills a window, a linked cluster does. Clusters that the defender has linked are
scored as one pool; other accounts one by one. The signal falls with the attacker share f of the
traffic as h(f) = f(1 + f½)/(f + f½) — the one way mixing dilutes a detector's signal (MODEL §4):
Liu/Guo/Dong detected windows with 5-50% attack share at a mean TPR of 90.5% (100% when pure), so
h barely falls at f = 0.5 — with obfuscation, and rises with CoT share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.detectors.base import Detector, DetectorParams, Flags, ScanContext
from sim.parameters import P, share
from sim.registry import detectors
from sim.signal import scores


@dataclass
class ContentParams(DetectorParams):
    window_queries: float = P(1500.0, gt=0.0)
    #: Attacker share of a pool at which the mixing factor h is about half of its maximum [E].
    mixing_half_share: float = P(0.05, gt=0.0, le=1.0)
    #: Weight of CoT elicitation in the signal: g ∝ (1 − w) + w·cot_share [E].
    cot_weight: float = share(0.5)
    #: How much obfuscation hides the content signal: g ∝ 1 − evasion·obfuscation [E].
    obfuscation_evasion: float = share(1.0)


def mixing_factor(f: np.ndarray, half: float) -> np.ndarray:
    """h(f) = f(1 + f½)/(f + f½): 1 for a pure attacker pool, ~0.5 at f = f½."""
    f = np.asarray(f, dtype=float)
    return f * (1.0 + half) / (f + half)


def content_signal(attack_share, obfuscation, cot_share, p: ContentParams) -> np.ndarray:
    """g in [0, 1] of an operator's traffic: mixing × (1 − evasion·obfuscation) × CoT term."""
    return (
        mixing_factor(attack_share, p.mixing_half_share)
        * (1.0 - p.obfuscation_evasion * np.asarray(obfuscation))
        * ((1.0 - p.cot_weight) + p.cot_weight * np.asarray(cot_share))
    )


@detectors.register("content")
class ContentDetector(Detector):
    """Pooled content classifier: linked clusters as pools, other accounts alone."""

    Params = ContentParams

    def _op_signal(self, ctx: ScanContext) -> np.ndarray:
        return content_signal(1.0 - ctx.mixing, ctx.obfuscation, ctx.cot_share, self.params)

    def attacker_signal(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        op = ctx.fleet.accounts.op[ctx.harvest.idx]
        return self._op_signal(ctx)[op]

    def attacker_test_factor(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        return np.minimum(1.0, volume / self.params.window_queries)

    def planned_attacker_signal(self, op) -> float:
        return float(
            content_signal(
                1.0 - op.cfg.traffic_mixing, op.obfuscation, op.cfg.cot_share, self.params
            )
        )

    def legit_signal(self, legit, median_period: float) -> np.ndarray:
        return legit.content_lookalike

    def legit_test_factor(self, legit, period_hours: float) -> np.ndarray:
        return np.minimum(1.0, legit.rate * period_hours / 24.0 / self.params.window_queries)

    def scan(self, ctx: ScanContext) -> Flags:
        out = Flags(self.name, self.index)
        if not self.due(ctx.t1):
            return out
        fleet, h, rng = ctx.fleet, ctx.harvest, ctx.rng
        volume = self.period_volume(ctx)
        cl = fleet.accounts.cluster[h.idx]
        linked = fleet.clusters.linked[cl]
        self._scan_accounts(ctx, volume, ~linked, out)
        # Pools: clusters the defender has linked, with their traffic since the last scan.
        pools, inv = np.unique(cl[linked], return_inverse=True)
        if pools.size:
            vol = np.bincount(inv, weights=volume[linked], minlength=pools.size)
            op = fleet.clusters.op[pools]
            test = rng.random(pools.size) < self.coverage * np.minimum(
                1.0, vol / self.params.window_queries
            )
            pools, op = pools[test], op[test]
            out.tested += pools.size
            if pools.size:
                mu = self.dprime * self._op_signal(ctx)[op]
                s = scores(mu, fleet.clusters.u[pools, self.index], self.rho, rng)
                for c, sc in zip(pools[s > self.tau], s[s > self.tau], strict=True):
                    members = h.idx[(cl == c) & ctx.eligible]
                    if members.size:
                        out.pools.append((int(c), members, float(sc)))
        self._scan_legit(ctx, out)
        self._done(ctx)
        return out
