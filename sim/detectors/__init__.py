"""Detectors: one class per kind, each registered under its kind name.

To add one: subclass :class:`~sim.detectors.base.Detector`, declare ``Params``, implement its
signal ``g`` for attacker and legitimate accounts, register it, and add
``configs/detectors/<name>.yaml`` plus its share of the budget in ``detection.shares``.
"""

from sim.detectors.base import Detector, DetectorParams, Flags, ScanContext
from sim.detectors.content import ContentDetector
from sim.detectors.linkage import LinkageDetector
from sim.detectors.volume import VolumeDetector

__all__ = [
    "ContentDetector",
    "Detector",
    "DetectorParams",
    "Flags",
    "LinkageDetector",
    "ScanContext",
    "VolumeDetector",
]
