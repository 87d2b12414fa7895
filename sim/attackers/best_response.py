"""``best_response``: the operator runs the campaign its levers describe (MODEL §2).

The levers are one open-loop choice per campaign: whether to go, how much to harvest a day, how
hard each account works, how large its clusters are, how much it obfuscates and mixes in reseller
traffic, how long the campaign runs, how many lost accounts it replaces and which suppliers it
favours. Given the levers the operator acts like ``fixed``. Choosing them — the search for the
levers that maximise its expected net value under the defender's configuration — is not the
model's job: :mod:`sim.experiments.best_response` does it before the run and writes the chosen
levers here. At their neutral values (below) the operator is the ``fixed`` one, so the fixed
policy lies inside the search space.

Every operator of a scenario gets the same levers (as multipliers of, or replacements for, its own
campaign facts); their net values are summed in the search.
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
    "cluster_size",
    "obfuscation",
    "traffic_mixing",
    "length_share",
    "replace_share",
    "supplier_weights",
)


@dataclass
class Levers:
    """One campaign's choice. ``None`` keeps the operator's own value."""

    go: bool = True
    #: Multiplies the operator's demand (exchanges a day) and its per-account cadence.
    demand_scale: float = P(1.0, gt=0.0)
    cadence_scale: float = P(1.0, gt=0.0)
    cluster_size: int | None = P(None, ge=1)
    obfuscation: float | None = P(None, ge=0.0, le=1.0)
    traffic_mixing: float | None = P(None, ge=0.0, lt=1.0)
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
    #: Bounds: scales in [1/max_scale, max_scale] (log), cluster size in [1, max_cluster_size].
    max_scale: float = P(4.0, gt=1.0)
    max_cluster_size: int = P(200, ge=1)
    max_obfuscation: float = share(0.8)
    max_traffic_mixing: float = P(0.9, ge=0.0, lt=1.0)
    min_length_share: float = P(0.1, gt=0.0, le=1.0)
    #: Supplier weights in [1/max_scale, max_scale] (log) for these suppliers.
    suppliers: list[str] = P(factory=lambda: ["farmed", "verified", "aged"])
    #: Seed of the optimiser's sampler.
    seed: int = 0


@dataclass
class BestResponseParams(StrategyParams):
    mode: str = "best_response"
    levers: Levers = field(default_factory=Levers)
    search: Search = field(default_factory=Search)


def apply_levers(op_cfg, levers: Levers, horizon_hours: float):
    """The operator's campaign facts with the levers applied."""
    changes: dict = {
        "demand_per_day": op_cfg.demand_per_day * levers.demand_scale,
        "tolerated_cadence_per_day": op_cfg.tolerated_cadence_per_day * levers.cadence_scale,
    }
    for name in ("cluster_size", "obfuscation", "traffic_mixing"):
        v = getattr(levers, name)
        if v is not None:
            changes[name] = v
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
        super().__init__(model, name, index, apply_levers(cfg, levers, model.horizon), strategy)
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
