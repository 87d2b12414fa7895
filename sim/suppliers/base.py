"""An account supplier: a market tier with an upward-sloping supply curve (MODEL §2).

A supplier sells usable accounts to every operator. Its price per account rises with the rate of
purchase (utilisation of its daily capacity over the last 24 h) and with the share of its pool of
verification identities (phone numbers, payment instruments, aged accounts) already burned by bans:

    price = base × (1 + rate_premium × bought_24h / capacity) × (1 − burned / pool)^(−η_burn)

with η_burn = ``burn_elasticity``. It holds an inventory (``stock`` at the start, refilled at
``capacity_per_day`` up to ``stock``); an order beyond the inventory waits for production, so the
lead time grows when the inventory is depleted. Within one order batch the refill is not capped
at ``stock`` (a batch spans at most one window). Verification policies act through it: a
supplier whose accounts do not meet the level a KYC policy requires has a share of its sign-ups
blocked (each usable account takes Geometric(1 − block) attempts at ``kyc.price_multiplier`` ×
its price, and its capacity falls by the same share). After delivery an account needs a
lognormal set-up (its own warm-up), and its age at delivery is ``age_days`` (aged or hijacked
accounts carry a history). Sources: Thomas et al. 2013 and 2014 (account markets; prices respond
to defender policy; phone verification arbitraged by SIM farms), Herley & Florêncio 2010
(two-tier markets); every figure is an estimate [E].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.latency import lognormal
from sim.parameters import P

if TYPE_CHECKING:
    from sim.model import DistillationModel

#: Verification levels, weakest first: a KYC policy requiring a level blocks the tiers below it.
VERIFICATION = ["none", "phone", "payment", "identity"]


@dataclass
class SupplierParams:
    """Parameters of every supplier kind (all [E]: AI-platform account prices are unpublished)."""

    kind: str = ""
    label: str = ""
    #: Price of a usable account at no load and nothing burned.
    base_price_usd: float = P(20.0, ge=0.0)
    #: Accounts produced a day (the refill rate of the inventory).
    capacity_per_day: float = P(2000.0, gt=0.0)
    #: Inventory at the start, and its ceiling.
    stock: float = P(2000.0, ge=0.0)
    #: Price multiplier at full utilisation is 1 + rate_premium.
    rate_premium: float = P(1.0, ge=0.0)
    #: Verification identities the supplier can source at its base cost; bans burn them.
    pool: float = P(1.0e5, gt=0.0)
    burn_elasticity: float = P(1.0, ge=0.0, le=10.0)
    verification: str = P("none", choices=VERIFICATION)
    #: Age of an account at delivery (aged or hijacked accounts carry a history).
    age_days: float = P(0.0, ge=0.0)
    #: Set-up after delivery (warm-up, proxies, payment): lognormal median and log-sigma.
    setup_hours_median: float = P(12.0, ge=0.0)
    setup_hours_sigma: float = P(0.8, ge=0.0, le=3.0)


@dataclass
class Delivery:
    """What one order batch bought from one supplier."""

    price: np.ndarray
    attempts: np.ndarray
    #: Hour each account becomes usable (delivery plus set-up).
    active_at: np.ndarray
    #: Hours each account waited for production (0 when in stock).
    wait: np.ndarray


class Supplier:
    """One tier of the account market (shared by every operator)."""

    Params: ClassVar[type] = SupplierParams
    kind: ClassVar[str] = ""

    def __init__(self, model: DistillationModel, name: str, index: int, params) -> None:
        self.model = model
        self.name = name
        self.index = index
        self.params = params
        self.inventory = float(params.stock)
        self.inventory_at = 0.0
        H = int(model.horizon) + 1
        self.bought_h = np.zeros(H)
        self.bought = 0
        self.paid_usd = 0.0
        self.waited_h = 0.0
        self.burned = 0

    # ------------------------------------------------------------------ the supply curve
    def _checked(self, times: np.ndarray) -> np.ndarray:
        """Per order time: does a KYC policy in force then require more than this tier has?"""
        kyc = self.model.policy("kyc")
        if kyc is None:
            return np.zeros(np.size(times), dtype=bool)
        below = VERIFICATION.index(self.params.verification) < VERIFICATION.index(kyc.required)
        return below & (np.asarray(times, dtype=float) >= kyc.params.effective_hour)

    def _checked_at(self, t: float) -> bool:
        return bool(self._checked(np.array([t]))[0])

    def blocked(self, t: float) -> float:
        """Share of this tier's sign-ups blocked by the KYC policy in force at ``t``."""
        kyc = self.model.policy("kyc")
        return float(kyc.params.block_share) if self._checked_at(t) else 0.0

    def capacity(self, t: float) -> float:
        """Usable accounts produced a day at ``t`` (blocked sign-ups lower the supply)."""
        return self.params.capacity_per_day * (1.0 - self.blocked(t))

    def recent(self, t: float) -> float:
        """Accounts bought in the 24 h before ``t``."""
        h = min(int(t), self.bought_h.size - 1)
        return float(self.bought_h[max(h - 23, 0) : h + 1].sum())

    def burned_share(self) -> float:
        return min(self.burned / self.params.pool, 0.99)

    def price(self, t: float, extra: np.ndarray | float = 0.0) -> np.ndarray | float:
        """Price per attempt of the next account(s) at ``t``, ``extra`` more bought this batch
        (before identity checks)."""
        p = self.params
        util = (self.recent(t) + extra) / max(self.capacity(t), 1e-9)
        burn = (1.0 - self.burned_share()) ** (-p.burn_elasticity)
        return p.base_price_usd * (1.0 + p.rate_premium * util) * burn

    def usable_price(self, t: float, extra: np.ndarray | float = 0.0) -> np.ndarray | float:
        """Expected price of a usable account at ``t``: the KYC multiplier and the blocked
        attempts included."""
        kyc = self.model.policy("kyc")
        if not self._checked_at(t):
            return self.price(t, extra)
        return self.price(t, extra) * kyc.params.price_multiplier / (1.0 - kyc.params.block_share)

    # ------------------------------------------------------------------ selling
    def sell(
        self,
        times: np.ndarray,
        budget: float,
        rng_attempts: np.random.Generator,
        rng_setup: np.random.Generator,
    ) -> Delivery:
        """Sell one usable account per (sorted) order time while ``budget`` lasts."""
        p = self.params
        kyc = self.model.policy("kyc")
        checked = self._checked(times)
        attempts = np.ones(times.size, dtype=np.int64)
        mult = np.ones(times.size)
        if checked.any():
            if kyc.params.block_share > 0:
                attempts[checked] = rng_attempts.geometric(
                    1.0 - kyc.params.block_share, size=int(checked.sum())
                )
            mult[checked] = kyc.params.price_multiplier
        t0 = float(times[0])
        cost = attempts * mult * self.price(t0, np.arange(times.size, dtype=float))
        affordable = np.cumsum(cost) <= budget + 1e-9
        n = int(affordable.sum()) if affordable.all() else int(np.argmin(affordable))
        times, attempts, cost = times[:n], attempts[:n], cost[:n]
        if n == 0:
            return Delivery(cost, attempts, times.copy(), times.copy())
        # Inventory at the batch start: refilled since the last sale, up to the stock. Unit k
        # is available once the inventory plus the production since then reaches k.
        cap_h = self.capacity(t0) / 24.0
        if math.isinf(p.stock):
            delivered = times.copy()
        else:
            if self.inventory <= 0 and self.inventory_at > t0:
                start, inv = self.inventory_at, 0.0  # a backlog: wait for production
            else:
                # (A sale at a later hour in the same window, by another operator, is taken
                # to have come first; the refill since then is not counted.)
                start = t0
                refill = cap_h * max(t0 - self.inventory_at, 0.0)
                inv = min(float(p.stock), self.inventory + refill)
            k = np.arange(1, n + 1, dtype=float)
            ready = start + np.maximum(k - inv, 0.0) / max(cap_h, 1e-12)
            delivered = np.maximum(times, ready)
            last = float(max(delivered[-1], start))
            self.inventory = max(inv + cap_h * (last - start) - n, 0.0)
            self.inventory_at = last
        setup = lognormal(rng_setup, p.setup_hours_median, p.setup_hours_sigma, n)
        wait = delivered - times
        hours = np.minimum(times.astype(np.int64), self.bought_h.size - 1)
        np.add.at(self.bought_h, hours, 1)
        self.bought += n
        self.paid_usd += float(cost.sum())
        self.waited_h += float(wait.sum())
        return Delivery(cost, attempts, delivered + setup, wait)

    def summary(self) -> dict:
        n = self.bought
        return {
            "label": self.params.label or self.name,
            "verification": self.params.verification,
            "accounts_bought": int(n),
            "mean_price_usd": self.paid_usd / n if n else None,
            "mean_wait_hours": self.waited_h / n if n else None,
            "burned_share_end": self.burned_share(),
            "price_end_usd": float(self.usable_price(self.model.horizon)),
        }
