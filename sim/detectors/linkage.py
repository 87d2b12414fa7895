"""Cross-account linkage detector: rises with the size of the cluster sharing infrastructure.

Its flags reveal the flagged account's cluster, which is what lets the pooled content classifier
score the cluster's traffic as one window (MODEL §4: linkage first, content second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.detectors.base import Detector, DetectorParams, ScanContext
from sim.parameters import P
from sim.registry import detectors


@dataclass
class LinkageParams(DetectorParams):
    #: Live cluster size at which the linkage signal is full [E].
    saturation_cluster_size: float = P(1000.0, gt=1.0)


@detectors.register("linkage")
class LinkageDetector(Detector):
    """Scores each account by how linked it is to others (IP, payment, metadata, timing)."""

    Params = LinkageParams
    links_clusters = True

    def attacker_signal(self, ctx: ScanContext, volume: np.ndarray) -> np.ndarray:
        cl = ctx.fleet.accounts.cluster[ctx.harvest.idx]
        return self._signal(np.maximum(ctx.cluster_live[cl], 1))

    def planned_attacker_signal(self, op) -> float:
        return float(self._signal(np.array([max(op.cluster_size, 1)]))[0])

    def _signal(self, k: np.ndarray) -> np.ndarray:
        """Mixing leaves the shared infrastructure as it is: no dilution (MODEL §4)."""
        return np.clip(np.log(k) / np.log(self.params.saturation_cluster_size), 0.0, 1.0)

    def legit_signal(self, legit, median_period: float) -> np.ndarray:
        return legit.linkage_lookalike
