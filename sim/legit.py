"""Legitimate users: a vectorised population of accounts in tiers (MODEL §3).

Per-account state is a handful of numpy arrays; nothing is a Python object. Each simulated account
stands for ``weight`` real ones when the population is thinned (``world.legit_sample_share`` < 1,
used by fast tests): counts and dollars are scaled by the weight, so they stay unbiased.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from sim.parameters import LegitConfig, TierConfig, WorldConfig

DAYS_PER_MONTH = 30.44


def false_ban_cost(tier: TierConfig, monthly_revenue: np.ndarray) -> np.ndarray:
    """Cost of wrongly banning an account: churn × discounted remaining revenue + support."""
    r, n = tier.monthly_discount_rate, tier.lifetime_months
    annuity = n if r == 0 else (1.0 - (1.0 + r) ** (-n)) / r
    return tier.churn_on_false_ban * monthly_revenue * annuity + tier.support_cost_usd


def lifetime_value(tier: TierConfig, monthly_revenue: float) -> float:
    """Discounted lifetime revenue of a new customer of ``tier``."""
    r, n = tier.monthly_discount_rate, tier.lifetime_months
    annuity = n if r == 0 else (1.0 - (1.0 + r) ** (-n)) / r
    return monthly_revenue * annuity


class LegitPopulation:
    """Legitimate accounts: usage rates, tiers, weights, false-ban costs and review state."""

    def __init__(self, cfg: LegitConfig, world: WorldConfig, rng: np.random.Generator) -> None:
        self.tier_names = list(cfg.tiers)
        self.tiers = [cfg.tiers[t] for t in self.tier_names]
        share = world.legit_sample_share
        sizes, weights = [], []
        for t in self.tiers:
            n = int(round(t.accounts * share)) if t.accounts else 0
            if t.accounts and n == 0:
                n = 1
            sizes.append(n)
            weights.append(t.accounts / n if n else 0.0)
        self.n = int(sum(sizes))
        self.sizes = sizes
        self.tier = np.repeat(np.arange(len(self.tiers), dtype=np.int16), sizes)

        def per_tier(values) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=float), sizes)

        self.weight = per_tier(weights)
        #: Mean exchanges per day of each account (lognormal across accounts).
        z = rng.standard_normal(self.n, dtype=np.float32)
        med = per_tier([t.median_exchanges_per_day for t in self.tiers])
        self.rate = med * np.exp(per_tier([t.sigma for t in self.tiers]) * z)
        self.revenue_per_exchange = per_tier([t.revenue_per_exchange_usd for t in self.tiers])
        self.content_lookalike = per_tier([t.content_lookalike for t in self.tiers])
        self.linkage_lookalike = per_tier([t.linkage_lookalike for t in self.tiers])
        # A false ban costs a * rate + b per account (linear in usage within a tier).
        one = np.ones(1)
        self._fp_slope = np.array(
            [
                false_ban_cost(t, one * DAYS_PER_MONTH * t.revenue_per_exchange_usd)[0]
                - t.support_cost_usd
                for t in self.tiers
            ]
        )
        self._fp_const = np.array([t.support_cost_usd for t in self.tiers])
        self.banned = np.zeros(self.n, dtype=bool)
        self.banned_at = np.full(self.n, np.inf)
        #: Wrongly throttled or degraded (still a customer, no longer flagged).
        self.acted = np.zeros(self.n, dtype=bool)
        #: Share of each account's requests still answered (below 1 once wrongly throttled).
        self.served_share = np.ones(self.n, dtype=np.float32)
        self.cooldown_until = np.zeros(self.n)
        self.in_review = np.zeros(self.n, dtype=bool)
        self.ever_flagged = np.zeros(self.n, dtype=bool)
        self.accounts_total = int(sum(t.accounts for t in self.tiers))
        self._live_rate = float((self.weight * self.rate).sum())
        self.median_rate = self._mixture_median()

    def _mixture_median(self) -> float:
        """Median per-account daily usage of the full (unthinned) tier mixture, analytically."""
        parts = [
            (t.accounts, t.median_exchanges_per_day, t.sigma) for t in self.tiers if t.accounts
        ]
        if not parts:
            return 1.0
        total = sum(p[0] for p in parts)

        def cdf(x: float) -> float:
            s = 0.0
            for n, m, sg in parts:
                s += n * (float(x >= m) if sg == 0 else ndtr((math.log(x) - math.log(m)) / sg))
            return s / total - 0.5

        lo = min(p[1] for p in parts) * 1e-6
        hi = max(p[1] for p in parts) * 1e6
        return float(brentq(cdf, lo, hi, xtol=1e-9))

    @property
    def live_rate(self) -> float:
        """Summed mean exchanges per day served to legitimate accounts (weighted): banned ones
        get none, throttled ones their answered share."""
        return self._live_rate

    def eligible(self, idx: np.ndarray, t: float) -> np.ndarray:
        """Which of ``idx`` may be flagged at ``t`` (not acted on, in review or cooling off)."""
        return (
            ~self.banned[idx]
            & ~self.acted[idx]
            & ~self.in_review[idx]
            & (self.cooldown_until[idx] <= t)
        )

    def ban(self, idx: np.ndarray, t: float) -> float:
        """Wrongly ban ``idx`` at hour ``t``; returns the false-positive cost in dollars."""
        idx = idx[~self.banned[idx]]
        self.banned[idx] = True
        self.banned_at[idx] = t
        self._live_rate -= float((self.weight[idx] * self.rate[idx]).sum())
        return float((self.weight[idx] * self.fp_cost(idx)).sum())

    def act(
        self, idx: np.ndarray, t: float, action: str, throttle_factor: float, churn_share: float
    ) -> float:
        """Wrongly ban, throttle or degrade ``idx`` at hour ``t``; returns the cost in dollars.

        A throttled or degraded customer stays (its traffic cut to ``throttle_factor`` if
        throttled) and churns with ``churn_share`` of the probability a banned one does; its
        support cost is the same. Revenue lost on the requests a throttled customer who stays no
        longer gets answered is not counted.
        """
        if action == "ban":
            return self.ban(idx, t)
        idx = idx[~self.banned[idx] & ~self.acted[idx]]
        self.acted[idx] = True
        w, rate, k = self.weight[idx], self.rate[idx], self.tier[idx]
        if action == "throttle":
            self._live_rate -= (1.0 - throttle_factor) * float((w * rate).sum())
            self.served_share[idx] = throttle_factor
        return float((w * (churn_share * self._fp_slope[k] * rate + self._fp_const[k])).sum())

    def fp_cost(self, idx: np.ndarray) -> np.ndarray:
        """Cost of wrongly banning accounts ``idx`` (churned discounted revenue + support)."""
        k = self.tier[idx]
        return self._fp_slope[k] * self.rate[idx] + self._fp_const[k]

    def hourly_traffic(
        self, hours: np.ndarray, world: WorldConfig, rng: np.random.Generator
    ) -> np.ndarray:
        """Legitimate exchanges in each hour: one Poisson draw per hour of the summed live rates."""
        phase = 2.0 * math.pi * (hours % 24 - world.diurnal_peak_hour) / 24.0
        profile = 1.0 + world.diurnal_amplitude * np.cos(phase)
        return rng.poisson(self._live_rate / 24.0 * profile).astype(float)

    def tier_table(self) -> dict[str, dict[str, float]]:
        """Per-tier figures implied by the config, mutually consistent by construction."""
        out = {}
        for t_name, t in zip(self.tier_names, self.tiers, strict=True):
            mean_day = t.median_exchanges_per_day * math.exp(t.sigma**2 / 2)
            monthly = mean_day * DAYS_PER_MONTH * t.revenue_per_exchange_usd
            out[t_name] = {
                "accounts": t.accounts,
                "mean_exchanges_per_day": mean_day,
                "revenue_per_exchange_usd": t.revenue_per_exchange_usd,
                "mean_revenue_per_month_usd": monthly,
                "mean_false_ban_cost_usd": float(false_ban_cost(t, np.array([monthly]))[0]),
            }
        return out
