"""``best_response``: the operator runs the campaign its levers describe (MODEL §2).

The levers are one open-loop choice per campaign: whether to go, how much to harvest a day, how
hard each account works, how large its clusters are, how much it obfuscates and mixes in reseller
traffic, how long the campaign runs, how many lost accounts it replaces and which suppliers it
favours. Given the levers the operator acts like ``fixed``. Choosing them — the search for the
levers that maximise its expected net value under the defender's configuration — is not the
model's job: :mod:`sim.experiments.best_response` does it before the run and writes the chosen
levers here. At their neutral values (below) the operator is the ``fixed`` one, so the fixed
policy lies inside the search space.

Every lever is relative to the operator's own campaign (a multiplier or a shift), so one lever set
serves every operator of a scenario and, at its neutral values, leaves each of them as configured;
their net values are summed in the search.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from sim.attackers.base import StrategyParams
from sim.attackers.fixed import FixedOperator
from sim.parameters import P, share
from sim.registry import attackers

#: The levers the search may move, in the order it reports them.
LEVERS = (
    "go",
    "demand_scale",
    "cadence_scale",
    "cluster_scale",
    "obfuscation_shift",
    "mixing_shift",
    "length_share",
    "replace_share",
    "supplier_weights",
)


@dataclass
class Levers:
    """One campaign's choice, relative to each operator's own (neutral: as configured)."""

    go: bool = True
    #: Multiplies the operator's demand (exchanges a day) and its per-account cadence.
    demand_scale: float = P(1.0, gt=0.0)
    cadence_scale: float = P(1.0, gt=0.0)
    #: Multiplies its cluster size (rounded, at least 1, at most ``search.max_cluster_size``).
    cluster_scale: float = P(1.0, gt=0.0)
    #: Added to its obfuscation and traffic-mixing share, kept within [0, the search's cap]
    #: (or the operator's own value where that is higher).
    obfuscation_shift: float = P(0.0, ge=-1.0, le=1.0)
    mixing_shift: float = P(0.0, ge=-1.0, le=1.0)
    #: Share of the planned campaign (start to planned end, or the horizon) it runs.
    length_share: float = P(1.0, gt=0.0, le=1.0)
    #: Share of lost accounts it replaces (in order: every 1/share-th loss is not replaced).
    replace_share: float = share(1.0)
    #: Multiplies each named supplier's price when splitting an order (above 1: avoided).
    supplier_weights: dict[str, float] = P(factory=dict)


@dataclass
class Search:
    """How :mod:`sim.experiments.best_response` chooses the levers (MODEL §2)."""

    #: Search before the run (false: run the levers as given).
    enabled: bool = True
    #: Levers the search moves; the others keep their configured value.
    levers: list[str] = P(factory=lambda: list(LEVERS))
    #: Optimiser trials (the first is the fixed policy), and the replicates each is scored on.
    trials: int = P(40, ge=1, le=10000)
    train_replicates: int = P(3, ge=1, le=100)
    #: Training replicates are ``train_offset + i``: disjoint from a sweep's replicates 0, 1, …
    train_offset: int = P(10000, ge=0)
    sampler: str = P("tpe", choices=["tpe", "cmaes", "random"])
    #: Bounds: demand × [1/max_demand_scale, max_demand_scale], cadence and supplier weights
    #: × [1/max_scale, max_scale], cluster size × [min_cluster_scale, max_cluster_scale] (all log)
    #: and at most max_cluster_size; obfuscation and mixing shifts reach 0 and their caps.
    max_demand_scale: float = P(16.0, gt=1.0)
    max_scale: float = P(4.0, gt=1.0)
    min_cluster_scale: float = P(0.01, gt=0.0, le=1.0)
    max_cluster_scale: float = P(4.0, ge=1.0)
    max_cluster_size: int = P(200, ge=1)
    max_obfuscation: float = share(0.8)
    max_traffic_mixing: float = P(0.9, ge=0.0, lt=1.0)
    min_length_share: float = P(0.1, gt=0.0, le=1.0)
    #: Supplier weights in [1/max_scale, max_scale] (log) for these suppliers.
    suppliers: list[str] = P(factory=lambda: ["farmed", "verified", "aged"])
    #: Seed of the optimiser's sampler.
    seed: int = 0
    #: Trials proposed together and scored in parallel (a fixed batch: the result does not
    #: depend on how many processes score it), on ``n_jobs`` processes (-1: every core).
    batch: int = P(2, ge=1, le=64)
    n_jobs: int = P(-1, ge=-1)
    #: Budgets whose best responses seed this one's: the search at B also tries the levers
    #: chosen at the largest of these below B (searched first, through the cache). Empty: only
    #: the fixed policy seeds it. A spend curve lists its own budgets here.
    warm_start_budgets: list[float] = P(factory=list)


@dataclass
class BestResponseParams(StrategyParams):
    mode: str = "best_response"
    levers: Levers = field(default_factory=Levers)
    search: Search = field(default_factory=Search)


def _shifted(own: float, shift: float, cap: float) -> float:
    return float(min(max(own + shift, 0.0), max(own, cap)))


def apply_levers(op_cfg, levers: Levers, horizon_hours: float, search: Search | None = None):
    """The operator's campaign facts with the levers applied (within ``search``'s caps)."""
    search = search or Search()
    changes: dict = {
        "demand_per_day": op_cfg.demand_per_day * levers.demand_scale,
        "tolerated_cadence_per_day": op_cfg.tolerated_cadence_per_day * levers.cadence_scale,
    }
    if levers.cluster_scale != 1.0:
        size = max(1, round(op_cfg.cluster_size * levers.cluster_scale))
        changes["cluster_size"] = int(min(size, max(search.max_cluster_size, op_cfg.cluster_size)))
    if levers.obfuscation_shift:
        changes["obfuscation"] = _shifted(
            op_cfg.obfuscation, levers.obfuscation_shift, search.max_obfuscation
        )
    if levers.mixing_shift:
        changes["traffic_mixing"] = _shifted(
            op_cfg.traffic_mixing, levers.mixing_shift, search.max_traffic_mixing
        )
    if levers.length_share < 1.0:
        end = op_cfg.end_hour if op_cfg.end_hour is not None else horizon_hours
        changes["end_hour"] = op_cfg.start_hour + levers.length_share * (end - op_cfg.start_hour)
    return dataclasses.replace(op_cfg, **changes)


@attackers.register("best_response")
class BestResponseOperator(FixedOperator):
    """Runs the campaign its levers describe; neutral levers are the fixed operator."""

    Params = BestResponseParams

    def __init__(self, model, name, index, cfg, strategy) -> None:
        levers = strategy.levers
        played = apply_levers(cfg, levers, model.horizon, strategy.search)
        super().__init__(model, name, index, played, strategy)
        # The defender commits before the attacker moves: it plans on the configured campaign.
        self.configured = cfg
        self.levers = levers
        self._losses_seen = 0
        #: Losses deliberately left unreplaced: the fleet's target shrinks by them, so the
        #: window's top-up does not bring them back.
        self.unreplaced = 0

    def target_fleet(self, t: float) -> int:
        base = super().target_fleet(t)
        return max(base - self.unreplaced, 0) if base > 0 else 0

    def plan(self) -> None:
        if not self.levers.go:
            self.go = False
            self.stop_reason = "no-go"

    def replacements(self, when: np.ndarray) -> np.ndarray:
        """Replace ``replace_share`` of the losses, spread evenly over them (no random draw)."""
        s = self.levers.replace_share
        n = self._losses_seen + np.arange(1, when.size + 1)
        self._losses_seen += when.size
        if s >= 1.0:
            return when
        keep = np.floor(n * s) > np.floor((n - 1) * s)
        self.unreplaced += int((~keep).sum())
        return when[keep]

    def supplier_weight(self, supplier, t: float) -> float:
        w = self.levers.supplier_weights.get(supplier.name, 1.0)
        return float(w) if math.isfinite(w) and w > 0 else 1.0
