"""Defender policies costed outside the detection budget: one class per policy.

KYC at sign-up, intelligence sharing, output poisoning, watermarking, sanctions, rate limits and
export controls.
Each declares ``Params``, registers under its name and has ``configs/policies/<name>.yaml``; a
scenario, a ``policy`` option or the ``policies.<name>.enabled`` key switches it on, from
``effective_hour`` on.
"""

from sim.policies.base import Policy, PolicyParams
from sim.policies.export_controls import ExportControls
from sim.policies.intel_sharing import IntelSharing
from sim.policies.kyc import Kyc
from sim.policies.poisoning import OutputPoisoning
from sim.policies.rate_limits import RateLimits
from sim.policies.sanctions import Sanctions
from sim.policies.watermarking import Watermarking

__all__ = [
    "ExportControls",
    "IntelSharing",
    "Kyc",
    "OutputPoisoning",
    "Policy",
    "PolicyParams",
    "RateLimits",
    "Sanctions",
    "Watermarking",
]
