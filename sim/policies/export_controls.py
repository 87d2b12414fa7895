"""Export controls: they change the attacker's outside option, and so the value of distillation.

An operator's ``value_usd`` is what the capability is worth to it, i.e. the cost it avoids of
training a comparable model itself (MODEL §8). Export controls on accelerators raise the price of
the compute in that outside option by ``compute_price_multiplier`` [E]; compute (hardware and
energy) is ``compute_share`` of the cost of a frontier training run (47–67% hardware plus 2–6%
energy: Cottier et al., Epoch AI [S]; 0.6 here), so the outside option, and with it the value of
distillation, becomes

    value × (1 + compute_share × (multiplier − 1)).

Distillation itself needs little compute (fine-tuning a student on 28.8M exchanges ≈ $90k,
CALIBRATION §4), which the model leaves out of the attacker's costs: the controls make
distillation relatively more attractive, the opposite of their purpose, unless they also cut
access (a policy the model does not have). In force from ``effective_hour``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class ExportControlsParams(PolicyParams):
    #: How much dearer the attacker's compute is under the controls [E].
    compute_price_multiplier: float = P(1.5, ge=1.0, le=10.0)
    #: Share of the outside option's cost that is compute [S: Cottier et al., 47–67% + 2–6%].
    compute_share: float = share(0.6)


@policies.register("export_controls")
class ExportControls(Policy):
    """Dearer compute for the attacker's own training: a higher value of distillation."""

    Params = ExportControlsParams

    def value_factor(self, t: float) -> float:
        """Multiplier on the operators' value of capability at ``t``."""
        if not self.active(t):
            return 1.0
        p = self.params
        return 1.0 + p.compute_share * (p.compute_price_multiplier - 1.0)
