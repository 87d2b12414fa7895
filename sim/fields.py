"""What every figure of a run's ``summary.json`` means (MODEL §7, §8, §10): one line each.

docs/OUTPUTS.md is generated from these (``python -m sim.fields > docs/OUTPUTS.md``) and a test
checks that the summary has exactly these keys and that the page is up to date.
"""

from __future__ import annotations

#: Top-level summary keys. ``<N>`` stands for each level of ``analysis.capability_levels``
#: in capability points (0.1 of the gap = 10 points).
SUMMARY: dict[str, str] = {
    "scenario": "scenario name",
    "seed": "root seed of the run's random streams",
    "replicate": "replicate index within a sweep (sweeps only)",
    "attacker_mode": "attacker strategy (fixed, adaptive)",
    "days": "horizon in days",
    "headline": "analysis.headline: max (largest operator's), total (summed) or an operator",
    "headline_operator": "the operator whose figures are the headline (null for total)",
    "capability_extracted": "headline capability at the horizon: share of the teacher-student gap "
    "closed, value-weighted over domains (a capability point is 0.01)",
    "teacher_lead_months": "teacher.lead_months: the teacher's lead over the best open-weight "
    "model in months (null: not configured)",
    "teacher_lead_months_erased": "months of the teacher's lead erased: teacher_lead_months x "
    "the headline's capability at delivery x its lead share then (null where the lead is not "
    "configured; with the lead fixed and the campaign running to the horizon, x "
    "capability_extracted)",
    "capability_by_domain": "headline gap closed per domain at the horizon",
    "capability_by_day": "headline capability at the end of each day",
    "days_to_50pct_of_final_capability": "days to half of this run's own final capability "
    "(relative: a campaign cut short reaches it sooner)",
    "days_to_80pct_of_final_capability": "days to 80% of this run's own final capability "
    "(relative)",
    "days_to_capability_<N>pts": "days until the headline capability first reaches N points "
    "(absolute; null if never)",
    "capability_days": "area under the headline capability curve (capability x days)",
    "undefended_capability_extracted": "final capability of the undefended twin: the same config "
    "and seed with B = 0 (null without analysis.undefended_reference)",
    "days_to_50pct_of_undefended": "days until this run reaches half of the undefended twin's "
    "final capability (null if never)",
    "days_to_80pct_of_undefended": "days until this run reaches 80% of the undefended twin's final "
    "capability (null if never)",
    "delay_days_50pct_vs_undefended": "days_to_50pct_of_undefended minus the twin's own time to "
    "it (the same operator's for a one-operator headline): the delay detection buys; censored at "
    "the horizon (a run that never reaches the level counts as reaching it then: a lower bound)",
    "delay_days_80pct_vs_undefended": "the same at 80% of the undefended capability",
    "exchanges_sent": "attacker requests sent (all operators)",
    "exchanges_harvested": "attacker exchanges answered (all operators)",
    "exchanges_attributed": "harvested exchanges on accounts the defender attributed (the "
    "disclosed kind of figure)",
    "accounts_created": "attacker accounts bought",
    "accounts_attributed": "attacker accounts the defender attributed (confirmed, swept, found "
    "by investigation)",
    "accounts_banned": "attacker accounts banned before the horizon",
    "accounts_retired": "attacker accounts retired by their operator after noticing a throttle "
    "or degraded outputs, before the horizon",
    "accounts_confirmed": "attacker accounts confirmed by review or auto-ban",
    "accounts_screened": "attacker accounts blocked at sign-up by screening on learned "
    "indicators before the horizon (paid for, never served; not counted as banned)",
    "account_spend_usd": "what all operators paid for accounts (identity-check attempts included)",
    "account_mean_price_usd": "account_spend_usd / accounts_created",
    "market": "per account supplier (market on): accounts bought, mean price paid, mean wait for "
    "stock, share of its identities burned at the horizon and its usable price then",
    "clusters_known": "attacker clusters whose infrastructure the defender learned from a "
    "confirmation (learning on)",
    "confirmation_decisions": "confirmation decisions (the attribution evidence: one per review "
    "or auto-banned unit, however many accounts it covers)",
    "legit_accounts": "legitimate accounts in the world",
    "attacker_account_share": "attacker accounts / all accounts (the base rate)",
    "legit_accounts_banned": "legitimate accounts wrongly banned",
    "legit_accounts_acted_on": "legitimate accounts wrongly banned, throttled or degraded",
    "reseller_customers_hit": "reseller customers cut off with banned mixed accounts (in median "
    "legitimate customers' traffic)",
    "fpr_per_window": "legitimate flags per account and window in which a detector scored (a "
    "day in the default 24 h window, whatever the detectors' cadence)",
    "fpr_per_account_horizon": "share of legitimate accounts flagged at least once",
    "attacker_spend_usd": "cash spend of the headline operator (all operators' for total); "
    "every operator's is in operators",
    "attacker_net_value_usd": "value x capability at delivery x lead share at delivery − cash − "
    "expected penalty, of the headline operator (summed for total; MODEL §8: the capability at the "
    "campaign's end, before later releases devalue it, and the lead share 1 with the lead fixed)",
    "expected_penalty_usd": "P(attribution) x the sanctions chain's P(public) x P(enacted) x "
    "P(enforced) x penalty, discounted over the lags (MODEL §8), of the headline operator "
    "(summed for total)",
    "attribution_probability": "P(attribution) given the evidence held at the horizon, watermark "
    "evidence included (the headline operator's; the mean over operators for total)",
    "attributed_in_run": "whether the in-run attribution draw came up (under an enacted sanctions "
    "regime it can lead to a blacklist; "
    "for total: for any operator)",
    "attribution_hours": "hour of the (first) in-run attribution (null if none)",
    "blacklisted_at_hours": "hour an enacted sanctions regime blacklisted the (first) headline "
    "operator inside the run (null if none; it then routes front_company_share of its demand "
    "through front companies: operators.<op>.demand_per_day_final)",
    "detection_budget_usd": "B x days: the detection budget over the horizon",
    "detection_spend_usd": "what the budget bought: detectors' fixed costs, inspection, faster "
    "processing latency, quality, and analysts",
    "detection_unspent_usd": "detection_budget_usd − detection_spend_usd (not reallocated)",
    "defender_total_cost_usd": "the defender's cost, on its profit basis: detection spend + "
    "identity checks + intelligence sharing + forgone margin (false actions, KYC friction, rate "
    "limits, poisoned outputs) + support + reseller collateral + countermeasure compute + serving "
    "attacker traffic − fees received from it",
    "false_positive_cost_usd": "margin forgone on legitimate customers wrongly acted on (their "
    "remaining lifetime for a churned customer) + support",
    "reseller_collateral_usd": "support and reputation per reseller customer cut off",
    "kyc_checks_usd": "identity checks paid (attackers' and legitimate sign-ups)",
    "kyc_friction_usd": "margin forgone on sign-ups lost to verification friction",
    "kyc_cost_usd": "kyc_checks_usd + kyc_friction_usd",
    "intel_sharing_cost_usd": "analyst time spent on intelligence sharing",
    "countermeasure_cost_usd": "margin forgone on poisoned legitimate outputs and refused "
    "requests, + poisoning and watermarking compute",
    "attacker_fees_received_usd": "API fees the defender received from attacker traffic",
    "attacker_serving_cost_usd": "(1 − gross margin) x list price of every attacker exchange "
    "served",
    "attacker_traffic_net_usd": "fees received − serving cost (negative: served at a loss)",
    "legit_user_cost_usd": "what legitimate users themselves lose, at revenue (not in the "
    "defender's total): the four parts below",
    "legit_user_cost_false_actions_usd": "service lost to false bans, throttles and degradation",
    "legit_user_cost_kyc_friction_usd": "lifetime service of sign-ups lost to friction",
    "legit_user_cost_rate_limits_usd": "refused legitimate requests",
    "legit_user_cost_poisoned_output_usd": "value lost on wrongly poisoned outputs",
    "defender_value_of_leak_usd": "defender.value_usd_per_capability_point x capability points "
    "delivered x lead share at delivery, summed over operators",
    "defender_cost_with_leak_usd": "defender_total_cost_usd + defender_value_of_leak_usd",
    "first_detection_hours": "hour of the first confirmed attacker account (null if none)",
    "first_flag_hours": "hour of the first flag of an attacker account (null if none)",
    "mean_account_lifetime_hours": "mean usable life of banned attacker accounts",
    "accounts_alive_at_end_share": "share of attacker accounts alive at the horizon (censored)",
    "attacker_cost_per_capability_point_usd": "the headline's cash per headline capability point",
    "detection_budget_usd_per_day": "B",
    "analysts": "analysts hired from the review share",
    "review_cases": "review cases (in thinned worlds, the thinned-out accounts' cases too)",
    "review_mean_wait_hours": "mean wait from arrival to review, over cases reviewed",
    "review_mean_backlog": "time-averaged number of cases waiting (= arrival rate x mean wait "
    "within the horizon, Little's law)",
    "review_backlog_at_end": "cases not reviewed by the horizon",
    "detectors": "per detector: allocated, fixed, inspection, latency, quality and unspent $/day, "
    "d′, threshold, target and realised coverage, cadence and processing latency (hours), scans",
    "auto_bans": "accounts banned without review",
    "sweeps": "cluster sweeps",
    "operators": "per operator: the figures above that apply to one operator, plus its final "
    "cadence, harvest cadence, obfuscation, cluster size and demand, the clusters it opened, its "
    "stop reason, and the revealed-preference diagnostic: marginal_value_per_exchange_usd (value x "
    "dG/dN at the horizon, at the stock it believed it held) against cost_per_exchange_usd (its "
    "cash per exchange harvested)"
    "; and the student as delivered (sim.frontier): delivered_at_hours (the campaign's end), "
    "capability_at_delivery (its capability then, before any later release devalues it) and "
    "lead_share_at_delivery (the share of the teacher's lead that capability is worth then, by "
    "vintage; 1 when teacher.open_catch_up_months_per_month is 0; null for a campaign that never "
    "went)",
    "legit_tiers": "per legitimate tier: size, usage, revenue, remaining lifetime, false-ban cost "
    "to the defender and to the user",
    "wall_seconds": "wall-clock seconds of the simulation (twin included)",
    "best_response": "attacker=best_response only: the levers the search chose, their mean net "
    "value on the training replicates (and each one's) against the fixed policy's, every trial "
    "(levers, net value, best so far), at_bounds (levers within 2% of a bound of the search "
    "space), the search's seconds and from_cache (the search was served from the cache)",
}


