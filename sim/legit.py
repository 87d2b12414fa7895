"""Legitimate users: a vectorised population of accounts in tiers (MODEL §3).

Per-account state is a handful of numpy arrays; nothing is a Python object. Each simulated account
stands for ``weight`` real ones when the population is thinned (``world.legit_sample_share`` < 1,
used by fast tests): counts and dollars are scaled by the weight, so they stay unbiased.

Losses are measured here at revenue — the service a customer loses, valued at what it pays for it
(:class:`LegitLoss`): that is what the users themselves lose (a lower bound on what the service is
worth to them). The defender loses the gross margin on it, plus the support cost (MODEL §7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from sim.parameters import LegitConfig, TierConfig, WorldConfig
from sim.rng import standard_normal_f32

DAYS_PER_MONTH = 30.44


def annuity_months(tier: TierConfig) -> float:
    """Discounted months of revenue of a new customer: Σ over its lifetime of (1 + r)^−t."""
    r, n = tier.monthly_discount_rate, tier.lifetime_months
    return n if r == 0 else (1.0 - (1.0 + r) ** (-n)) / r


def remaining_annuity_months(tier: TierConfig) -> float:
    """Expected discounted months of revenue left to a customer taken at a uniformly random point
    of its fixed n-month life (the steady state of a tier with constant sign-ups):
    (1/n)∫₀ⁿ a(x) dx with a(x) = (1 − (1+r)^−x)/r, i.e. (n + ((1+r)^−n − 1)/ln(1+r)) / (r·n);
    n/2 when r = 0."""
    r, n = tier.monthly_discount_rate, tier.lifetime_months
    if n <= 0:
        return 0.0
    if r == 0:
        return n / 2.0
    ln = math.log1p(r)
    return (n + math.expm1(-n * ln) / ln) / (r * n)


def lifetime_value(tier: TierConfig, monthly_revenue: float) -> float:
    """Discounted lifetime revenue of a new customer of ``tier``."""
    return monthly_revenue * annuity_months(tier)


@dataclass
class LegitLoss:
    """What wrongly acting on legitimate accounts loses (weighted dollars)."""

    #: Revenue-equivalent service the customers lose (the users' loss; the defender's is the
    #: gross margin on it).
    revenue_usd: float = 0.0
    #: Support cost the defender pays.
    support_usd: float = 0.0

    def to_defender(self, margin: float) -> float:
        """The defender's loss: lost margin plus support."""
        return margin * self.revenue_usd + self.support_usd


#: The attributes :meth:`LegitPopulation._draw_accounts` fixes for the whole run.
_FIXED = (
    "tier",
    "weight",
    "thinned",
    "rate",
    "revenue_per_exchange",
    "content_lookalike",
    "linkage_lookalike",
    "_live_rate",
)
#: (key, attributes, stream state after drawing them) of the last population drawn.
_LAST: tuple | None = None


