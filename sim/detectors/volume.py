"""Per-account volume/anomaly detector: rises with log(volume / legitimate median) (MODEL §4).

The volume is the account's expected exchanges over the scoring period (its cadence × the hours it
was live), its whole traffic: a reseller account carries its customers' exchanges beside the
operator's, and the detector counts them all. The Poisson noise of a count is part of the fresh
score noise, for attacker and legitimate accounts alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.detectors.base import Detector, DetectorParams, ScanContext
from sim.parameters import P
from sim.registry import detectors


@dataclass
class VolumeParams(DetectorParams):
    #: Window volume, as a multiple of the legitimate median, at which the signal is full [E].
    saturation_multiple: float = P(1000.0, gt=1.0)


def volume_signal(volume: np.ndarray, median: float, saturation_multiple: float) -> np.ndarray:
    """g = clip(ln(v / median) / ln(saturation), 0, 1)."""
    tiny = (
        np.finfo(np.asarray(volume).dtype).tiny if np.asarray(volume).dtype.kind == "f" else 1e-300
    )
    r = np.log(np.maximum(volume, tiny) / median) * (1.0 / np.log(saturation_multiple))
    return np.clip(r, 0.0, 1.0)


@detectors.register("volume")
class VolumeDetector(Detector):
    """Flags accounts whose traffic is heavy for a customer: fast accounts, and power users."""

    Params = VolumeParams

    def attacker_signal(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        median = ctx.legit_median_rate * self.period / 24.0
        return volume_signal(volume, median, self.params.saturation_multiple)

    def planned_attacker_signal(self, op) -> float:
        days = self.period / 24.0
        median = op.model.legit.median_rate * days
        return float(
            volume_signal(np.array([op.cadence * days]), median, self.params.saturation_multiple)[0]
        )

    def legit_signal(self, legit, median_period: float) -> np.ndarray:
        usage = legit.rate.astype(np.float32) * np.float32(self.period / 24.0)
        return volume_signal(usage, np.float32(median_period), self.params.saturation_multiple)
