"""Watermarking of outputs (Sander et al., NeurIPS 2024: "Watermarking makes LMs radioactive").

Does not hurt the student. Training on watermarked text is detectable at p < 1e-5 even when only
5% of the fine-tuning data is watermarked, so once an operator has harvested enough, the watermark
adds ``detection_power`` to the probability of attributing its campaign after the fact (the student
must be released first, so it does not end the campaign in-run). Costs a little compute on all
served traffic [E].
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.ledger import DEFENDER
from sim.parameters import P, share
from sim.policies.base import Policy, PolicyParams
from sim.registry import policies


@dataclass
class WatermarkingParams(PolicyParams):
    detection_power: float = share(0.9)
    min_harvested_exchanges: float = P(1.0e4, ge=0.0)
    usd_per_exchange: float = P(1e-6, ge=0.0)


@policies.register("watermarking")
class Watermarking(Policy):
    """Raises P(attribution) after the fact; no effect on harvest quality."""

    Params = WatermarkingParams

    def attribution_evidence(self, harvested_watermarked: float) -> float:
        if not self.params.enabled:
            return 0.0
        ok = harvested_watermarked >= self.params.min_harvested_exchanges
        return self.params.detection_power if ok else 0.0

    def end_of_window(self, t0: float, t1: float, ctx) -> None:
        if self.active(t0):
            traffic = float(ctx.traffic)
            self.model.ledger.book(
                t0, DEFENDER, "compute", "watermarking", traffic * self.params.usd_per_exchange
            )
