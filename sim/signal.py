"""Signal detection maths shared by every detector (MODEL §4), and the exact thinning sampler.

Scores are equal-variance Gaussian: ``s = μ + √ρ·u + √(1−ρ)·e`` with ``u`` persistent per account
and ``e`` fresh per window, so given ``u`` an account is flagged in a window with probability
``1 − Φ((τ − μ − √ρ·u) / √(1−ρ))``, independently across windows.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr


def d_prime(spend: float, d0: float, d_inf: float, s_half: float) -> float:
    """Separation bought by a quality spend of ``spend`` $/day: d0 + (d∞ − d0)·(1 − 2^(−Q/S½))."""
    if s_half <= 0:
        return d_inf
    return d0 + (d_inf - d0) * (1.0 - 2.0 ** (-spend / s_half))


def quality_cap(d0: float, d_inf: float, s_half: float, tolerance: float) -> float:
    """Quality spend ($/day) at which d′ comes within ``tolerance`` of d∞: S½·log2((d∞−d0)/tol).

    Zero when d∞ − d0 is already within the tolerance (or d∞ ≤ d0): nothing is worth buying.
    """
    gap = d_inf - d0
    if gap <= tolerance:
        return 0.0
    return s_half * math.log2(gap / tolerance)


def flag_probability(tau: float, persistent_mean: np.ndarray, rho: float) -> np.ndarray:
    """P(flag in one window | persistent mean m = μ + √ρ·u) = 1 − Φ((τ − m)/√(1−ρ))."""
    if rho >= 1.0:
        return (persistent_mean > tau).astype(persistent_mean.dtype)
    scale = np.asarray(1.0 / math.sqrt(1.0 - rho), dtype=persistent_mean.dtype)
    return ndtr((persistent_mean - tau) * scale)


def scores(mu: np.ndarray, u: np.ndarray, rho: float, rng: np.random.Generator) -> np.ndarray:
    """One window's scores for accounts with signal means ``mu`` and persistent terms ``u``."""
    return mu + math.sqrt(rho) * u + math.sqrt(1.0 - rho) * rng.standard_normal(len(mu))


_NEVER = np.int16(-32000)


class ThinningSampler:
    """Draws, per window, the set of accounts flagged with fixed per-account probabilities.

    Accounts are grouped once into cells by log2 of their probability ``q_i``. Per window and cell,
    ``K ~ Binomial(n_cell, c·q_max)`` candidates are taken uniformly from the cell and each kept
    with probability ``q_i / q_max``; a kept account is thus flagged with probability exactly
    ``c·q_i``, independently of the others. Cost per window is O(cells + flags), not O(accounts).
    ``c`` (e.g. the detector's coverage that window) scales every probability.
    """

    def __init__(self, q: np.ndarray, floor: float = 2.0**-100) -> None:
        q = np.asarray(q)
        if q.dtype not in (np.float32, np.float64):
            q = q.astype(float)
        if q.size and (q.min() < 0 or q.max() > 1):
            raise ValueError("probabilities must lie in [0, 1]")
        self.q = q
        # Cell of q: the power of two just above it (q in (2^(e-1), 2^e]); frexp is exact.
        # Accounts with q = 0 go to a sentinel cell that is never drawn.
        mant, exp = np.frexp(np.maximum(q, q.dtype.type(floor)))
        exp -= mant == 0.5
        np.minimum(exp, 0, out=exp)
        exp = exp.astype(np.int16)
        exp[q <= 0] = _NEVER
        order = np.argsort(exp, kind="stable")  # radix sort on int16
        exp = exp[order]
        live = np.searchsorted(exp, _NEVER + 1)  # sentinel cell sorts first
        self.members = order[live:]
        exp = exp[live:]
        starts = np.flatnonzero(np.diff(exp, prepend=np.int16(1))) if exp.size else exp
        self.qmax = 2.0 ** exp[starts].astype(float)
        self.starts = starts
        self.counts = np.diff(np.append(starts, exp.size))

    def expected(self, c: float = 1.0) -> float:
        """Expected number of flags per window at scale ``c``."""
        return float(c * self.q.sum(dtype=np.float64))

    def draw(self, rng: np.random.Generator, c: float = 1.0) -> np.ndarray:
        """Indices of the accounts flagged in one window (sorted).

        All cells at once: K_j candidates are drawn uniformly with replacement within cell j and
        duplicates redrawn until distinct (sequential sampling without replacement by
        rejection, so each K_j-subset is equally likely); cells where K_j exceeds half the cell
        use a direct draw without replacement instead.
        """
        if self.counts.size == 0 or c <= 0:
            return np.empty(0, dtype=np.int64)
        k = rng.binomial(self.counts, np.minimum(1.0, c * self.qmax))
        cells = np.flatnonzero(k)
        if cells.size == 0:
            return np.empty(0, dtype=np.int64)
        dense = 2 * k[cells] > self.counts[cells]
        parts = []
        for j in cells[dense]:
            n, s = int(self.counts[j]), int(self.starts[j])
            parts.append(s + rng.choice(n, size=int(k[j]), replace=False))
        sparse = cells[~dense]
        rep = np.repeat(np.arange(sparse.size), k[sparse])
        st, n = self.starts[sparse][rep], self.counts[sparse][rep]
        pos = st + (rng.random(rep.size) * n).astype(np.int64)
        while pos.size:
            _, first = np.unique(pos, return_index=True)
            if first.size == pos.size:
                break
            again = np.ones(pos.size, dtype=bool)
            again[first] = False
            pos[again] = st[again] + (rng.random(int(again.sum())) * n[again]).astype(np.int64)
        parts.append(pos)
        pos = np.concatenate(parts)
        cell_of = np.searchsorted(self.starts, pos, side="right") - 1
        idx = self.members[pos]
        keep = rng.random(idx.size) * self.qmax[cell_of] < self.q_of(idx)
        return np.sort(idx[keep])

    def q_of(self, idx: np.ndarray) -> np.ndarray:
        """Flag probabilities of accounts ``idx``."""
        return self.q[idx]


