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

import copy

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


def combine_teachers(
    n_eff: np.ndarray, curves: list[CapabilityCurve]
) -> tuple[np.ndarray, CapabilityCurve]:
    """Gap closed per domain by what one student harvested from several teachers (MODEL §12).

    ``n_eff`` holds each teacher's effective exchanges, teachers on the first axis and domains on
    the last; ``curves`` the student's curve against each teacher. Per domain, the exchanges of
    teacher p count ``gmax_p,d / max_p gmax_p,d`` of one from the best teacher (a weaker
    teacher's answers carry less of what is worth learning), are summed, and go through the best
    teacher's curve, so the gain never passes the best teacher's reachable level (spill-over as
    in :meth:`CapabilityCurve.gains`, with the first teacher's spill-over share). Returns the
    gains and the combined curve (its ``overall`` gives the headline). [E]: no study combines
    distillation data from several teachers; this is the simplest rule that reduces to one
    teacher exactly and never rewards a weaker teacher above the best.
    """
    gmax = np.stack([c.gmax for c in curves])  # teachers x domains
    top = gmax.max(axis=0)
    best = gmax.argmax(axis=0)  # ties: the first teacher
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(top > 0, gmax / top, 0.0)
    n_eff = np.asarray(n_eff, dtype=float)
    w = w.reshape((w.shape[0],) + (1,) * (n_eff.ndim - 2) + (w.shape[1],))
    n = (w * n_eff).sum(axis=0)
    cols = np.arange(top.size)
    curve = copy.copy(curves[0])
    curve.gmax = top
    curve.a = np.stack([c.a for c in curves])[best, cols]
    curve.n_half = np.stack([c.n_half for c in curves])[best, cols]
    curve.n0 = np.stack([c.n0 for c in curves])[best, cols]
    return curve.gains(n), curve
