"""Indicator sharing between the world's labs (MODEL §12): what one learns, the others use.

A participating lab that confirms an account learns its cluster's infrastructure and its
operator's templates (:mod:`sim.learning`). With ``sharing.participants``, after every window each
participant passes on the clusters it newly learned (each with the hour it learned it) and its
latest templates; each reaches every other participant ``latency_hours`` after it was learned with
probability ``coverage``, and the receiver's :class:`~sim.learning.Learning` uses it as its own:
sign-up screening and score boosts on the matching infrastructure, template matches on the
operator's later accounts. Passed on after the window, an indicator acts no earlier than the next
window (exact when ``latency_hours`` is at least a window, 24 h by default).

An operator's branches share infrastructure across providers [E]: its n-th cluster at every
provider runs on its n-th set of proxies and payment instruments (the same operator reuses them
rather than buying a set per API), so an indicator of cluster n at one lab matches cluster n at
another — now, or when the branch there opens it. Attribution at a participant reads the
confirmation decisions of all participants (pooled evidence). Each participant pays
``usd_per_day_per_lab`` (ledger category ``intel_sharing``).

Sharing begins at ``start_hour`` (0: the start), at the first window starting at or after it:
indicators learned before it are dropped (never passed on), the partners' confirmation decisions
made before it are not pooled (each participant's own always count), nothing is booked before it.
"""

from __future__ import annotations

import bisect
import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from sim.ledger import DEFENDER

if TYPE_CHECKING:
    from sim.model import DistillationModel
    from sim.parameters import SharingConfig


class Received:
    """A participant's indicators from the others, matched to its own clusters by operator and
    infrastructure ordinal (the n-th cluster an operator opened at this provider), and what it
    has passed on of its own."""

    def __init__(self, model: DistillationModel) -> None:
        self.model = model
        n_ops = len(model.cfg.operators)
        #: (operator, ordinal) -> earliest hour the infrastructure's indicators arrive.
        self.infra: dict[tuple[int, int], float] = {}
        #: Per operator, the sorted hours templates arrived.
        self.templates: list[list[float]] = [[] for _ in range(n_ops)]
        self._count = np.zeros(n_ops, dtype=np.int64)
        self._ordinal: list[int] = []
        self._cluster_of: dict[tuple[int, int], int] = {}
        #: Per cluster: the hour a received indicator made it known (inf: none), and the
        #: known_at last passed on; per operator: the templates_at last passed on.
        self._received_at: list[float] = []
        self._passed: list[float] = []
        self._templates_passed = np.full(n_ops, -math.inf)
        self.n_received = 0

    def sync(self) -> None:
        """Give clusters opened since the last call their ordinal and any indicator already in."""
        cl = self.model.fleet.clusters
        for c in range(len(self._ordinal), cl.n):
            op = int(cl.op[c])
            key = (op, int(self._count[op]))
            self._count[op] += 1
            self._ordinal.append(key[1])
            self._cluster_of[key] = c
            self._received_at.append(math.inf)
            self._passed.append(math.inf)
            at = self.infra.get(key)
            if at is not None:
                self._mark(c, at)

    def _mark(self, c: int, at: float) -> None:
        cl = self.model.fleet.clusters
        if at < cl.known_at[c]:
            cl.known_at[c] = at
            self._received_at[c] = at
            # The shared fingerprint points at the cluster's accounts here too: the lab
            # investigates it as it would after one of its own confirmations (found with
            # p_cluster_found, then attributed and swept), when the indicator arrives.
            self.model.defender.investigate(c, max(at, self.model.time_h))

    def add(self, op: int, ordinal: int | None, at: float) -> None:
        """Indicators held from hour ``at``: operator ``op``'s templates, and its
        infrastructure ``ordinal`` (None: templates only)."""
        bisect.insort(self.templates[op], at)
        self.n_received += 1
        if ordinal is None:
            return
        key = (op, ordinal)
        self.infra[key] = min(self.infra.get(key, math.inf), at)
        self.sync()
        c = self._cluster_of.get(key)
        if c is not None:
            self._mark(c, at)

    def news(self) -> tuple[list[tuple[int, int, float]], list[tuple[int, float]]]:
        """What this lab learned itself since the last call: (operator, ordinal, hour) of each
        cluster newly known, and (operator, hour) of templates newer than those passed on."""
        self.sync()
        cl = self.model.fleet.clusters
        known = cl.known_at[: cl.n]
        clusters = []
        for c in np.flatnonzero(known < np.asarray(self._passed)).tolist():
            at = float(known[c])
            self._passed[c] = at
            if at != self._received_at[c]:  # learned here, not received
                clusters.append((int(cl.op[c]), self._ordinal[c], at))
        templates = []
        own = self.model.learning.templates_at
        for k in np.flatnonzero(own > self._templates_passed).tolist():
            self._templates_passed[k] = own[k]
            templates.append((k, float(own[k])))
        return clusters, templates

    def template_age(self, ops: np.ndarray, t: float | np.ndarray) -> np.ndarray:
        """Hours since the latest templates received for each account's operator at or before
        ``t`` (inf: none yet)."""
        t = np.broadcast_to(np.asarray(t, dtype=float), ops.shape)
        age = np.full(ops.shape, math.inf)
        for k in np.unique(ops).tolist():
            arr = self.templates[k]
            if not arr:
                continue
            sel = ops == k
            times = np.asarray(arr)
            pos = np.searchsorted(times, t[sel], side="right") - 1
            got = pos >= 0
            a = np.full(pos.shape, math.inf)
            a[got] = t[sel][got] - times[pos[got]]
            age[sel] = a
        return age


