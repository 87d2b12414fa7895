"""The account market: the suppliers every operator buys from, and how an order is split (MODEL §2).

With ``market.enabled`` the suppliers under ``suppliers`` form one market shared by all operators:
their prices rise with the rate of purchase and with the share of their identities burned by bans
(:mod:`sim.suppliers.base`). Without it each operator buys from a private supplier with its own
``account_base_price_usd``, no capacity limit, no premium and the set-up latency of ``latency`` —
the model before the market existed, reproduced exactly.

An order is split over the suppliers by water-filling: chunks go one at a time to the supplier
whose weighted marginal price (:meth:`Operator.supplier_weight`: 1 for a price-taker, the
adaptive operator's believed cost per useful account-day otherwise) is lowest.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.fleet import END_BANNED, END_SCREENED
from sim.registry import suppliers as registry
from sim.suppliers.base import Delivery, Supplier, SupplierParams

if TYPE_CHECKING:
    from sim.attackers.base import Operator
    from sim.model import DistillationModel

#: An order is split in at most this many chunks (exact for a single supplier).
CHUNKS = 32


class AccountMarket:
    """The suppliers of a run and the operators' purchases from them."""

    def __init__(self, model: DistillationModel) -> None:
        self.model = model
        cfg = model.cfg
        self.enabled = bool(cfg.market.enabled)
        self.suppliers: list[Supplier] = []
        if self.enabled:
            for i, (name, params) in enumerate(cfg.suppliers.items()):
                self.suppliers.append(registry.get(params.kind)(model, name, i, params))
        self._own: dict[int, Supplier] = {}
        self._burn_n = -1

    def own_supplier(self, op: Operator) -> Supplier:
        """The private supplier of ``op`` when the market is off (the pre-market model)."""
        s = self._own.get(op.index)
        if s is None:
            lat = self.model.cfg.latency
            params = SupplierParams(
                kind="own",
                label=f"{op.name}'s own accounts",
                base_price_usd=op.cfg.account_base_price_usd,
                capacity_per_day=math.inf,
                stock=math.inf,
                rate_premium=0.0,
                pool=math.inf,
                burn_elasticity=0.0,
                setup_hours_median=lat.setup_hours_median,
                setup_hours_sigma=lat.setup_hours_sigma,
            )
            s = self._own[op.index] = Supplier(self.model, params.kind, -1, params)
        return s

    def offers(self, op: Operator) -> list[Supplier]:
        return self.suppliers if self.enabled else [self.own_supplier(op)]

    def checked(self, op: Operator, supplier: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Which accounts bought at ``times`` from ``supplier`` met an identity check."""
        offers = self.offers(op)
        out = np.zeros(times.size, dtype=bool)
        for j in np.unique(supplier).tolist():
            rows = supplier == j
            out[rows] = offers[max(j, 0)]._checked(times[rows])
        return out

    def refresh(self, t: float) -> None:
        """Count each supplier's identities burned by bans that took effect before ``t``."""
        if not self.enabled:
            return
        fl = self.model.fleet
        acc = fl.accounts
        n = fl.n
        kind = acc.end_kind[:n]
        lost = (kind == END_BANNED) | (kind == END_SCREENED)
        banned = lost & (acc.ended_at[:n] <= t) & (acc.supplier[:n] >= 0)
        counts = np.bincount(acc.supplier[:n][banned], minlength=len(self.suppliers))
        for s, c in zip(self.suppliers, counts.tolist(), strict=True):
            s.burned = int(c)

    def buy(
        self, op: Operator, times: np.ndarray, budget: float
    ) -> tuple[np.ndarray, np.ndarray, Delivery]:
        """Buy one account per (sorted) time for ``op`` within ``budget``. Returns which of the
        times were bought, the supplier index of each (−1: the operator's own) and what was
        delivered, in time order."""
        t0 = float(times[0])
        self.refresh(t0)
        offers = self.offers(op)
        n = times.size
        single = len(offers) == 1
        pick = np.zeros(n, dtype=np.int64) if single else self._split(op, offers, t0, n)
        parts: list[tuple[np.ndarray, np.ndarray, Delivery]] = []
        left = budget
        # Suppliers in the order the water-filling first reached them (cheapest first).
        order = list(dict.fromkeys(pick.tolist()))
        for j in order:
            rows = np.flatnonzero(pick == j)
            d = offers[j].sell(times[rows], left, op.stream, self.model.latency.rng)
            left -= float(d.price.sum())
            k = d.price.size
            parts.append((rows[:k], np.full(k, offers[j].index, dtype=np.int64), d))
        rows = np.concatenate([p[0] for p in parts])
        o = np.argsort(rows, kind="stable")
        cat = lambda f: np.concatenate([getattr(p[2], f) for p in parts])[o]  # noqa: E731
        delivery = Delivery(cat("price"), cat("attempts"), cat("active_at"), cat("wait"))
        return rows[o], np.concatenate([p[1] for p in parts])[o], delivery

    def _split(self, op: Operator, offers: list[Supplier], t: float, n: int) -> np.ndarray:
        """Water-filling: each chunk to the lowest weighted marginal usable price (linear in the
        accounts already taken this batch: a + b·j per supplier)."""
        chunk = max(1, math.ceil(n / CHUNKS))
        # Python floats: the same IEEE operations as on float64 arrays, without numpy's
        # per-call overhead on a handful of suppliers (argmin: the first minimum, or NaN).
        weight = [float(op.supplier_weight(s, t)) for s in offers]
        a = [float(s.usable_price(t, 0.0)) for s in offers]
        b = [float(s.usable_price(t, 1.0)) - x for s, x in zip(offers, a, strict=True)]
        taken = [0.0] * len(offers)
        pick = np.empty(n, dtype=np.int64)
        i = 0
        while i < n:
            size = min(chunk, n - i)
            half = size / 2
            cost = zip(a, b, taken, weight, strict=True)
            j = _argmin([(x + y * (z + half)) * w for x, y, z, w in cost])
            pick[i : i + size] = j
            taken[j] += size
            i += size
        return pick

    def summary(self) -> dict:
        return {s.name: s.summary() for s in self.suppliers}


def _argmin(v: list[float]) -> int:
    """``np.argmin`` of a list of floats: the first minimum, or the first NaN if any."""
    j = 0
    best = v[0]
    if best != best:
        return 0
    for k in range(1, len(v)):
        x = v[k]
        if x != x:
            return k
        if x < best:
            best, j = x, k
    return j
