"""Capability extraction: saturating curves of effective exchanges per domain (MODEL §6).

``G_d = Gmax_d · (1 − (1 + N_eff,d / N0_d)^(−a_d))`` with ``N0 = N_half / (2^(1/a) − 1)``, so that
``N_half`` effective exchanges close half of the reachable gap. Untargeted domains gain only by
spill-over: ``G_d += s · (1 − C_d) · Ḡ_other`` where ``C_d`` is the direct curve fraction and
``Ḡ_other`` the mean gain of the other domains weighted by their effective exchanges. The headline
figure uses fixed domain-value weights so it means the same under every attacker policy.
Sources: LIMO/s1 (N_half ~ 1e3 for narrow reasoning), Gudibande et al. (little transfer to
untargeted tasks), Busbridge et al. (saturation, capacity gap); exponents and broad-domain N_half
are estimates [E] (CALIBRATION.md §3).
"""

from __future__ import annotations

import numpy as np

from sim.parameters import CapabilityConfig, OperatorConfig


class CapabilityCurve:
    """Vectorised per-domain curves for one student (domains in a fixed order)."""

    def __init__(self, cfg: CapabilityConfig, gmax_scale: float = 1.0) -> None:
        self.domains = list(cfg.domains)
        d = [cfg.domains[k] for k in self.domains]
        self.gmax = np.minimum(1.0, np.array([x.gmax for x in d]) * gmax_scale)
        self.a = np.array([x.exponent for x in d])
        self.n_half = np.array([x.n_half for x in d])
        self.n0 = self.n_half / (2.0 ** (1.0 / self.a) - 1.0)
        v = np.array([x.value_weight for x in d])
        self.value = v / v.sum() if v.sum() > 0 else np.full(len(d), 1.0 / max(len(d), 1))
        self.spill = cfg.spillover

    def direct(self, n_eff: np.ndarray) -> np.ndarray:
        """Fraction of the reachable gap closed, C = 1 − (1 + N/N0)^(−a), per domain (last axis)."""
        return 1.0 - (1.0 + np.maximum(n_eff, 0.0) / self.n0) ** (-self.a)

    def gains(self, n_eff: np.ndarray) -> np.ndarray:
        """Gap closed per domain, spill-over included; ``n_eff`` has domains on the last axis."""
        n_eff = np.asarray(n_eff, dtype=float)
        c = self.direct(n_eff)
        g = self.gmax * c
        if self.spill > 0 and g.shape[-1] > 1:
            tot = n_eff.sum(axis=-1, keepdims=True)
            wg = (g * n_eff).sum(axis=-1, keepdims=True)
            other_n = tot - n_eff
            with np.errstate(invalid="ignore", divide="ignore"):
                g_other = np.where(other_n > 0, (wg - g * n_eff) / other_n, 0.0)
            g = g + self.spill * (1.0 - c) * g_other
        return np.minimum(g, 1.0)

    def overall(self, gains: np.ndarray) -> np.ndarray:
        """Value-weighted capability over domains (last axis)."""
        return gains @ self.value

    def marginal_per_exchange(self, n_eff: np.ndarray, mix: np.ndarray) -> float:
        """d(overall)/d(one effective exchange spread as ``mix``), direct terms only."""
        dc = self.a / self.n0 * (1.0 + np.maximum(n_eff, 0.0) / self.n0) ** (-self.a - 1.0)
        return float((self.value * self.gmax * dc * mix).sum())


def exchange_quality(op: OperatorConfig, cap: CapabilityConfig, obfuscation: float) -> float:
    """Base harvest quality q of one of ``op``'s exchanges (before poisoning and staleness).

    q = trace richness × (1 − obfuscation penalty) × duplication discount (MODEL §6).
    """
    trace = cap.answer_only_quality + (1.0 - cap.answer_only_quality) * op.cot_share
    obf = 1.0 - cap.obfuscation_quality_penalty * obfuscation
    dup = (1.0 - op.duplication_share) + op.duplication_share * cap.duplicate_quality
    return float(trace * obf * dup)


def target_mix(op: OperatorConfig, domains: list[str]) -> np.ndarray:
    """The operator's targeting weights as a vector over ``domains``, summing to 1.

    Validation accepts weights that sum to 1 within 1e-6; renormalising here keeps a sum of, say,
    1.0000004 from failing numpy's multinomial (which allows 1e-12) in the middle of a run.
    """
    mix = np.array([float(op.targets.get(d, 0.0)) for d in domains])
    return mix / mix.sum()