class IndicatorSharing:
    """The world's sharing: hands each participant's new indicators to the others."""

    def __init__(
        self, params: SharingConfig, models: list[DistillationModel], names: list[str]
    ) -> None:
        self.params = params
        self.models = models
        self.participants = [names.index(n) for n in params.participants]
        self.sent = np.zeros(len(models), dtype=np.int64)
        # A stream of its own (a new name: no other stream's draws change).
        self.rng = models[0].streams("indicator_sharing")
        n_ops = len(models[0].cfg.operators)
        #: Per provider and operator, the decisions held when sharing began (pooled from then).
        self._base = np.zeros((len(models), n_ops))
        #: Start of the first window sharing acts in (inf: not begun yet).
        self.started_at = math.inf
        for p in self.participants:
            m = models[p]
            m.learning.received = Received(m)
            m.defender.evidence_pool = functools.partial(self.pooled_evidence, p=p)
        self.begin(models[0].time_h)

    def begin(self, t0: float) -> None:
        """At a window's start: sharing begins if ``start_hour`` has come (once)."""
        if self.started_at < math.inf or t0 < self.params.start_hour:
            return
        self.started_at = t0
        for q in self.participants:
            self._base[q] = self.models[q].defender.decisions_by_op

    @property
    def active(self) -> bool:
        return self.started_at < math.inf

    def exchange(self) -> None:
        """After a window: each participant's new indicators to the others (in provider order;
        one ``coverage`` draw per indicator and receiver)."""
        lat, cov = self.params.latency_hours, self.params.coverage
        start = self.params.start_hour
        for p in self.participants:
            # Read every window, so what was learned before the start is consumed, not kept.
            clusters, templates = self.models[p].learning.received.news()
            if not self.active:
                continue
            items = [(k, o, at) for k, o, at in clusters] + [(k, None, at) for k, at in templates]
            items = [it for it in items if it[2] >= start]
            for k, ordinal, at in items:
                for q in self.participants:
                    if q != p and self.rng.random() < cov:
                        self.models[q].learning.received.add(k, ordinal, at + lat)
                        self.sent[p] += 1

    def pooled_evidence(self, k: int, p: int | None = None) -> float:
        """Operator ``k``'s confirmation decisions held by participant ``p``: its own, and the
        others' made since sharing began. ``p`` None: the decisions pooled (all participants',
        made since sharing began)."""
        if self.params.start_hour == 0:  # sharing from the start: today's sum, term for term
            return float(sum(self.models[q].defender.decisions_by_op[k] for q in self.participants))
        now = {q: float(self.models[q].defender.decisions_by_op[k]) for q in self.participants}
        since = {q: now[q] - float(self._base[q, k]) for q in self.participants}
        if not self.active:
            since = dict.fromkeys(since, 0.0)
        if p is None:
            return float(sum(since.values()))
        return now[p] + float(sum(x for q, x in since.items() if q != p))

    def cost_usd(self, horizon: float) -> float:
        """What sharing cost each participant over the run (from its start)."""
        if not self.active:
            return 0.0
        return self.params.usd_per_day_per_lab * max(horizon - self.started_at, 0.0) / 24.0

    def book(self, t0: float, t1: float) -> None:
        """Each participant's cost of the window (nothing before sharing began)."""
        if not self.active:
            return
        usd = self.params.usd_per_day_per_lab * (t1 - t0) / 24.0
        if usd > 0:
            for p in self.participants:
                self.models[p].ledger.book(t0, DEFENDER, "partners", "intel_sharing", usd)

    def received(self, p: int) -> int:
        """Indicator bundles provider ``p`` received."""
        rec = self.models[p].learning.received
        return rec.n_received if rec is not None else 0
