"""The readable summary printed after a run."""

from __future__ import annotations

from typing import Any


def _money(x: float | None) -> str:
    if x is None:
        return "n/a"
    a, sign = abs(x), "-" if x < 0 else ""
    if a >= 1e9:
        return f"{sign}${a / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.2f}M"
    if a >= 1e3:
        return f"{sign}${a / 1e3:,.1f}k"
    return f"{sign}${a:,.2f}"


def _num(x: float | None, nd: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{nd}f}"


def _when(x: float | None) -> str:
    """A point in time: hour and day of the campaign."""
    return "never" if x is None else f"hour {x:,.1f} (day {x / 24:,.1f})"


def _duration(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.1f} h ({x / 24:,.1f} days)"


def _speed(d: dict[str, Any]) -> str:
    """Cadence and processing latency, when not the daily batch's."""
    c = d.get("cadence_hours", 24.0)
    if c == 24.0 and not d.get("latency_usd_per_day"):
        return ""
    return f", every {c:g} h, flags to review in {d.get('processing_hours', 0):g} h"


def _detectors(s: dict[str, Any]) -> str:
    on = [
        f"{k} (d′ {d['dprime']:.2f}, coverage {d['coverage']:.0%}{_speed(d)})"
        for k, d in s["detectors"].items()
        if d["running"]
    ]
    off = [k for k, d in s["detectors"].items() if not d["running"]]
    text = ", ".join(on) if on else "none"
    if off:
        text += f"; off (share below fixed cost): {', '.join(off)}"
    return text


def _headline(s: dict[str, Any]) -> str:
    if len(s["operators"]) <= 1:
        return ""
    if s["headline"] == "total":
        return " (summed over operators)"
    if s["headline"] == "max":
        return f" (largest operator's: {s['headline_operator']})"
    return f" (operator {s['headline_operator']})"


def _delay(s: dict[str, Any], pct: int) -> str:
    d = s.get(f"delay_days_{pct}pct_vs_undefended")
    if s.get("undefended_capability_extracted") is None:
        return "n/a"
    return "never reached" if d is None else f"{d:+,.2f} days"


def _best_response_rows(br: dict[str, Any]) -> list[tuple[str, str]]:
    """The chosen levers and the search's gain over the fixed policy (training replicates)."""
    lev = br["levers"]
    if not lev.get("go", True):
        chosen = "no-go"
    else:
        parts = []
        for k, v in lev.items():
            if k == "go":
                continue
            if isinstance(v, dict):
                v = ", ".join(f"{n} ×{x:.2f}" for n, x in v.items())
                parts.append(f"supplier weights {v}" if v else "")
            elif isinstance(v, float):
                parts.append(f"{k} {v:.2f}")
            else:
                parts.append(f"{k} {v}")
        chosen = "; ".join(p for p in parts if p)
    return [
        ("best response (levers)", chosen),
        (
            "  its net value vs fixed (training)",
            f"{_money(br['train_net_value_usd'])} vs {_money(br['fixed_train_net_value_usd'])}, "
            f"{len(br['trials'])} trials in {br['search_seconds']:,.1f} s"
            + (" (from the cache)" if br.get("from_cache") else "")
            + (
                f"; warm-started from B = {_money(br['warm_start_budget_usd_per_day'])}/day"
                if br.get("warm_start_budget_usd_per_day") is not None
                else ""
            )
            + (f"; at a bound: {', '.join(br['at_bounds'])}" if br.get("at_bounds") else ""),
        ),
    ]


