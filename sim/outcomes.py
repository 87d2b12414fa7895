"""Outcomes: the summary figures and hourly time series of a finished run (MODEL §6, §7, §10).

One definition per figure, used by every output: ``defender_total_cost_usd`` = detection spend +
KYC + intelligence-sharing time + false-positive losses + countermeasure costs − margin collected
from attacker traffic. Ratios with a zero denominator are null, never inf or NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.fleet import END_BANNED

if TYPE_CHECKING:
    from sim.model import DistillationModel

DEFENDER_COST_CATEGORIES = (
    "detection",
    "review_staff",
    "kyc_checks",
    "kyc_friction",
    "intel_sharing",
    "false_positives",
    "reseller_collateral",
    "utility_loss",
    "rate_limit_loss",
    "poisoning_compute",
    "watermarking",
)
ATTACKER_CASH_CATEGORIES = ("accounts", "infrastructure", "api_fees", "traffic_mixing")


def ratio(num: float, den: float) -> float | None:
    """num/den, or None when the denominator is zero (or either is not finite)."""
    if den == 0 or not math.isfinite(num) or not math.isfinite(den):
        return None
    return float(num / den)


def finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def capability_series(model: DistillationModel) -> np.ndarray:
    """Effective-exchange stock per operator, hour and domain (end of hour), releases applied."""
    eff = model.effective_hd
    n_ops, H, D = eff.shape
    out = np.zeros_like(eff)
    carry = np.zeros((n_ops, D))
    cuts = sorted(int(math.ceil(r)) for r in model.cfg.teacher.releases_hours if 0 <= r < H)
    start = 0
    stale = model.cfg.teacher.staleness_factor
    for c in [*cuts, H]:
        seg = np.cumsum(eff[:, start:c], axis=1) + carry[:, None, :]
        out[:, start:c] = seg
        if c < H:
            carry = (seg[:, -1] if c > start else carry) * stale
        start = c
    return out


def defender_costs(ledger: pd.DataFrame) -> dict[str, float]:
    d = ledger[ledger["payer"] == "defender"].groupby("category", observed=True)["usd"].sum()
    costs = {c: float(d.get(c, 0.0)) for c in (*DEFENDER_COST_CATEGORIES, "serving_cost")}
    received = ledger[(ledger["payee"] == "defender") & (ledger["category"] == "api_fees")]
    costs["api_fees_received"] = float(received["usd"].sum())
    costs["margin_collected"] = costs["api_fees_received"] - costs["serving_cost"]
    costs["detection_spend"] = costs["detection"] + costs["review_staff"]
    costs["total"] = sum(costs[c] for c in DEFENDER_COST_CATEGORIES) - costs["margin_collected"]
    return costs


def _days_to(curve: np.ndarray, share: float) -> float | None:
    final = curve[-1] if curve.size else 0.0
    if final <= 0:
        return None
    hit = np.flatnonzero(curve >= share * final)
    return float((hit[0] + 1) / 24.0) if hit.size else None


def summarize(model: DistillationModel, scenario: str) -> dict[str, Any]:
    """The run's summary (what summary.json holds)."""
    cfg = model.cfg
    led = model.ledger.frame()
    acc = model.fleet.accounts
    n = model.fleet.n
    H = model.horizon
    stock = capability_series(model)
    ops = model.operator_list
    costs = defender_costs(led)
    d = model.defender

    # A ban counts if it took effect by the horizon; later ones leave the account alive at the end.
    banned_by_horizon = (acc.end_kind[:n] == END_BANNED) & (acc.ended_at[:n] < H)
    per_op: dict[str, dict[str, Any]] = {}
    caps = np.zeros(len(ops))
    curves = []
    gains_final = []
    for k, op in enumerate(ops):
        g_hours = op.curve.gains(stock[k])
        overall = op.curve.overall(g_hours)
        curves.append(overall)
        gains_final.append(g_hours[-1] if g_hours.size else np.zeros(len(model.domains)))
        caps[k] = overall[-1] if overall.size else 0.0
        mine = acc.op[:n] == k
        banned_k = mine & banned_by_horizon
        cash = float(led[(led["payer"] == op.party) & led["cash"]]["usd"].sum())
        p_final = model.final_attribution[k]
        penalty = model.expected_penalty[k]
        per_op[op.name] = {
            "label": op.cfg.label or op.name,
            "exchanges_sent": float(acc.sent[:n][mine].sum()),
            "exchanges_harvested": float(acc.harvested[:n][mine].sum()),
            "exchanges_attributed": float(acc.harvested[:n][mine & acc.attributed[:n]].sum()),
            "effective_exchanges": float(stock[k, -1].sum()) if stock.shape[1] else 0.0,
            "accounts_created": int(mine.sum()),
            "accounts_attributed": int((mine & acc.attributed[:n]).sum()),
            "accounts_banned": int(banned_k.sum()),
            "accounts_alive_at_end": int((mine & (acc.ended_at[:n] >= H)).sum()),
            "capability_extracted": float(caps[k]),
            "capability_by_domain": {
                dm: float(v) for dm, v in zip(model.domains, gains_final[-1], strict=True)
            },
            "days_to_50pct_capability": _days_to(overall, 0.5),
            "capability_days": float(overall.sum() / 24.0),
            "value_usd": float(op.value_usd),
            "attacker_spend_usd": cash,
            "attacker_cost_per_capability_point_usd": ratio(cash, caps[k] * 100.0),
            "expected_penalty_usd": float(penalty),
            "attribution_probability": float(p_final),
            "attributed_at_hours": finite_or_none(d.attributed_at[k]),
            "net_value_usd": float(op.value_usd * caps[k] - cash - penalty),
            "went": bool(op.go),
            "stopped_at_hours": finite_or_none(op.stopped_at),
            "stop_reason": op.stop_reason or None,
            "cadence_per_day_final": float(op.cadence),
            "obfuscation_final": float(op.obfuscation),
            "cluster_size_final": int(op.cluster_size),
        }
    # The headline figures are those of the operator whose student gained most.
    head = int(np.argmax(caps)) if len(ops) else 0
    curve = curves[head] if curves else np.zeros(0)
    cap = float(caps[head]) if len(ops) else 0.0
    head_op = per_op[ops[head].name] if ops else {}

    created = n
    ended = acc.ended_at[:n]
    active = acc.active_at[:n]
    banned = banned_by_horizon
    # Usable life of banned accounts; one banned while still in set-up (a cluster sweep) never
    # served and is left out rather than counted as a zero-hour life.
    lived = banned & (ended > active)
    lifetimes = ended[lived] - active[lived]
    alive_end = int((ended >= H).sum())
    attacker_cash = float(
        led[led["payer"].astype(str).str.startswith("attacker:") & led["cash"]]["usd"].sum()
    )
    legit = model.legit
    legit_total = float(legit.weight.sum())
    cases = model.defender.queue.cases
    waits = [c.started_at - c.arrived_at for c in cases if c.started_at == c.started_at]
    unreviewed = sum(1 for c in cases if c.started_at != c.started_at)
    summary: dict[str, Any] = {
        "scenario": scenario,
        "seed": int(cfg.seed),
        "attacker_mode": cfg.attacker.mode,
        "days": cfg.world.days,
        "capability_extracted": cap,
        "capability_by_domain": head_op.get("capability_by_domain", {}),
        "headline_operator": ops[head].name if ops else None,
        "days_to_50pct_capability": _days_to(curve, 0.5),
        "days_to_80pct_capability": _days_to(curve, 0.8),
        "capability_days": float(curve.sum() / 24.0),
        "exchanges_sent": float(acc.sent[:n].sum()),
        "exchanges_harvested": float(acc.harvested[:n].sum()),
        "exchanges_attributed": float(acc.harvested[:n][acc.attributed[:n]].sum()),
        "accounts_created": int(created),
        "accounts_attributed": int(acc.attributed[:n].sum()),
        "accounts_banned": int(banned.sum()),
        "accounts_confirmed": int(acc.confirmed[:n].sum()),
        "legit_accounts": int(legit.accounts_total),
        "attacker_account_share": ratio(created, created + legit.accounts_total),
        "legit_accounts_banned": float(d.legit_false_bans),
        "legit_accounts_acted_on": float(d.legit_false_actions),
        "reseller_customers_hit": float(d.reseller_customers_hit),
        "fpr_per_window": ratio(d.legit_flag_events, legit_total * model.scan_windows),
        "fpr_per_account_horizon": ratio(
            float((legit.weight * legit.ever_flagged).sum()), legit_total
        ),
        "attacker_spend_usd": attacker_cash,
        "attacker_net_value_usd": float(sum(v["net_value_usd"] for v in per_op.values())),
        "expected_penalty_usd": float(sum(model.expected_penalty)),
        "attribution_probability": float(np.mean(model.final_attribution)) if ops else 0.0,
        "attribution_hours": finite_or_none(float(np.min(d.attributed_at)) if ops else math.inf),
        "detection_spend_usd": costs["detection_spend"],
        "defender_total_cost_usd": costs["total"],
        "false_positive_cost_usd": costs["false_positives"],
        "reseller_collateral_usd": costs["reseller_collateral"],
        "kyc_cost_usd": costs["kyc_checks"] + costs["kyc_friction"],
        "intel_sharing_cost_usd": costs["intel_sharing"],
        "countermeasure_cost_usd": (
            costs["utility_loss"]
            + costs["rate_limit_loss"]
            + costs["poisoning_compute"]
            + costs["watermarking"]
        ),
        "margin_collected_usd": costs["margin_collected"],
        "first_detection_hours": finite_or_none(d.first_detection_at),
        "first_flag_hours": finite_or_none(d.first_flag_at),
        "mean_account_lifetime_hours": float(lifetimes.mean()) if lifetimes.size else None,
        "accounts_alive_at_end_share": ratio(alive_end, created),
        "attacker_cost_per_capability_point_usd": head_op.get(
            "attacker_cost_per_capability_point_usd"
        ),
        "detection_budget_usd_per_day": float(cfg.detection.budget_usd_per_day),
        "analysts": int(d.n_analysts),
        "review_cases": len(cases),
        "review_mean_wait_hours": float(np.mean(waits)) if waits else None,
        "review_backlog_at_end": int(unreviewed),
        "detectors": {
            det.name: {
                "running": bool(det.on),
                "spend_usd_per_day": det.spend,
                "dprime": det.dprime,
                "threshold": finite_or_none(det.tau),
                "coverage": det.coverage,
                "scans": det.scans,
            }
            for det in model.detector_list
        },
        "auto_bans": int(d.auto_bans),
        "sweeps": int(d.sweeps),
        "operators": per_op,
        "legit_tiers": legit.tier_table(),
    }
    return summary


