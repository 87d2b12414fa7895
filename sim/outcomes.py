"""Outcomes: the summary figures and hourly time series of a finished run (MODEL §6, §7, §10).

One definition per figure, used by every output (each described in :data:`FIELDS`, listed in
docs/OUTPUTS.md). ``defender_total_cost_usd`` is on one basis, the defender's profit: detection as
spent + identity checks + intelligence-sharing time + margin forgone on legitimate customers and
sign-ups lost (false actions, KYC friction, rate limits, poisoned outputs) + support + reseller
collateral + countermeasure compute + the cost of serving attacker traffic − the fees it received.
What legitimate users themselves lose is reported apart (``legit_user_cost_usd``), never added
to it. Ratios with a zero denominator are null, never inf or NaN.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.fleet import END_BANNED, END_RETIRED, END_SCREENED

if TYPE_CHECKING:
    from sim.model import DistillationModel

DETECTION_CATEGORIES = (
    "detection_fixed",
    "detection_inspection",
    "detection_latency",
    "detection_quality",
    "review_staff",
)
DEFENDER_COST_CATEGORIES = (
    *DETECTION_CATEGORIES,
    "kyc_checks",
    "kyc_friction",
    "intel_sharing",
    "false_positives",
    "support",
    "reseller_collateral",
    "utility_loss",
    "rate_limit_loss",
    "poisoning_compute",
    "watermarking",
    "serving_cost",
)
#: What legitimate users lose, by category (reported apart from the defender's cost).
USER_COST_CATEGORIES = {
    "false_actions": "user_false_actions",
    "kyc_friction": "user_kyc_friction",
    "rate_limits": "user_rate_limits",
    "poisoned_output": "user_poisoned_output",
}
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
    """Every defender cost line, fees received from attackers, and the totals built from them."""
    d = ledger[ledger["payer"] == "defender"].groupby("category", observed=True)["usd"].sum()
    costs = {c: float(d.get(c, 0.0)) for c in DEFENDER_COST_CATEGORIES}
    received = ledger[(ledger["payee"] == "defender") & (ledger["category"] == "api_fees")]
    costs["api_fees_received"] = float(received["usd"].sum())
    costs["detection_spend"] = sum(costs[c] for c in DETECTION_CATEGORIES)
    costs["total"] = sum(costs[c] for c in DEFENDER_COST_CATEGORIES) - costs["api_fees_received"]
    users = ledger[ledger["category"].isin(list(USER_COST_CATEGORIES.values()))]
    u = users.groupby("category", observed=True)["usd"].sum()
    for name, c in USER_COST_CATEGORIES.items():
        costs[f"user_{name}"] = float(u.get(c, 0.0))
    return costs


def days_to(curve: np.ndarray, level: float) -> float | None:
    """Days until the hourly ``curve`` first reaches ``level`` (end of that hour); None if never
    (or if the level is not positive)."""
    if level <= 0 or curve.size == 0:
        return None
    hit = np.flatnonzero(curve >= level * (1.0 - 1e-12))
    return float((hit[0] + 1) / 24.0) if hit.size else None


def _relative(curve: np.ndarray, share: float) -> float | None:
    return days_to(curve, share * curve[-1]) if curve.size else None


def level_key(level: float) -> str:
    """Summary key of the time to an absolute capability level (0.1 -> 10 capability points)."""
    return f"days_to_capability_{round(level * 100):d}pts"


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else float(a - b)


def _revealed_preference(model: DistillationModel, k: int, op, rec_cash: float) -> dict:
    """What one more exchange was worth to operator ``k`` at the horizon (value × dG/dN at the
    stock it believed it held, at its quality and mix) against what its exchanges cost it on
    average (its cash over the exchanges it harvested). An operator that stopped where value
    still far exceeds cost had a reason the model does not contain (README, calibration)."""
    harvested = float(model.harvested_h[k].sum())
    n_eff = model.believed_stock[k]
    fr = model.frontier
    # At the lead its latest version has left at delivery (sim.frontier; 1 with the lead fixed).
    share = fr.era_share(fr.latest_release(op.delivery_hour), op.delivery_hour) if fr.moves else 1.0
    mv = op.value_usd * share * op.quality * op.curve.marginal_per_exchange(n_eff, op.mix)
    return {
        "marginal_value_per_exchange_usd": float(mv),
        "cost_per_exchange_usd": ratio(rec_cash, harvested),
    }


def headline_index(model: DistillationModel, caps: np.ndarray) -> int | None:
    """Operator whose figures are the headline: the named one, the largest (``max``), or None
    (``total``: the sum over operators)."""
    mode = model.cfg.analysis.headline
    names = [op.name for op in model.operator_list]
    if mode == "total" or not names:
        return None
    if mode == "max":
        return int(np.argmax(caps))
    return names.index(mode)


def summarize(
    model: DistillationModel, scenario: str, reference: dict[str, Any] | str | None = None
) -> dict[str, Any]:
    """The run's summary (what summary.json holds).

    ``reference``: the summary of the same world and seed with B = 0 (the undefended twin), for
    the times and delays relative to the undefended capability; ``"self"`` for a run at B = 0.
    """
    cfg = model.cfg
    led = model.ledger.frame()
    acc = model.fleet.accounts
    n = model.fleet.n
    H = model.horizon
    stock = capability_series(model)
    ops = model.operator_list
    costs = defender_costs(led)
    d = model.defender
    levels = list(cfg.analysis.capability_levels)

    # A ban counts if it took effect before the horizon (an account banned at the horizon served
    # to the end): the same rule as the time series' cumulative counts.
    ended_before = acc.ended_at[:n] < H
    banned_by_horizon = (acc.end_kind[:n] == END_BANNED) & ended_before
    retired_by_horizon = (acc.end_kind[:n] == END_RETIRED) & ended_before
    per_op: dict[str, dict[str, Any]] = {}
    caps = np.zeros(len(ops))
    curves, gains_final, cash = [], [], np.zeros(len(ops))
    for k, op in enumerate(ops):
        g_hours = op.curve.gains(stock[k])
        overall = op.curve.overall(g_hours)
        curves.append(overall)
        gains_final.append(g_hours[-1] if g_hours.size else np.zeros(len(model.domains)))
        caps[k] = overall[-1] if overall.size else 0.0
        cash[k] = float(led[(led["payer"] == op.party) & led["cash"]]["usd"].sum())
    # Share of the full lead each student's capability is worth when it is delivered, by vintage
    # (sim.frontier; 1 when the lead is fixed).
    lead_share = np.ones(len(ops))
    delivered = np.zeros(len(ops))
    for k, op in enumerate(ops):
        # The student as delivered: its capability at the campaign's end, the releases before
        # it applied (later ones devalue nothing it was delivered with).
        t_d = min(op.delivery_hour, model.horizon)
        h = int(math.ceil(t_d)) - 1
        delivered[k] = float(curves[k][h]) if h >= 0 and curves[k].size else 0.0
        if model.frontier.moves:
            marks = [mk for mk in model.capability_marks[k] if mk[0] < t_d]
            w = float(model.frontier.weighted(marks, delivered[k], t_d))
            lead_share[k] = (
                w / delivered[k] if delivered[k] > 0 else float(model.frontier.lead_share(t_d))
            )
    screened = (acc.end_kind[:n] == END_SCREENED) & ended_before
    price = acc.price_usd[:n]
    for k, op in enumerate(ops):
        mine = acc.op[:n] == k
        overall = curves[k]
        p_final = model.final_attribution[k]
        penalty = model.expected_penalty[k]
        rec = {
            "label": op.cfg.label or op.name,
            "exchanges_sent": float(acc.sent[:n][mine].sum()),
            "exchanges_harvested": float(acc.harvested[:n][mine].sum()),
            "exchanges_attributed": float(acc.harvested[:n][mine & acc.attributed[:n]].sum()),
            "effective_exchanges": float(stock[k, -1].sum()) if stock.shape[1] else 0.0,
            "accounts_created": int(mine.sum()),
            "accounts_attributed": int((mine & acc.attributed[:n]).sum()),
            "accounts_banned": int((mine & banned_by_horizon).sum()),
            "accounts_retired": int((mine & retired_by_horizon).sum()),
            "accounts_screened": int((mine & screened).sum()),
            "accounts_alive_at_end": int((mine & ~ended_before).sum()),
            "account_spend_usd": float(price[mine].sum()),
            "account_mean_price_usd": ratio(float(price[mine].sum()), int(mine.sum())),
            "clusters_opened": int((model.fleet.clusters.view("op") == k).sum()),
            "capability_extracted": float(caps[k]),
            "capability_by_domain": {
                dm: float(v) for dm, v in zip(model.domains, gains_final[k], strict=True)
            },
            "days_to_50pct_of_final_capability": _relative(overall, 0.5),
            "days_to_80pct_of_final_capability": _relative(overall, 0.8),
            **{level_key(lv): days_to(overall, lv) for lv in levels},
            "capability_days": float(overall.sum() / 24.0),
            "value_usd": float(op.value_usd),
            "delivered_at_hours": finite_or_none(op.delivery_hour) if op.go else None,
            "capability_at_delivery": float(delivered[k]),
            "lead_share_at_delivery": float(lead_share[k]) if op.go else None,
            "attacker_spend_usd": float(cash[k]),
            "attacker_cost_per_capability_point_usd": ratio(cash[k], caps[k] * 100.0),
            "expected_penalty_usd": float(penalty),
            "attribution_probability": float(p_final),
            "confirmation_decisions": float(d.decisions_by_op[k]),
            "attributed_in_run": bool(d.attributed_at[k] < math.inf),
            "attributed_at_hours": finite_or_none(d.attributed_at[k]),
            "blacklisted_at_hours": finite_or_none(d.blacklisted_at[k]),
            "demand_per_day_final": float(op.demand),
            "net_value_usd": float(op.value_usd * lead_share[k] * delivered[k] - cash[k] - penalty),
            "went": bool(op.go),
            "stopped_at_hours": finite_or_none(op.stopped_at),
            "stop_reason": op.stop_reason or None,
            "cadence_per_day_final": float(op.cadence),
            "harvest_cadence_per_day_final": float(op.harvest_cadence),
            "obfuscation_final": float(op.obfuscation),
            "cluster_size_final": int(op.cluster_size),
            **_revealed_preference(model, k, op, rec_cash=float(cash[k])),
        }
        per_op[op.name] = rec

    # The headline: one operator's figures (named, or the largest leak), or the sum over them.
    # Every attacker-side headline figure comes from the same operator(s).
    head = headline_index(model, caps)
    if head is not None:
        curve = curves[head]
        by_domain = per_op[ops[head].name]["capability_by_domain"]
        scope = [head]
    else:
        curve = np.sum(curves, axis=0) if curves else np.zeros(int(H))
        by_domain = {
            dm: float(sum(g[i] for g in gains_final)) for i, dm in enumerate(model.domains)
        }
        scope = list(range(len(ops)))
    cap = float(curve[-1]) if curve.size else 0.0
    # Months erased: the students as delivered, at the lead left then (sim.frontier; the full
    # lead when it is fixed).
    erased = float(sum(delivered[k] * lead_share[k] for k in scope))
    net = sum(per_op[ops[k].name]["net_value_usd"] for k in scope)
    head_cash = float(sum(cash[k] for k in scope))

    ended = acc.ended_at[:n]
    active = acc.active_at[:n]
    # Usable life of banned accounts; one banned while still in set-up (a cluster sweep) never
    # served and is left out rather than counted as a zero-hour life.
    lived = banned_by_horizon & (ended > active)
    lifetimes = ended[lived] - active[lived]
    alive_end = int((ended >= H).sum())
    legit = model.legit
    # Unthinned, every weight is 1: the sums are counts (exactly what the float sums give).
    legit_total = float(legit.n) if not legit.thinned else float(legit.weight.sum())
    arrived, started, _ = d.queue.case_times()
    reviewed = started == started
    waits = started[reviewed] - arrived[reviewed]
    unreviewed = int((~reviewed).sum())
    days = H / 24.0
    budget = float(cfg.detection.budget_usd_per_day)
    # What the leak costs the defender shrinks with the lead left when each student is delivered.
    leak_value = (
        cfg.defender.value_usd_per_capability_point * 100.0 * float((delivered * lead_share).sum())
    )
    user_cost = sum(costs[f"user_{k}"] for k in USER_COST_CATEGORIES)
    summary: dict[str, Any] = {
        "scenario": scenario,
        "seed": int(cfg.seed),
        "attacker_mode": cfg.attacker.mode,
        "days": cfg.world.days,
        "headline": cfg.analysis.headline,
        "headline_operator": ops[head].name if head is not None else None,
        "capability_extracted": cap,
        "teacher_lead_months": cfg.teacher.lead_months,
        "teacher_lead_months_erased": None
        if cfg.teacher.lead_months is None
        else float(cfg.teacher.lead_months) * erased,
        "capability_by_domain": by_domain,
        "capability_by_day": [float(x) for x in curve[23::24]],
        "days_to_50pct_of_final_capability": _relative(curve, 0.5),
        "days_to_80pct_of_final_capability": _relative(curve, 0.8),
        **{level_key(lv): days_to(curve, lv) for lv in levels},
        "capability_days": float(curve.sum() / 24.0),
        "exchanges_sent": float(acc.sent[:n].sum()),
        "exchanges_harvested": float(acc.harvested[:n].sum()),
        "exchanges_attributed": float(acc.harvested[:n][acc.attributed[:n]].sum()),
        "accounts_created": int(n),
        "accounts_attributed": int(acc.attributed[:n].sum()),
        "accounts_banned": int(banned_by_horizon.sum()),
        "accounts_retired": int(retired_by_horizon.sum()),
        "accounts_confirmed": int(acc.confirmed[:n].sum()),
        "accounts_screened": int(screened.sum()),
        "account_spend_usd": float(price.sum()),
        "account_mean_price_usd": ratio(float(price.sum()), n),
        "market": model.market.summary(),
        "clusters_known": int(np.isfinite(model.fleet.clusters.view("known_at")).sum()),
        "confirmation_decisions": float(d.decisions_by_op.sum()),
        "legit_accounts": int(legit.accounts_total),
        "attacker_account_share": ratio(n, n + legit.accounts_total),
        "legit_accounts_banned": float(d.legit_false_bans),
        "legit_accounts_acted_on": float(d.legit_false_actions),
        "reseller_customers_hit": float(d.reseller_customers_hit),
        "fpr_per_window": ratio(d.legit_flag_events, legit_total * model.scan_windows),
        "fpr_per_account_horizon": ratio(
            float(np.count_nonzero(legit.ever_flagged))
            if not legit.thinned
            else float((legit.weight * legit.ever_flagged).sum()),
            legit_total,
        ),
        "attacker_spend_usd": head_cash,
        "attacker_net_value_usd": float(net),
        "expected_penalty_usd": float(sum(model.expected_penalty[k] for k in scope)),
        "attribution_probability": float(np.mean(model.final_attribution[scope])) if ops else 0.0,
        "attributed_in_run": bool(np.any(d.attributed_at[scope] < math.inf)) if ops else False,
        "attribution_hours": finite_or_none(
            float(np.min(d.attributed_at[scope])) if ops else math.inf
        ),
        "blacklisted_at_hours": finite_or_none(
            float(np.min(d.blacklisted_at[scope])) if ops else math.inf
        ),
        "detection_budget_usd": budget * days,
        "detection_spend_usd": costs["detection_spend"],
        "detection_unspent_usd": budget * days - costs["detection_spend"],
        "defender_total_cost_usd": costs["total"],
        "false_positive_cost_usd": costs["false_positives"] + costs["support"],
        "reseller_collateral_usd": costs["reseller_collateral"],
        "kyc_checks_usd": costs["kyc_checks"],
        "kyc_friction_usd": costs["kyc_friction"],
        "kyc_cost_usd": costs["kyc_checks"] + costs["kyc_friction"],
        "intel_sharing_cost_usd": costs["intel_sharing"],
        "countermeasure_cost_usd": (
            costs["utility_loss"]
            + costs["rate_limit_loss"]
            + costs["poisoning_compute"]
            + costs["watermarking"]
        ),
        "attacker_fees_received_usd": costs["api_fees_received"],
        "attacker_serving_cost_usd": costs["serving_cost"],
        "attacker_traffic_net_usd": costs["api_fees_received"] - costs["serving_cost"],
        "legit_user_cost_usd": user_cost,
        **{f"legit_user_cost_{k}_usd": costs[f"user_{k}"] for k in USER_COST_CATEGORIES},
        "defender_value_of_leak_usd": leak_value,
        "defender_cost_with_leak_usd": costs["total"] + leak_value,
        "first_detection_hours": finite_or_none(d.first_detection_at),
        "first_flag_hours": finite_or_none(d.first_flag_at),
        "mean_account_lifetime_hours": float(lifetimes.mean()) if lifetimes.size else None,
        "accounts_alive_at_end_share": ratio(alive_end, n),
        "attacker_cost_per_capability_point_usd": ratio(head_cash, cap * 100.0),
        "detection_budget_usd_per_day": budget,
        "analysts": int(d.n_analysts),
        "review_cases": int(arrived.size),
        "review_mean_wait_hours": float(np.mean(waits)) if waits.size else None,
        "review_mean_backlog": (
            float(review_waiting(arrived, started, int(H)).mean()) if arrived.size else 0.0
        ),
        "review_backlog_at_end": int(unreviewed),
        "detectors": {
            det.name: {
                "running": bool(det.on),
                "allocated_usd_per_day": det.spend,
                "fixed_usd_per_day": det.paid["fixed"] / days,
                "inspection_usd_per_day": det.paid["inspection"] / days,
                "latency_usd_per_day": det.paid["latency"] / days,
                "quality_usd_per_day": det.paid["quality"] / days,
                "unspent_usd_per_day": det.spend - sum(det.paid.values()) / days,
                "dprime": det.dprime,
                "threshold": finite_or_none(det.tau),
                "coverage_target": float(det.params.coverage),
                "coverage": det.mean_coverage,
                "cadence_hours": det.period,
                "processing_hours": det.processing_hours,
                "scans": det.scans,
            }
            for det in model.detector_list
        },
        "auto_bans": int(d.auto_bans),
        "sweeps": int(d.sweeps),
        "operators": per_op,
        "legit_tiers": legit.tier_table(model.margin),
    }
    ref = summary if reference == "self" else reference
    summary.update(relative_to_undefended(curve, ref, ops[head].name if head is not None else None))
    return summary


def relative_to_undefended(
    curve: np.ndarray, reference: dict[str, Any] | None, operator: str | None = None
) -> dict[str, Any]:
    """Times to 50%/80% of the undefended twin's final capability, and the delay against the
    twin's own times to them (its own operator's, for a one-operator headline).

    The delay is censored at the horizon: a run that never reaches the level counts as reaching
    it at the horizon, so its delay is a lower bound (``days_to_…_of_undefended`` stays null and
    says which runs never did). Null without a twin, or when the twin gained nothing.
    """
    out: dict[str, Any] = {}
    ref = reference
    if ref is not None and operator is not None:
        ref = ref.get("operators", {}).get(operator)
    c0 = ref["capability_extracted"] if ref else None
    out["undefended_capability_extracted"] = c0
    horizon_days = curve.size / 24.0
    for pct in (50, 80):
        mine = days_to(curve, pct / 100 * c0) if c0 else None
        theirs = ref.get(f"days_to_{pct}pct_of_final_capability") if ref else None
        out[f"days_to_{pct}pct_of_undefended"] = mine
        reached = horizon_days if mine is None else mine
        out[f"delay_days_{pct}pct_vs_undefended"] = _sub(reached, theirs) if c0 else None
    return out


def review_waiting(arr: np.ndarray, sta: np.ndarray, H: int) -> np.ndarray:
    """Mean number of cases waiting for an analyst during each hour (a time average).

    Its mean over the run is therefore Σ waiting time / H = arrival rate × mean wait (Little's
    law); a case not started by the horizon waits until the horizon.
    """
    sta = np.where(np.isfinite(sta), sta, float(H))
    bounds = np.arange(H + 1, dtype=float)

    def integral(x: np.ndarray) -> np.ndarray:
        """Σ_i min(x_i, T) at each hour boundary T."""
        x = np.sort(np.clip(x, 0.0, float(H)))
        below = np.searchsorted(x, bounds, side="right")
        csum = np.concatenate([[0.0], np.cumsum(x)])
        return csum[below] + bounds * (x.size - below)

    waiting_time = integral(sta) - integral(arr)  # ∫₀ᵀ (number waiting) dt
    return np.diff(waiting_time)


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

    def count_before(times: np.ndarray) -> np.ndarray:
        """Events that happened before the end of each hour: at time x, from row floor(x) (an
        event at exactly the horizon has not happened within it)."""
        t = times[np.isfinite(times)]
        idx = np.floor(t).astype(np.int64)
        idx = idx[idx < H].clip(0)
        return np.cumsum(np.bincount(idx, minlength=H))

    arr, sta, _ = model.defender.queue.case_times()
    backlog = review_waiting(arr, sta, H) if arr.size else np.zeros(H)
    wait = np.full(H, np.nan)
    if arr.size:
        ok = np.isfinite(sta)
        h_start = np.minimum(np.floor(sta[ok]).astype(np.int64), H - 1)
        w = sta[ok] - arr[ok]
        cnt = np.bincount(h_start, minlength=H)
        tot = np.bincount(h_start, weights=w, minlength=H)
        wait = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    payer = led["payer"].astype(str).to_numpy()
    cat = led["category"].astype(str).to_numpy()
    cash = led["cash"].to_numpy()
    det_mask = (payer == "defender") & np.isin(cat, list(DETECTION_CATEGORIES))
    cost_mask = (payer == "defender") & np.isin(cat, list(DEFENDER_COST_CATEGORIES))
    received = cum_by_hour(
        (led["payee"].astype(str).to_numpy() == "defender") & (cat == "api_fees")
    )
    world = {
        "legit_exchanges": model.legit_h,
        # Time average over the hour (its mean over the run is arrivals × mean wait).
        "review_backlog": backlog.astype(float),
        "review_wait_hours": wait,
        "detection_spend_cum_usd": cum_by_hour(det_mask),
        "defender_total_cost_cum_usd": cum_by_hour(cost_mask) - received,
    }
    frames = []
    for k, op in enumerate(model.operator_list):
        mine = acc.op[:n] == k
        req, act, end = acc.requested_at[:n][mine], acc.active_at[:n][mine], acc.ended_at[:n][mine]
        kind = acc.end_kind[:n][mine]
        started = count_before(np.where(act < end, act, np.inf))
        stopped = count_before(np.where(act < end, end, np.inf))
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
            accounts_created_cum=count_before(req).astype(float),
            accounts_active=(started - stopped).astype(float),
            accounts_banned_cum=count_before(np.where(kind == END_BANNED, end, np.inf)).astype(
                float
            ),
            attacker_spend_cum_usd=cum_by_hour((payer == op.party) & cash),
        )
        cols.update(world)
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)
