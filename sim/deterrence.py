"""Deterrence (MODEL §8): what an actor's earlier campaigns leave for its later ones.

Operators that name the same ``actor`` are one organisation's campaigns. When a later campaign
starts (at the start of the window its ``start_hour`` falls in, before its go/no-go), it and the
defender remember the earlier campaigns of that actor:

- **evidence**: if an earlier campaign was attributed by then (or is later, while this one
  runs), ``deterrence.evidence_carryover`` of the evidence behind that attribution (its own
  confirmation decisions, not what it inherited) counts towards attributing the later one, once
  the later one goes — the defender knows the actor's tradecraft and infrastructure
  (Anthropic attributed the 2026 campaigns through IP correlation, request metadata and
  infrastructure indicators, CALIBRATION §1). The share is an estimate [E]. An attribution is
  public (the disclosures were), so the later campaign knows it and fears it;
- **beliefs**: the later campaign starts from what the earlier ones learned about ban hazards
  (``belief_carryover``), not from the prior;
- **sanctions**: a blacklist names the entity, not the campaign, so an actor blacklisted before
  or while its later campaign runs runs it through front companies only (the sanctions'
  ``front_company_share`` of its demand; none: it cannot run it, and a campaign that never ran
  is neither attributed nor penalised), ``blacklist_carryover``.

An operator without an ``actor`` is its own and remembers nothing. A campaign with no earlier
campaign of its actor plans as before; nothing here draws a random number, so a world without
shared actors takes the same draws as before.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import DistillationModel


class CampaignMemory:
    """Which campaigns remember which; what each later one carries when it begins and learns
    while it runs."""

    def __init__(self, model: DistillationModel) -> None:
        self.model = model
        self.cfg = model.cfg.deterrence
        ops = model.operator_list
        # An operator without an explicit actor is its own, linked to no other.
        actor = [op.cfg.actor or f"operator:{op.name}" for op in ops]
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
        #: Remembering campaigns that have begun (decided their go/no-go).
        self.begun: set[int] = set()

    def remembers(self, k: int) -> bool:
        """Whether campaign ``k`` has earlier campaigns to remember (it then plans at its start)."""
        return k in self.earlier

    def begin(self, k: int, t: float) -> None:
        """Campaign ``k`` begins at ``t``: it learns what its actor's earlier campaigns left (a
        blacklist first: a campaign that cannot run decides nothing), decides whether to go, and
        if it goes the defender holds the evidence of the earlier campaigns attributed so far."""
        m = self.model
        d = m.defender
        op = m.operator_list[k]
        prior = self.earlier[k]
        attributed = [i for i in prior if d.attributed_at[i] <= t]
        share = self.cfg.evidence_carryover
        self.begun.add(k)
        op.remember(
            [m.operator_list[i] for i in prior], [m.operator_list[i] for i in attributed], share
        )
        listed = self.cfg.blacklist_carryover and any(d.blacklisted_at[i] <= t for i in prior)
        if listed and not d.designate_at_start(k, t):
            return
        op.plan()
        if op.go:
            d.inherited_evidence[k] += share * sum(float(d.decisions_by_op[i]) for i in attributed)

    def attributed(self, i: int, t: float) -> None:
        """Campaign ``i`` was attributed at ``t``: its actor's later campaigns already running
        inherit the evidence (and, public, fear it)."""
        m = self.model
        share = self.cfg.evidence_carryover
        for k in self._running_later(i):
            m.defender.inherited_evidence[k] += share * float(m.defender.decisions_by_op[i])
            m.operator_list[k].remember([], [m.operator_list[i]], share)

    def blacklisted(self, i: int, t: float) -> None:
        """Campaign ``i``'s actor was blacklisted at ``t``: the designation names the entity, so
        its later campaigns already running are designated too."""
        if not self.cfg.blacklist_carryover:
            return
        d = self.model.defender
        for k in self._running_later(i):
            if d.blacklisted_at[k] == math.inf:
                d.designate_running(k, t)

    def _running_later(self, i: int) -> list[int]:
        ops = self.model.operator_list
        return [
            k for k, prior in self.earlier.items() if i in prior and k in self.begun and ops[k].go
        ]