#: Summary keys of a world with several providers (``providers:``, MODEL §12), besides
#: ``provider.<name>.*`` (:data:`PROVIDER`). A world of one provider has today's summary.
WORLD: dict[str, str] = {
    "scenario": "scenario name",
    "seed": "root seed of the run's random streams",
    "replicate": "replicate index within a sweep (sweeps only)",
    "attacker_mode": "attacker strategy (fixed, adaptive)",
    "days": "horizon in days",
    "providers": "the providers, in order (provider 0 first: it keeps the run's own streams)",
    "headline": "analysis.headline: max (largest operator's), total (summed) or an operator",
    "headline_operator": "the operator whose figures are the headline (null for total)",
    "capability_extracted": "headline capability from all teachers at the horizon (the "
    "several-teacher rule, MODEL §12)",
    "capability_total": "capability from all teachers summed over operators",
    "capability_by_day": "headline capability from all teachers at the end of each day",
    "exchanges_harvested": "attacker exchanges answered, all providers",
    "accounts_created": "attacker accounts bought, all providers",
    "accounts_banned": "attacker accounts banned before the horizon, all providers",
    "attacker_spend_usd": "the headline operator(s)' cash at every provider",
    "attacker_net_value_usd": "the headline operator(s)' net value: value x capability from all "
    "teachers − cash − expected penalty",
    "detection_spend_usd": "detection spend summed over providers",
    "defender_total_cost_usd": "the providers' defender total costs summed (one definition each)",
    "traffic_displaced_per_day": "demand moved between providers, exchanges a day, summed over "
    "every change of split",
    "sharing_participants": "the providers that share indicators (sharing.participants; empty: "
    "none)",
    "operators": "per operator: capability from all teachers (overall, by domain) and from each "
    "provider's teacher alone, exchanges harvested, cash at every provider and its one budget, "
    "P(attribution by any provider), expected penalty, net value (value x capability_at_delivery "
    "x lead_share_at_delivery), capability_at_delivery (from all teachers when its last branch "
    "ends), lead_share_at_delivery (the providers' lead shares weighted by the capability from "
    "each; 1 with every lead fixed) and final demand split",
    "wall_seconds": "wall-clock seconds of the simulation",
}