def timeseries(model: DistillationModel) -> pd.DataFrame:
    """Hourly rows per operator; world-level columns repeat on each operator's row."""
    H = int(model.horizon)
    hours = np.arange(H)
    t_end = hours + 1.0
    acc = model.fleet.accounts
    n = model.fleet.n
    stock = capability_series(model)
    led = model.ledger.frame()
    led_h = np.minimum(np.floor(led["hour"].to_numpy()).astype(np.int64).clip(0), H - 1)

    def cum_by_hour(mask: np.ndarray) -> np.ndarray:
        return np.cumsum(np.bincount(led_h[mask], weights=led["usd"].to_numpy()[mask], minlength=H))

    def count_le(times: np.ndarray) -> np.ndarray:
        t = times[np.isfinite(times)]
        idx = np.ceil(t).astype(np.int64) - 1  # an event at time x counts from the hour ending >= x
        idx = idx[idx < H].clip(0)
        return np.cumsum(np.bincount(idx, minlength=H))

    cases = model.defender.queue.cases
    arr = np.array([c.arrived_at for c in cases], dtype=float)
    sta = np.array([c.started_at for c in cases], dtype=float)
    backlog = count_le(arr) - count_le(sta) if cases else np.zeros(H)
    wait = np.full(H, np.nan)
    if cases:
        ok = np.isfinite(sta)
        h_start = np.minimum(np.floor(sta[ok]).astype(np.int64), H - 1)
        w = sta[ok] - arr[ok]
        cnt = np.bincount(h_start, minlength=H)
        tot = np.bincount(h_start, weights=w, minlength=H)
        wait = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    payer = led["payer"].astype(str).to_numpy()
    cat = led["category"].astype(str).to_numpy()
    cash = led["cash"].to_numpy()
    det_mask = (payer == "defender") & np.isin(cat, ["detection", "review_staff"])
    cost_mask = (payer == "defender") & np.isin(cat, list(DEFENDER_COST_CATEGORIES))
    margin = cum_by_hour(
        (led["payee"].astype(str).to_numpy() == "defender") & (cat == "api_fees")
    ) - cum_by_hour((payer == "defender") & (cat == "serving_cost"))
    world = {
        "legit_exchanges": model.legit_h,
        "review_backlog": backlog.astype(float),
        "review_wait_hours": wait,
        "detection_spend_cum_usd": cum_by_hour(det_mask),
        "defender_total_cost_cum_usd": cum_by_hour(cost_mask) - margin,
    }
    frames = []
    for k, op in enumerate(model.operator_list):
        mine = acc.op[:n] == k
        req, act, end = acc.requested_at[:n][mine], acc.active_at[:n][mine], acc.ended_at[:n][mine]
        kind = acc.end_kind[:n][mine]
        started = count_le(np.where(act < end, act, np.inf))
        stopped = count_le(np.where(act < end, end, np.inf))
        g = op.curve.gains(stock[k])
        cols: dict[str, Any] = {
            "hour": hours,
            "day": t_end / 24.0,
            "operator": op.name,
            "exchanges_sent": model.sent_h[k],
            "exchanges_harvested": model.harvested_h[k],
            "effective_exchanges": model.effective_hd[k].sum(axis=1),
            "capability": op.curve.overall(g),
        }
        for i, dm in enumerate(model.domains):
            cols[f"capability_{dm}"] = g[:, i]
        cols.update(
            accounts_created_cum=count_le(req).astype(float),
            accounts_active=(started - stopped).astype(float),
            accounts_banned_cum=count_le(np.where(kind == END_BANNED, end, np.inf)).astype(float),
            attacker_spend_cum_usd=cum_by_hour((payer == op.party) & cash),
        )
        cols.update(world)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)