class PersistentMeanSampler(ThinningSampler):
    """Thinning sampler over accounts given their persistent means, without a probability each.

    Same draws in distribution as :class:`ThinningSampler` on ``q_i = t_i·(1 − Φ((τ − m_i)/σ))``,
    but cells are built from the persistent mean ``m`` (bins of 0.05 score units) and the test
    factor ``t`` (powers of two), whose upper corners bound every member's ``q``; the exact
    ``q_i`` is computed only for candidates. Set-up is one compiled pass and a counting sort
    (:func:`sim.kernels.mean_cells`) instead of a normal CDF per account (MODEL §11: "split the
    cells by the account's persistent mean ... and thin within them, so the draws stay exact").
    """

    WIDTH = 0.05
    SPAN = 9.0  # cells from τ − 9σ up; below, one catch-all cell bounded at τ − 9σ

    def __init__(self, m: np.ndarray, tau: float, rho: float, t: np.ndarray | None = None):
        self.m = np.asarray(m, dtype=np.float32)
        self.t = None if t is None else np.asarray(t, dtype=np.float32)
        self.tau = float(tau)
        self.sigma = math.sqrt(max(1.0 - rho, 0.0)) or 1e-9
        lo = self.tau - self.SPAN * self.sigma
        # Cell keys (m-bin × 32 + t-bin) and a stable counting sort over them, in one compiled
        # pass: the float32 expressions and the permutation of the stable int16 argsort this
        # replaced, at a fraction of its passes over a million accounts.
        from sim.kernels import mean_cells

        t_arg = np.ones(1, np.float32) if self.t is None else self.t
        order, starts, counts, cell_key = mean_cells(
            self.m, np.float32(lo), np.float32(1.0 / self.WIDTH), t_arg, self.t is not None
        )
        self.members = order
        self.starts = starts
        self.counts = counts
        mbin = cell_key // 32
        # upper edge of the m-bin (bin 0: lo; the clipped top bin is unbounded)
        m_hi = np.where(mbin >= 1000, np.inf, lo + mbin * self.WIDTH)
        tbin = cell_key % 32
        t_hi = np.where(tbin == 31, 0.0, 2.0 ** -tbin.astype(float))
        self.qmax = t_hi * ndtr((m_hi - self.tau) / self.sigma)

    def q_of(self, idx: np.ndarray) -> np.ndarray:
        q = ndtr((self.m[idx].astype(float) - self.tau) / self.sigma)
        return q if self.t is None else q * self.t[idx]

    @property
    def q(self) -> np.ndarray:
        """Every account's per-window flag probability (computed on demand)."""
        return self.q_of(np.arange(self.m.size))

    def expected(self, c: float = 1.0) -> float:
        return float(c * self.q.sum())
