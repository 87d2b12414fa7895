"""The open-weight frontier closing on the teacher (MODEL §8): what its lead is worth over time.

Open-weight models trail the frontier by a roughly constant ~3-4 months (Epoch AI, CALIBRATION
§8): the open frontier moves at the closed frontier's pace, so a teacher with no new release loses
one month of lead a month, ``teacher.open_catch_up_months_per_month = 1`` (0, the default, keeps
the lead fixed as in every shipped scenario). A release puts the teacher back at the frontier, its
lead ``teacher.lead_months`` again.

Capability extracted is a share of the teacher's lead over the open frontier (the students start
from it: the attackers are open-weight labs). What a student is worth when it is delivered, at the
end of its campaign, is that share of the lead *then*, by vintage: capability gained while teacher
version v was the latest counts v's lead left at delivery, L_v(t) / lead_months
(:meth:`OpenFrontier.weighted`). So late capability is worth less, and a campaign that runs
longer trades more capability for a smaller lead (the adaptive operator weighs both, releases
ahead included). A release lowers what was already learned only through the teacher's
``staleness_factor`` (MODEL §6): every earlier vintage shrinks in that ratio and keeps its own
version's lead. [E]: the proportional rule assumes the distilled gains carry over to the student's
newer base; the alternative (the open frontier catching up with the student itself) would make
value fall faster.
"""

from __future__ import annotations

import numpy as np

from sim.parameters import TeacherConfig

#: Mean hours in a month (365.25 × 24 / 12).
HOURS_PER_MONTH = 730.5


class OpenFrontier:
    """The teacher's lead over the best open-weight model, hour by hour."""

    def __init__(self, teacher: TeacherConfig) -> None:
        self.rate = float(teacher.open_catch_up_months_per_month)
        self.lead_months = float(teacher.lead_months or 0.0)
        self.releases = np.array(sorted(teacher.releases_hours), dtype=float)

    @property
    def moves(self) -> bool:
        """Whether the lead shrinks at all (catch-up configured)."""
        return self.rate > 0

    def latest_release(self, t: float) -> float:
        """Hour of the latest release at or before ``t`` (0: the version in service at first)."""
        k = int(np.searchsorted(self.releases, t, side="right"))
        return float(self.releases[k - 1]) if k > 0 else 0.0

    def lead_share(self, t: float) -> float:
        """Share of ``lead_months`` the latest teacher still holds at hour ``t`` (1: the full
        lead)."""
        return float(self.era_share(self.latest_release(t), t)) if self.moves else 1.0

    def era_share(self, released: float, t: float | np.ndarray) -> float | np.ndarray:
        """Share of ``lead_months`` the teacher version released at hour ``released`` (0: the
        one in service at the start) still holds over the open frontier at ``t``."""
        t_arr = np.asarray(t, dtype=float)
        if self.lead_months <= 0:
            out = np.zeros_like(t_arr)
        else:
            gone = self.rate * (t_arr - released) / (HOURS_PER_MONTH * self.lead_months)
            out = np.clip(1.0 - gone, 0.0, 1.0)
        return out if np.ndim(t) else float(out)

    def weighted(
        self, marks: list[tuple[float, float, float]], g: float | np.ndarray, t: float | np.ndarray
    ) -> float | np.ndarray:
        """Capability ``g`` weighted by the lead left at ``t`` of the teacher version each part
        of it was learned from (by vintage): what a student holding ``g`` at ``t`` is worth in
        shares of the full lead (at most ``g``). ``marks`` lists each release crossed so far as
        (hour, capability just before it, just after the stock's devaluation): at a release
        every earlier vintage shrinks in the ratio the devaluation (``staleness_factor``) shrank
        the capability, so the parts always add up to the capability held."""
        if not self.moves:
            return g
        parts: list[float] = []
        eras: list[float] = []
        start_g, start_h = 0.0, 0.0
        for hour, before, after in marks:
            parts.append(before - start_g)
            eras.append(start_h)
            scale = after / before if before > 0 else 0.0
            parts = [x * scale for x in parts]
            start_g, start_h = after, hour
        total = sum(x * self.era_share(h, t) for x, h in zip(parts, eras, strict=True))
        return total + (np.asarray(g) - start_g) * self.era_share(start_h, t)

    def lead_months_at(self, t: float) -> float:
        """The teacher's lead in months at hour ``t``."""
        return self.lead_months * float(self.lead_share(t))