#: ``provider.<name>.<key>`` of a world with several providers.
PROVIDER: dict[str, str] = {
    "label": "providers.<name>.label (the name if empty)",
    "teacher": "the provider's teacher.name",
    "ledger_by_category_usd": "the provider's ledger totals by category (cash and non-cash)",
    "ledger_cash_usd": "the provider's ledger: all cash rows",
    "defender_total_cost_usd": "the provider's defender total cost (MODEL §7)",
    "detection_budget_usd_per_day": "the provider's B",
    "detection_spend_usd": "the provider's detection spend",
    "attacker_fees_received_usd": "API fees the provider received from attacker traffic",
    "false_positive_cost_usd": "the provider's false-action and support costs",
    "capability_extracted": "headline capability from this provider's teacher alone",
    "capability_by_operator": "each operator's capability from this provider's teacher alone",
    "exchanges_harvested": "attacker exchanges this provider answered",
    "exchanges_harvested_by_operator": "the same per operator",
    "exchanges_attributed": "harvested exchanges on accounts this provider attributed (what it "
    "can disclose)",
    "exchanges_attributed_by_operator": "the same per operator",
    "accounts_created": "attacker accounts bought at this provider",
    "accounts_attributed": "attacker accounts this provider attributed to their operator",
    "accounts_attributed_by_operator": "the same per operator",
    "accounts_banned": "attacker accounts this provider banned before the horizon",
    "attacker_spend_usd": "what the operators spent at this provider (accounts, infrastructure, "
    "fees, mixing)",
    "displaced_in_per_day": "demand moved to this provider, exchanges a day, summed over changes",
    "displaced_out_per_day": "demand moved away from it, exchanges a day, summed over changes",
    "accounts_shed": "operators' accounts abandoned here because their demand moved away",
    "demand_share_final": "each operator's share of its demand at this provider at the horizon",
    "account_lifetime_hours_mean": "mean hours an attacker account served here before it ended "
    "or the horizon (screened at sign-up: 0)",
    "shares_indicators": "whether the provider is in sharing.participants (MODEL §12)",
    "indicators_sent": "indicators this provider passed on that reached another participant",
    "indicators_received": "indicators this provider received from the other participants",
    "sharing_cost_usd": "what sharing cost it (sharing.usd_per_day_per_lab from "
    "sharing.start_hour to the horizon; in the ledger category intel_sharing)",
}