class LegitPopulation:
    """Legitimate accounts: usage rates, tiers, weights, false-ban costs and review state."""

    def __init__(self, cfg: LegitConfig, world: WorldConfig, rng: np.random.Generator) -> None:
        self.horizon = float(world.days * 24)
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
        self._draw_accounts(cfg, sizes, weights, rng)
        # Revenue left in a customer's life per unit of usage rate (exchanges/day), per tier.
        self._remaining_per_rate = np.array(
            [
                DAYS_PER_MONTH * t.revenue_per_exchange_usd * remaining_annuity_months(t)
                for t in self.tiers
            ]
        )
        self._churn = np.array([t.churn_on_false_ban for t in self.tiers])
        self._support = np.array([t.support_cost_usd for t in self.tiers])
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
        self.median_rate = self._mixture_median()

    def _draw_accounts(self, cfg: LegitConfig, sizes: list[int], weights: list[float], rng) -> None:
        """The accounts' fixed attributes. A sampled world is simulated twice in a row with the
        same legitimate population and stream (with and without detection), so the last
        population drawn is kept and reused, with the stream set to where the draws left it:
        the same arrays and the same stream afterwards, without a million draws again."""
        global _LAST
        key = (repr(cfg), tuple(sizes), tuple(weights), repr(rng.bit_generator.state))
        if _LAST is not None and _LAST[0] == key:
            arrays, state = _LAST[1], _LAST[2]
            rng.bit_generator.state = state
            for name, value in arrays.items():
                setattr(self, name, value)
            return

        def per_tier(values) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=float), sizes)

        self.tier = np.repeat(np.arange(len(self.tiers), dtype=np.int16), sizes)
        self.weight = per_tier(weights)
        #: Whether some simulated account stands for more than one real one.
        self.thinned = bool(np.any(self.weight > 1.0))
        #: Mean exchanges per day of each account (lognormal across accounts).
        z = standard_normal_f32(rng, self.n)
        med = per_tier([t.median_exchanges_per_day for t in self.tiers])
        self.rate = med * np.exp(per_tier([t.sigma for t in self.tiers]) * z)
        self.revenue_per_exchange = per_tier([t.revenue_per_exchange_usd for t in self.tiers])
        self.content_lookalike = per_tier([t.content_lookalike for t in self.tiers])
        self.linkage_lookalike = per_tier([t.linkage_lookalike for t in self.tiers])
        self._live_rate = float((self.weight * self.rate).sum())
        arrays = {name: getattr(self, name) for name in _FIXED}
        for v in arrays.values():
            if isinstance(v, np.ndarray):
                v.flags.writeable = False  # shared between worlds: never written
        _LAST = (key, arrays, rng.bit_generator.state)

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

    def ban(self, idx: np.ndarray, t: float) -> LegitLoss:
        """Wrongly ban ``idx`` at hour ``t``: a share ``churn_on_false_ban`` of them leave for
        good (their remaining discounted revenue is lost); the others lose the service until the
        horizon (the ban stands that long); each costs support."""
        idx = idx[~self.banned[idx]]
        self.banned[idx] = True
        self.banned_at[idx] = t
        w, rate, k = self.weight[idx], self.rate[idx], self.tier[idx]
        self._live_rate -= float((w * rate).sum())
        return self._loss(idx, t, self._churn[k], 1.0)

    def _loss(self, idx: np.ndarray, t: float, p_churn: np.ndarray, lost_share: float) -> LegitLoss:
        """Customers who churn lose their remaining revenue; those who stay, ``lost_share`` of
        their service until the horizon (one time basis for every wrong action)."""
        w, rate, k = self.weight[idx], self.rate[idx], self.tier[idx]
        days_left = max(self.horizon - t, 0.0) / 24.0
        stay = lost_share * rate * days_left * self.revenue_per_exchange[idx]
        leave = self._remaining_per_rate[k] * rate
        revenue = float((w * (p_churn * leave + (1.0 - p_churn) * stay)).sum())
        return LegitLoss(revenue, float((w * self._support[k]).sum()))

    def act(
        self,
        idx: np.ndarray,
        t: float,
        action: str,
        throttle_factor: float,
        churn_share: float,
        degrade_quality: float = 1.0,
    ) -> LegitLoss:
        """Wrongly ban, throttle or degrade ``idx`` at hour ``t``.

        A throttled or degraded customer churns with ``churn_share`` of the probability a banned
        one does (losing its remaining revenue); one who stays loses, until the horizon, the
        refused share of its requests (throttled) or the lost share of its outputs' quality
        (degraded), at revenue, as a banned one who stays loses all of it. Each costs support.
        """
        if action == "ban":
            return self.ban(idx, t)
        idx = idx[~self.banned[idx] & ~self.acted[idx]]
        self.acted[idx] = True
        w, rate, k = self.weight[idx], self.rate[idx], self.tier[idx]
        if action == "throttle":
            self._live_rate -= (1.0 - throttle_factor) * float((w * rate).sum())
            self.served_share[idx] = throttle_factor
            lost_share = 1.0 - throttle_factor
        else:
            lost_share = 1.0 - degrade_quality
        return self._loss(idx, t, churn_share * self._churn[k], lost_share)

    def mean_false_ban_cost(self, margin: float) -> float:
        """The defender's mean loss from wrongly banning one legitimate account (weighted), for a
        ban half-way through the horizon."""
        if self.n == 0:
            return 0.0
        k = self.tier
        days = self.horizon / 48.0
        per_rate = self._churn[k] * self._remaining_per_rate[k] + (1.0 - self._churn[k]) * (
            days * self.revenue_per_exchange
        )
        per = margin * per_rate * self.rate + self._support[k]
        return float((self.weight * per).sum() / self.weight.sum())

    def hourly_traffic(
        self, hours: np.ndarray, world: WorldConfig, rng: np.random.Generator
    ) -> np.ndarray:
        """Legitimate exchanges in each hour: one Poisson draw per hour of the summed live rates."""
        phase = 2.0 * math.pi * (hours % 24 - world.diurnal_peak_hour) / 24.0
        profile = 1.0 + world.diurnal_amplitude * np.cos(phase)
        return rng.poisson(self._live_rate / 24.0 * profile).astype(float)

    def expected_traffic(self, lo: float, hi: float, world: WorldConfig) -> float:
        """Expected legitimate exchanges in ``[lo, hi)`` at today's live rates (the diurnal
        profile integrated): what a scan inside a window plans its coverage on."""
        w = 2.0 * math.pi / 24.0
        p = world.diurnal_peak_hour
        wave = (math.sin(w * (hi - p)) - math.sin(w * (lo - p))) / w
        return self._live_rate / 24.0 * ((hi - lo) + world.diurnal_amplitude * wave)

    def tier_table(self, margin: float) -> dict[str, dict[str, float]]:
        """Per-tier figures implied by the config, mutually consistent by construction; false-ban
        costs for a mean-usage account banned half-way through the horizon."""
        out = {}
        for t_name, t in zip(self.tier_names, self.tiers, strict=True):
            mean_day = t.median_exchanges_per_day * math.exp(t.sigma**2 / 2)
            monthly = mean_day * DAYS_PER_MONTH * t.revenue_per_exchange_usd
            churn = t.churn_on_false_ban
            stay_days = self.horizon / 48.0
            lost = churn * monthly * remaining_annuity_months(t) + (1.0 - churn) * (
                mean_day * stay_days * t.revenue_per_exchange_usd
            )
            out[t_name] = {
                "accounts": t.accounts,
                "mean_exchanges_per_day": mean_day,
                "revenue_per_exchange_usd": t.revenue_per_exchange_usd,
                "mean_revenue_per_month_usd": monthly,
                "remaining_lifetime_months_discounted": remaining_annuity_months(t),
                "mean_false_ban_cost_usd": margin * lost + t.support_cost_usd,
                "mean_false_ban_user_loss_usd": lost,
            }
        return out
