"""Attribution of a campaign to its operator: one formula for the evidence (MODEL §8).

Evidence is counted in *confirmation decisions* (a review that confirms an account or a pooled
cluster, an auto-ban of one scored unit), not in accounts: one pooled review that confirms fifty
accounts is one piece of evidence. From ``n`` decisions, partners' shared intelligence (once there
is a decision to corroborate) and watermark evidence (it arrives after the fact, when the student
is released):

    P = 1 − exp(−n / confirmed_scale) ⊕ intel ⊕ watermark,   a ⊕ b = 1 − (1 − a)(1 − b).

The defender draws against it in the run (an in-run attribution triggers blacklisting); the
outputs report P from the evidence held at the horizon, watermark included; the expected penalty
is P × P(enforcement) × penalty. An adaptive operator believes the same formula applies to the
confirmations it expects.
"""

from __future__ import annotations

import math


def attribution_probability(
    decisions: float, confirmed_scale: float, intel: float = 0.0, watermark: float = 0.0
) -> float:
    """P(attribution) from ``decisions`` confirmations, intelligence and watermark evidence."""
    p_conf = 1.0 - math.exp(-max(decisions, 0.0) / confirmed_scale)
    p_intel = intel if decisions > 0 else 0.0
    return 1.0 - (1.0 - p_conf) * (1.0 - p_intel) * (1.0 - watermark)