def world_keys(providers: list[str]) -> set[str]:
    """The keys of a several-provider world's summary (sweeps' ``replicate`` left out)."""
    out = set(WORLD) - {"replicate"}
    return out | {f"provider.{p}.{k}" for p in providers for k in PROVIDER}


def expand(keys: list[str], levels: list[float]) -> set[str]:
    """SUMMARY's keys with ``<N>`` replaced by each capability level."""
    out = set()
    for k in keys:
        if "<N>" in k:
            out |= {k.replace("<N>", str(round(lv * 100))) for lv in levels}
        else:
            out.add(k)
    return out


def markdown() -> str:
    """docs/OUTPUTS.md."""
    lines = [
        "# Outputs: what every summary figure means",
        "",
        "Generated from `sim/fields.py` (`python -m sim.fields > docs/OUTPUTS.md`). Money is US$ "
        "over the horizon unless a name says per day; the defender's figures are on its profit "
        "basis and users' own losses at revenue (docs/MODEL.md §7).",
        "",
        "| figure | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in SUMMARY.items()]
    lines += [
        "",
        "## Several providers",
        "",
        "A world with two or more providers (`providers:`, docs/MODEL.md §12) has these figures "
        "instead; a world of one provider has the figures above.",
        "",
        "| figure | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in WORLD.items()]
    lines += [f"| `provider.<name>.{k}` | {v} |" for k, v in PROVIDER.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
