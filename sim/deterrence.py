"""Deterrence (MODEL §8): what an actor's earlier campaigns leave for its later ones.

Operators that name the same ``actor`` are one organisation's campaigns. When a later campaign
starts (at the start of the window its ``start_hour`` falls in, before its go/no-go), it and the
defender remember the earlier campaigns of that actor:

- **evidence**: if an earlier campaign was attributed by then, ``deterrence.evidence_carryover``
  of the evidence behind that attribution (its confirmation decisions) counts towards
  attributing the later one — the defender knows the actor's tradecraft and infrastructure
  (Anthropic attributed the 2026 campaigns through IP correlation, request metadata and
  infrastructure indicators, CALIBRATION §1). The share is an estimate [E]. An attribution is
  public (the disclosures were), so the later campaign knows it and fears it;
- **beliefs**: the later campaign starts from what the earlier ones learned about ban hazards
  (``belief_carryover``), not from the prior;
- **sanctions**: a blacklist names the entity, not the campaign, so an actor blacklisted before
  its later campaign starts runs it through front companies only (the sanctions'
  ``front_company_share`` of its demand; none: it cannot run it), ``blacklist_carryover``.

A campaign with no earlier campaign of its actor plans at set-up as before; nothing here draws a
random number, so a world without shared actors is unchanged draw for draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import DistillationModel


class CampaignMemory:
    """Which campaigns remember which, and what they carry at the start of each later one."""

    def __init__(self, model: DistillationModel) -> None:
        self.model = model
        self.cfg = model.cfg.deterrence
        ops = model.operator_list
        actor = [op.cfg.actor or op.name for op in ops]
        #: Campaign k -> the earlier campaigns of its actor (those that start before it).
        self.earlier: dict[int, list[int]] = {}
        for k, op in enumerate(ops):
            prior = [
                i
                for i, o in enumerate(ops)
                if i != k and actor[i] == actor[k] and o.start < op.start
            ]
            if prior:
                self.earlier[k] = prior

    def remembers(self, k: int) -> bool:
        """Whether campaign ``k`` has earlier campaigns to remember (it then plans at its start)."""
        return k in self.earlier

    def starting(self, t0: float, t1: float) -> list[int]:
        """Remembering campaigns whose start falls in the window ``[t0, t1)``."""
        ops = self.model.operator_list
        return [k for k in self.earlier if t0 <= ops[k].start < t1]

    def carry(self, k: int, t: float) -> None:
        """Campaign ``k`` starts at ``t``: carry evidence, beliefs and a blacklist over to it."""
        m = self.model
        d = m.defender
        op = m.operator_list[k]
        prior = self.earlier[k]
        attributed = [i for i in prior if d.attributed_at[i] <= t]
        share = self.cfg.evidence_carryover
        d.inherited_evidence[k] = share * sum(
            float(d.decisions_by_op[i] + d.inherited_evidence[i]) for i in attributed
        )
        op.remember(
            [m.operator_list[i] for i in prior],
            [m.operator_list[i] for i in attributed],
            share,
        )
        if self.cfg.blacklist_carryover and any(d.blacklisted_at[i] <= t for i in prior):
            d.designate_at_start(k, t)
