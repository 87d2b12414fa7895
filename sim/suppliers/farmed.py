"""``farmed``: bulk accounts from sign-up farms with no verification beyond an email and an SMS
code; cheap, plentiful, the first blocked by a verification mandate [E]."""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P
from sim.registry import suppliers
from sim.suppliers.base import VERIFICATION, Supplier, SupplierParams


@dataclass
class FarmedParams(SupplierParams):
    base_price_usd: float = P(10.0, ge=0.0)
    verification: str = P("none", choices=VERIFICATION)


@suppliers.register("farmed")
class FarmedSupplier(Supplier):
    """Sign-up farms: cheap accounts, new (age 0), unverified."""

    Params = FarmedParams
