"""Account suppliers: the tiers of the account market, one class per kind (MODEL §2).

To add one: subclass :class:`~sim.suppliers.base.Supplier`, declare ``Params``, register it and
add ``configs/suppliers/<name>.yaml``; with ``market.enabled`` every operator buys from the
suppliers configured under ``suppliers``.
"""

from sim.suppliers.aged import AgedSupplier
from sim.suppliers.base import VERIFICATION, Delivery, Supplier, SupplierParams
from sim.suppliers.farmed import FarmedSupplier
from sim.suppliers.verified import VerifiedSupplier

__all__ = [
    "VERIFICATION",
    "AgedSupplier",
    "Delivery",
    "FarmedSupplier",
    "Supplier",
    "SupplierParams",
    "VerifiedSupplier",
]
