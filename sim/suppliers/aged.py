"""``aged``: aged or hijacked accounts with a real history (Herley & Florêncio's upper tier); they
pass identity checks and look like long-standing customers, but the stock is small and dear [E]."""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P
from sim.registry import suppliers
from sim.suppliers.base import VERIFICATION, Supplier, SupplierParams


@dataclass
class AgedParams(SupplierParams):
    base_price_usd: float = P(80.0, ge=0.0)
    capacity_per_day: float = P(300.0, gt=0.0)
    verification: str = P("identity", choices=VERIFICATION)
    age_days: float = P(365.0, ge=0.0)
    setup_hours_median: float = P(4.0, ge=0.0)


@suppliers.register("aged")
class AgedSupplier(Supplier):
    """Aged or hijacked accounts: a history, a real identity, a small stock."""

    Params = AgedParams