def format_summary(s: dict[str, Any]) -> str:
    """A two-column table of the headline figures, then one line per operator."""
    wait = s["review_mean_wait_hours"]
    levels = [k for k in s if k.startswith("days_to_capability_") and k.endswith("pts")]
    undef = s.get("undefended_capability_extracted")
    rows = [
        ("scenario / seed / attacker", f"{s['scenario']} / {s['seed']} / {s['attacker_mode']}"),
        ("detection budget", f"{_money(s['detection_budget_usd_per_day'])}/day"),
        ("detectors running", _detectors(s)),
        (
            "capability extracted",
            f"{s['capability_extracted']:.3f} of the gap{_headline(s)}"
            + ("" if undef is None else f"; undefended (B = 0, same seed) {undef:.3f}"),
        ),
        *(
            [
                (
                    "  teacher's lead erased",
                    f"{s['teacher_lead_months_erased']:.2f} of its "
                    f"{s['teacher_lead_months']:g} months over open-weight models",
                )
            ]
            if s.get("teacher_lead_months_erased") is not None
            else []
        ),
        ("  by domain", ", ".join(f"{k} {v:.2f}" for k, v in s["capability_by_domain"].items())),
        (
            "delay to 50% / 80% of undefended",
            f"{_delay(s, 50)} / {_delay(s, 80)}",
        ),
        (
            "days to "
            + ", ".join(f"{k.split('_')[-1][:-3]}" for k in levels)
            + " capability points",
            " / ".join(_num(s[k], 1) if s[k] is not None else "never" for k in levels),
        ),
        (
            "exchanges harvested (attributed)",
            f"{_num(s['exchanges_harvested'])} ({_num(s['exchanges_attributed'])})",
        ),
        (
            "accounts created (attributed, banned, retired, screened)",
            f"{_num(s['accounts_created'])} ({_num(s['accounts_attributed'])}, "
            f"{_num(s['accounts_banned'])}, {_num(s['accounts_retired'])}, "
            f"{_num(s['accounts_screened'])})",
        ),
        (
            "accounts: spend (mean price)",
            f"{_money(s['account_spend_usd'])} ({_money(s['account_mean_price_usd'])})"
            + "".join(
                f"; {k} {_num(v['accounts_bought'])}"
                + ("" if v["mean_price_usd"] is None else f" at {_money(v['mean_price_usd'])}")
                for k, v in s["market"].items()
            ),
        ),
        (
            "first flag / first detection",
            f"{_when(s['first_flag_hours'])} / {_when(s['first_detection_hours'])}",
        ),
        ("mean banned-account lifetime", _duration(s["mean_account_lifetime_hours"])),
        (
            "accounts alive at the end",
            "n/a"
            if s["accounts_alive_at_end_share"] is None
            else f"{100 * s['accounts_alive_at_end_share']:.1f}%",
        ),
        (
            "attacker spend (net value)",
            f"{_money(s['attacker_spend_usd'])} ({_money(s['attacker_net_value_usd'])})"
            + _headline(s),
        ),
        ("attacker cost per capability point", _money(s["attacker_cost_per_capability_point_usd"])),
        (
            "P(attribution) at the end (attributed in-run?)",
            f"{s['attribution_probability']:.2f} ({'yes' if s['attributed_in_run'] else 'no'})",
        ),
        (
            "detection spent (unspent)",
            f"{_money(s['detection_spend_usd'])} ({_money(s['detection_unspent_usd'])})",
        ),
        (
            "net on attacker traffic (fees − serving)",
            f"{_money(s['attacker_traffic_net_usd'])} ({_money(s['attacker_fees_received_usd'])}"
            f" − {_money(s['attacker_serving_cost_usd'])})",
        ),
        ("defender total cost", _money(s["defender_total_cost_usd"])),
        (
            "legit accounts wrongly acted on, defender's cost",
            f"{_num(s['legit_accounts_acted_on'])}, {_money(s['false_positive_cost_usd'])}",
        ),
        (
            "legitimate users' own loss",
            f"{_money(s['legit_user_cost_usd'])}: false actions "
            f"{_money(s['legit_user_cost_false_actions_usd'])}, KYC friction "
            f"{_money(s['legit_user_cost_kyc_friction_usd'])}, rate limits "
            f"{_money(s['legit_user_cost_rate_limits_usd'])}, poisoned output "
            f"{_money(s['legit_user_cost_poisoned_output_usd'])}",
        ),
        (
            "reseller customers cut off, cost",
            f"{_num(s['reseller_customers_hit'])}, {_money(s['reseller_collateral_usd'])}",
        ),
        (
            "legit flag rate per window / horizon",
            f"{_num((s['fpr_per_window'] or 0) * 100, 4)}% / "
            f"{_num((s['fpr_per_account_horizon'] or 0) * 100, 3)}%",
        ),
        (
            "review: analysts, cases, wait, backlog, left",
            f"{s['analysts']}, {s['review_cases']:,}, "
            f"{'n/a' if wait is None else f'{wait:,.1f} h'}, {s['review_mean_backlog']:,.1f}, "
            f"{s['review_backlog_at_end']:,}",
        ),
    ]
    for name, o in s["operators"].items():
        if not o["went"]:
            rows.append((f"operator {name}", "did not start (no-go)"))
        elif o["stop_reason"]:
            rows.append(
                (
                    f"operator {name}",
                    f"stopped at {_when(o['stopped_at_hours'])}: {o['stop_reason']}",
                )
            )
    br = s.get("best_response")
    if br:
        rows += _best_response_rows(br)
    w = max(len(r[0]) for r in rows)
    out = [f"{k.ljust(w)}  {v}" for k, v in rows]
    if len(s["operators"]) > 1:
        out.append("")
        out.append("operator     capability  harvested     attributed    accounts  spend")
        for name, o in s["operators"].items():
            out.append(
                f"{name:<12} {o['capability_extracted']:>10.3f}  {o['exchanges_harvested']:>12,.0f}"
                f"  {o['exchanges_attributed']:>12,.0f}  {o['accounts_created']:>8,}  "
                f"{_money(o['attacker_spend_usd'])}"
            )
    return "\n".join(out)


def format_world_summary(s: dict[str, Any]) -> str:
    """A world of several providers: the world's figures, one line per provider and operator."""
    names = s["providers"]
    rows = [
        ("scenario / seed / attacker", f"{s['scenario']} / {s['seed']} / {s['attacker_mode']}"),
        ("providers", ", ".join(names)),
        ("capability extracted", f"{s['capability_extracted']:.3f} of the gap{_headline(s)}"),
        ("defender total cost", f"{_money(s['defender_total_cost_usd'])} (all providers)"),
        ("detection spend", _money(s["detection_spend_usd"])),
        (
            "attacker spend / net value",
            f"{_money(s['attacker_spend_usd'])} / {_money(s['attacker_net_value_usd'])}",
        ),
        ("traffic displaced", f"{_num(s['traffic_displaced_per_day'])} exchanges/day moved"),
    ]
    for n in names:
        p = f"provider.{n}."
        rows.append(
            (
                f"  {n}",
                f"{s[p + 'teacher']}: capability {s[p + 'capability_extracted']:.3f}, "
                f"{_num(s[p + 'exchanges_harvested'])} exchanges, "
                f"{_num(s[p + 'accounts_banned'])} bans, "
                f"cost {_money(s[p + 'defender_total_cost_usd'])}, "
                f"in {_num(s[p + 'displaced_in_per_day'])} / out "
                f"{_num(s[p + 'displaced_out_per_day'])} a day",
            )
        )
    for name, o in s["operators"].items():
        split = ", ".join(f"{k} {v:.0%}" for k, v in o["demand_share_final"].items())
        rows.append(
            (
                f"  operator {name}",
                f"capability {o['capability_extracted']:.3f}; demand split at the end: {split}",
            )
        )
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
