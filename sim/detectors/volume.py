"""Per-account volume/anomaly detector: rises with log(window volume / legitimate median)."""

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
    with np.errstate(divide="ignore"):
        r = np.log(np.maximum(volume, 1e-300) / median) / np.log(saturation_multiple)
    return np.clip(r, 0.0, 1.0)


@detectors.register("volume")
class VolumeDetector(Detector):
    """Flags accounts whose traffic is heavy for a customer: fast accounts, and power users."""

    Params = VolumeParams

    def attacker_signal(self, ctx: ScanContext) -> np.ndarray:
        return volume_signal(
            ctx.harvest.expected, ctx.legit_median_window, self.params.saturation_multiple
        )

    def legit_signal(self, legit, median_window: float) -> np.ndarray:
        window = median_window / legit.median_rate
        return volume_signal(legit.rate * window, median_window, self.params.saturation_multiple)
