"""``verified``: phone- and payment-verified accounts (SIM farms, prepaid or stolen cards); they
pass verification mandates up to ``payment`` at a higher base price (Thomas et al. 2014: SIM
farms arbitrage phone verification) [E]."""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P
from sim.registry import suppliers
from sim.suppliers.base import VERIFICATION, Supplier, SupplierParams


@dataclass
class VerifiedParams(SupplierParams):
    base_price_usd: float = P(25.0, ge=0.0)
    verification: str = P("payment", choices=VERIFICATION)


@suppliers.register("verified")
class VerifiedSupplier(Supplier):
    """Phone and payment verified accounts: dearer, pass most identity checks."""

    Params = VerifiedParams
