"""A world of several defending labs (MODEL §12): one :class:`DistillationModel` per provider.

Each provider is a whole model of today's kind — its teacher, legitimate population, detectors,
review team, policies, account market and ledger — built from the base config with its overrides
(:mod:`sim.providers`). The operators are the world's: each has a branch (an agent) at every
provider, the branches draw on one budget (:class:`sim.attackers.base.BudgetPool`) and split the
operator's demand by :mod:`sim.displacement`. The models step window by window in lock-step, in
provider order, so within a window provider 0's branch pays first out of the shared budget.

Random streams: provider 0 uses the run's streams (``SeedSequence(seed)``), so a world of one
provider is today's model draw for draw; provider p > 0 gets an independent child
``SeedSequence(entropy, spawn_key=(…, crc32("provider:<name>")))``.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.attackers.base import BudgetPool
from sim.capability import combine_teachers
from sim.displacement import Displacement, fee_per_exchange, split, target_quality
from sim.model import DistillationModel
from sim.parameters import Config
from sim.providers import provider_configs
from sim.rng import Streams, root_sequence
from sim.sharing import IndicatorSharing


def provider_streams(streams: Streams, index: int, name: str) -> Streams:
    """Provider ``index``'s streams: the run's own for provider 0, an independent child else."""
    if index == 0:
        return streams
    root = streams.root
    key = zlib.crc32(f"provider:{name}".encode())
    return Streams(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key)))


class World:
    """Several providers' models stepped together; one provider is today's model exactly.

    Args:
        cfg: a validated config; ``cfg.providers`` names the providers (none: one, the config).
        streams: the run's streams (default ``SeedSequence(cfg.seed)``), provider 0's.
        on_window: called after every window with the world (progress reporting).
    """

    def __init__(
        self,
        cfg: Config,
        streams: Streams | None = None,
        on_window: Callable[[World], None] | None = None,
    ) -> None:
        self.cfg = cfg
        streams = streams or Streams(root_sequence(cfg.seed))
        self.on_window = on_window
        pcfgs = provider_configs(cfg)
        self.names = list(pcfgs)
        self.labels = {
            n: (cfg.providers[n].label if n in cfg.providers else "") or n for n in self.names
        }
        n_prov = len(self.names)
        self.displacement: Displacement | None = None
        quality = shares = None
        if n_prov > 1:
            quality, shares = self._initial_split(pcfgs)
            pcfgs = {
                n: _with_demand_shares(c, shares[:, p]) for p, (n, c) in enumerate(pcfgs.items())
            }
        self.models: list[DistillationModel] = []
        for p, (name, pcfg) in enumerate(pcfgs.items()):
            m = DistillationModel(pcfg, provider_streams(streams, p, name))
            self.models.append(m)
        self.op_names = [op.name for op in self.models[0].operator_list]
        if n_prov > 1:
            # One budget per operator, shared by its branches; nothing was spent at set-up.
            for k, name in enumerate(self.op_names):
                pool = BudgetPool(float(cfg.operators[name].budget_usd))
                for m in self.models:
                    m.operator_list[k].pool = pool
            branches = [
                [m.operator_list[k] for m in self.models] for k in range(len(self.op_names))
            ]
            self.displacement = Displacement(cfg.displacement, branches, shares, quality)
        self.sharing: IndicatorSharing | None = None
        if n_prov > 1 and cfg.sharing.participants:
            self.sharing = IndicatorSharing(cfg.sharing, self.models, self.names)
        self.running = True

    def _initial_split(self, pcfgs: dict[str, Config]) -> tuple[np.ndarray, np.ndarray]:
        """Each operator's q_p and its split before any window: by quality and fee alone (it has
        seen no ban yet)."""
        from sim.capability import CapabilityCurve, target_mix

        names = list(self.cfg.operators)
        q = np.zeros((len(names), len(pcfgs)))
        c = np.zeros_like(q)
        for k, name in enumerate(names):
            for p, pc in enumerate(pcfgs.values()):
                op = pc.operators[name]
                curve = CapabilityCurve(pc.capability, op.gmax_scale)
                q[k, p] = target_quality(target_mix(op, curve.domains), curve.gmax)
                c[k, p] = fee_per_exchange(op, pc.teacher)
        d = self.cfg.displacement
        s = np.stack(
            [split(q[k], c[k], d.quality_exponent, d.cost_exponent) for k in range(len(names))]
        )
        return q, s

    # ------------------------------------------------------------------ stepping
    @property
    def time_h(self) -> float:
        return self.models[0].time_h

    @property
    def horizon(self) -> float:
        return self.models[0].horizon

    def step(self) -> None:
        """One window at every provider: the split in force first, then each provider's window,
        then the operators read what the window showed for the next split."""
        t0 = self.time_h
        disp = self.displacement
        if disp is not None:
            disp.apply_due(t0)
        if self.sharing is not None:
            self.sharing.begin(t0)
        for m in self.models:
            m.step()
        if self.sharing is not None:
            self.sharing.exchange()
            self.sharing.book(t0, self.time_h)
        if disp is not None:
            disp.decide(t0, self.time_h)
        if self.on_window is not None:
            self.on_window(self)
        self.running = all(m.running for m in self.models)

    def run(self) -> World:
        """Step to the horizon, then settle attribution and penalties at every provider."""
        while self.running:
            self.step()
        for m in self.models:
            m.finish()
        return self

    def release(self) -> None:
        """Free every provider's model (see :meth:`DistillationModel.release`)."""
        for m in self.models:
            m.release()

    # ------------------------------------------------------------------ capability
    def capability(self) -> dict[str, Any]:
        """Each operator's capability from all teachers (MODEL §12): hourly curve (overall),
        final gains per domain and the curve each provider's teacher alone gives."""
        from sim.outcomes import capability_series

        stocks = [capability_series(m) for m in self.models]  # each: ops x hours x domains
        out: dict[str, Any] = {}
        for k, name in enumerate(self.op_names):
            curves = [m.operator_list[k].curve for m in self.models]
            n_eff = np.stack([s[k] for s in stocks])  # providers x hours x domains
            gains, combined = combine_teachers(n_eff, curves)
            out[name] = {"curve": combined.overall(gains), "gains": gains, "n_eff": n_eff}
        return out

    # ------------------------------------------------------------------ summary
    def summary(self, scenario: str) -> dict[str, Any]:
        """One provider: today's summary exactly. Several: the world's figures and
        ``provider.<name>.*`` (docs/OUTPUTS.md, "Several providers")."""
        from sim.outcomes import summarize

        per = [summarize(m, scenario) for m in self.models]
        if len(self.models) == 1:
            return per[0]
        cfg = self.cfg
        cap = self.capability()
        disp = self.displacement
        assert disp is not None
        share_now = disp.demand_shares()
        H = int(self.horizon)
        ops: dict[str, dict[str, Any]] = {}
        caps = np.zeros(len(self.op_names))
        for k, name in enumerate(self.op_names):
            curve = cap[name]["curve"]
            caps[k] = float(curve[-1]) if curve.size else 0.0
            cash = sum(s["operators"][name]["attacker_spend_usd"] for s in per)
            p_none = self._not_attributed(name, per)
            # One penalty if attributed anywhere (the sanctions of the world, provider 0's).
            sanc = self.models[0].policy("sanctions")
            penalty = (1.0 - p_none) * (
                sanc.expected_penalty_if_attributed(self.horizon) if sanc else 0.0
            )
            value = max(m.operator_list[k].value_usd for m in self.models)
            # The student as delivered, when its last branch ends: the combined capability then,
            # at the providers' lead shares weighted by what each teacher gave by then
            # (sim.frontier; lead share 1 when every lead is fixed).
            branches = [m.operator_list[k] for m in self.models]
            delivered_at = max(b.delivery_hour for b in branches)
            h = min(int(math.ceil(delivered_at)), H) - 1
            delivered = float(curve[h]) if h >= 0 and curve.size else 0.0
            lead = 1.0
            if any(m.frontier.moves for m in self.models):
                recs = [s["operators"][name] for s in per]
                w = np.array([r["capability_at_delivery"] for r in recs])
                ls = np.array([r["lead_share_at_delivery"] or 0.0 for r in recs])
                lead = float(w @ ls / w.sum()) if w.sum() > 0 else 1.0
            ops[name] = {
                "capability_extracted": float(caps[k]),
                "capability_by_domain": {
                    d: float(g)
                    for d, g in zip(self.models[0].domains, cap[name]["gains"][-1], strict=True)
                },
                "capability_by_provider": {
                    n: s["operators"][name]["capability_extracted"]
                    for n, s in zip(self.names, per, strict=True)
                },
                "exchanges_harvested": sum(
                    s["operators"][name]["exchanges_harvested"] for s in per
                ),
                "attacker_spend_usd": float(cash),
                "budget_usd": float(cfg.operators[name].budget_usd),
                "attribution_probability": 1.0 - p_none,
                "expected_penalty_usd": float(penalty),
                "capability_at_delivery": delivered,
                "lead_share_at_delivery": lead,
                "net_value_usd": float(value * lead * delivered - cash - penalty),
                "demand_share_final": {n: float(share_now[k, p]) for p, n in enumerate(self.names)},
            }
        mode = cfg.analysis.headline
        if mode == "total":
            scope, head = list(range(len(self.op_names))), None
        else:
            head = int(np.argmax(caps)) if mode == "max" else self.op_names.index(mode)
            scope = [head]
        curve = np.sum([cap[self.op_names[k]]["curve"] for k in scope], axis=0)
        summary: dict[str, Any] = {
            "scenario": scenario,
            "seed": int(cfg.seed),
            "attacker_mode": cfg.attacker.mode,
            "days": cfg.world.days,
            "providers": list(self.names),
            "headline": mode,
            "headline_operator": self.op_names[head] if head is not None else None,
            "capability_extracted": float(curve[-1]) if curve.size else 0.0,
            "capability_total": float(caps.sum()),
            "capability_by_day": [float(x) for x in curve[23::24]] if H else [],
            "exchanges_harvested": sum(s["exchanges_harvested"] for s in per),
            "accounts_created": sum(s["accounts_created"] for s in per),
            "accounts_banned": sum(s["accounts_banned"] for s in per),
            "attacker_spend_usd": float(
                sum(ops[self.op_names[k]]["attacker_spend_usd"] for k in scope)
            ),
            "attacker_net_value_usd": float(
                sum(ops[self.op_names[k]]["net_value_usd"] for k in scope)
            ),
            "detection_spend_usd": sum(s["detection_spend_usd"] for s in per),
            "defender_total_cost_usd": sum(s["defender_total_cost_usd"] for s in per),
            "traffic_displaced_per_day": float(disp.moved_in_per_day.sum()),
            "sharing_participants": list(cfg.sharing.participants),
            "operators": ops,
        }
        hub = self.sharing
        for p, (name, s, m) in enumerate(zip(self.names, per, self.models, strict=True)):
            led = m.ledger.frame()
            cash = led[led["cash"]]
            pre = f"provider.{name}."
            harvested = {op: s["operators"][op]["exchanges_harvested"] for op in self.op_names}
            rows = {
                "label": self.labels[name],
                "teacher": m.cfg.teacher.name,
                "ledger_by_category_usd": {
                    str(c): float(v) for c, v in led.groupby("category")["usd"].sum().items()
                },
                "ledger_cash_usd": float(cash["usd"].sum()),
                "defender_total_cost_usd": s["defender_total_cost_usd"],
                "detection_budget_usd_per_day": s["detection_budget_usd_per_day"],
                "detection_spend_usd": s["detection_spend_usd"],
                "attacker_fees_received_usd": s["attacker_fees_received_usd"],
                "false_positive_cost_usd": s["false_positive_cost_usd"],
                "capability_extracted": s["capability_extracted"],
                "capability_by_operator": {
                    op: s["operators"][op]["capability_extracted"] for op in self.op_names
                },
                "exchanges_harvested": s["exchanges_harvested"],
                "exchanges_harvested_by_operator": harvested,
                "exchanges_attributed": s["exchanges_attributed"],
                "exchanges_attributed_by_operator": {
                    op: s["operators"][op]["exchanges_attributed"] for op in self.op_names
                },
                "accounts_created": s["accounts_created"],
                "accounts_attributed": s["accounts_attributed"],
                "accounts_attributed_by_operator": {
                    op: s["operators"][op]["accounts_attributed"] for op in self.op_names
                },
                "accounts_banned": s["accounts_banned"],
                "attacker_spend_usd": float(
                    sum(s["operators"][op]["attacker_spend_usd"] for op in self.op_names)
                ),
                "displaced_in_per_day": float(disp.moved_in_per_day[p]),
                "displaced_out_per_day": float(disp.moved_out_per_day[p]),
                "accounts_shed": int(disp.shed_accounts[p]),
                "demand_share_final": {
                    op: float(share_now[k, p]) for k, op in enumerate(self.op_names)
                },
                "account_lifetime_hours_mean": _mean_lifetime(m),
                "shares_indicators": hub is not None and p in hub.participants,
                "indicators_sent": int(hub.sent[p]) if hub is not None else 0,
                "indicators_received": hub.received(p) if hub is not None else 0,
                "sharing_cost_usd": (
                    hub.cost_usd(self.horizon) if hub is not None and p in hub.participants else 0.0
                ),
            }
            summary.update({pre + k: v for k, v in rows.items()})
        return summary

    def _not_attributed(self, op: str, per: list[dict[str, Any]]) -> float:
        """P(operator ``op`` attributed nowhere): independent draws at labs that do not share;
        the labs that share hold one pooled body of evidence, so they count once, at the most
        likely of theirs."""
        probs = [s["operators"][op]["attribution_probability"] for s in per]
        shared = set(self.sharing.participants) if self.sharing is not None else set()
        p_none = math.prod(1.0 - x for i, x in enumerate(probs) if i not in shared)
        if shared:
            p_none *= 1.0 - max(probs[i] for i in shared)
        return p_none

    def share_history(self) -> np.ndarray:
        """Windows x operators x providers: the demand split in force during each window."""
        assert self.displacement is not None
        return np.stack(self.displacement.history)


def _with_demand_shares(cfg: Config, shares: np.ndarray) -> Config:
    """The provider's config with each operator's demand at its initial share there: what the
    provider's defender forecasts and its branch plans on."""
    ops = {
        name: dataclasses.replace(op, demand_per_day=op.demand_per_day * float(shares[k]))
        for k, (name, op) in enumerate(cfg.operators.items())
    }
    return dataclasses.replace(cfg, operators=ops)


def _mean_lifetime(m: DistillationModel) -> float:
    """Mean hours an attacker account served before it ended or the horizon (screened at
    sign-up: 0); accounts not yet active at the horizon are left out."""
    acc = m.fleet.accounts
    start = acc.view("active_at")
    live = start < m.horizon
    if not live.any():
        return 0.0
    end = np.minimum(acc.view("ended_at")[live], m.horizon)
    return float(np.maximum(end - start[live], 0.0).mean())
