"""Model semantics: every dollar, probability and time in the outputs means what its name says.

One test (or a few) per definition of MODEL §4, §7, §8 and §10, each checking what the
simulation produces against the definition computed independently. Imports of what the
definitions added stay inside the tests, so each test fails on the old model for its own reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PRE_MARKET, SMALL_WORLD, run_small, small_cfg

from sim.configuration import load
from sim.fleet import ACT_DEGRADE, ACT_THROTTLE, END_BANNED
from sim.model import DistillationModel
from sim.outcomes import summarize, timeseries
from sim.parameters import TierConfig
from sim.signal import d_prime
from sim.validation import ConfigError

#: Why an account ended: retired by its operator (sim.fleet.END_RETIRED, new with these semantics).
END_RETIRED = 3


def _cat(led, category: str, payer: str | None = None) -> float:
    rows = led[led["category"].astype(str) == category]
    if payer is not None:
        rows = rows[rows["payer"].astype(str) == payer]
    return float(rows["usd"].sum())


# --------------------------------------------------------------------------- money
def test_serving_cost_is_booked_on_every_exchange_served_whoever_paid():
    r = run_small("operators.qwen.price_factor=0.3", "operators.qwen.paid_to_defender_share=0.3")
    s, m = r.summary, r.model if r.model else None
    cfg = small_cfg()
    t, op = cfg.teacher, cfg.operators["qwen"]
    list_price = (
        op.tokens_in * t.price_in_usd_per_mtok + op.tokens_out * t.price_out_usd_per_mtok
    ) / 1e6
    served = s["exchanges_harvested"]
    assert s["attacker_serving_cost_usd"] == pytest.approx(
        served * list_price * (1 - t.gross_margin)
    )
    assert s["attacker_fees_received_usd"] == pytest.approx(served * list_price * 0.3 * 0.3)
    # Resold at 0.3 x list with 30% reaching the defender: served at a loss.
    assert s["attacker_traffic_net_usd"] < 0
    assert s["attacker_traffic_net_usd"] == pytest.approx(
        s["attacker_fees_received_usd"] - s["attacker_serving_cost_usd"]
    )
    del m


def test_detector_money_buys_fixed_cost_and_coverage_first_then_quality_then_nothing():
    r = run_small("detection.budget_usd_per_day=1000000", keep_model=True)
    m, s = r.model, r.summary
    days = m.horizon / 24
    for det in m.detector_list:
        p = det.params
        paid = det.paid
        assert paid["fixed"] == pytest.approx(p.fixed_usd_per_day * days)
        # d′ is what the quality spend alone buys, and quality stops within the tolerance of d∞.
        assert det.dprime == pytest.approx(
            d_prime(det.quality_usd, p.d0, p.d_inf, p.s_half_usd_per_day)
        )
        assert det.dprime == pytest.approx(p.d_inf - m.cfg.detection.dprime_tolerance)
        assert det.coverage == pytest.approx(p.coverage)
        booked = sum(paid.values())
        assert booked < 0.5 * det.spend * days  # most of a $1M/day share cannot buy anything
        d = s["detectors"][det.name]
        assert d["unspent_usd_per_day"] == pytest.approx(det.spend - booked / days)
    assert s["detection_unspent_usd"] == pytest.approx(
        s["detection_budget_usd"] - s["detection_spend_usd"]
    )
    assert s["detection_unspent_usd"] > 0.5 * s["detection_budget_usd"]
    led = r.ledger
    spent = sum(
        _cat(led, c) for c in ("detection_fixed", "detection_inspection", "detection_quality")
    ) + _cat(led, "review_staff")
    assert spent == pytest.approx(s["detection_spend_usd"])


def test_a_share_that_cannot_pay_its_coverage_inspects_what_it_can_and_buys_no_quality():
    # Content at $9k/day: fixed $2k, and full coverage of the traffic costs more than the rest.
    r = run_small(
        "detection.budget_usd_per_day=30000",
        "world.legit_sample_share=0.01",
        keep_model=True,
    )
    det = next(d for d in r.model.detector_list if d.name == "content")
    assert det.on and det.quality_usd == 0.0 and det.dprime == det.params.d0
    assert 0 < det.mean_coverage < det.params.coverage
    days = r.model.horizon / 24
    assert sum(det.paid.values()) == pytest.approx(det.spend * days, rel=1e-6)


def test_remaining_lifetime_is_the_mean_over_a_uniform_age():
    from sim.legit import remaining_annuity_months

    tier = TierConfig(lifetime_months=18, monthly_discount_rate=0.01)
    ages = np.linspace(0, 18, 200_001)
    remaining = 18 - ages
    brute = np.mean((1 - 1.01 ** (-remaining)) / 0.01)
    assert remaining_annuity_months(tier) == pytest.approx(brute, rel=1e-4)
    assert remaining_annuity_months(TierConfig(lifetime_months=18, monthly_discount_rate=0)) == 9


def test_defender_losses_are_lost_margin_and_users_losses_are_apart():
    from sim.legit import remaining_annuity_months

    r = run_small(
        "detection.budget_usd_per_day=100000",
        "review.false_confirm_legit_prob=0.3",
        "policies.kyc.enabled=true",
        "policies.kyc.legit_friction_share=0.05",
        "policies.rate_limits.enabled=true",
        "policies.rate_limits.exchanges_per_account_day=100",
        "policies.poisoning.enabled=true",
        keep_model=True,
    )
    s, led, margin = r.summary, r.ledger, r.model.margin
    assert s["legit_accounts_banned"] > 0
    pairs = [
        ("false_positives", "user_false_actions"),
        ("kyc_friction", "user_kyc_friction"),
        ("rate_limit_loss", "user_rate_limits"),
        ("utility_loss", "user_poisoned_output"),
    ]
    for defender, users in pairs:
        assert _cat(led, users) > 0, users
        assert _cat(led, defender, "defender") == pytest.approx(margin * _cat(led, users))
    assert s["false_positive_cost_usd"] == pytest.approx(
        _cat(led, "false_positives") + _cat(led, "support")
    )
    assert s["legit_user_cost_usd"] == pytest.approx(sum(_cat(led, u) for _, u in pairs))
    # A false ban: the churned lose their remaining lifetime's revenue, the others the service
    # until the horizon; the defender loses the margin on it.
    legit = r.model.legit
    banned = np.flatnonzero(legit.banned)
    cfg = r.model.cfg
    expect = 0.0
    for i in banned:
        t = legit.tiers[legit.tier[i]]
        monthly = legit.rate[i] * 30.44 * t.revenue_per_exchange_usd
        churn = t.churn_on_false_ban
        left = (r.model.horizon - legit.banned_at[i]) / 24  # those who stay: banned until then
        stay = legit.rate[i] * left * t.revenue_per_exchange_usd
        expect += legit.weight[i] * (
            churn * monthly * remaining_annuity_months(t) + (1 - churn) * stay
        )
    assert _cat(led, "user_false_actions") == pytest.approx(expect, rel=1e-6)
    assert cfg.enforcement.action == "ban"


# ------------------------------------------------------------------- what the attacker knows
def test_adaptive_operator_with_sanctions_runs_where_nothing_can_confirm_an_account():
    args = ["detection.budget_usd_per_day=0", "policies.sanctions.enabled=true"]
    fixed = run_small("attacker=fixed", *args).summary
    adaptive = run_small("attacker=adaptive", *args).summary
    assert adaptive["operators"]["qwen"]["stop_reason"] is None
    assert adaptive["capability_extracted"] == fixed["capability_extracted"]


def test_go_no_go_counts_only_the_harvest_the_budget_can_pay_for():
    r = run_small(
        *PRE_MARKET,
        "attacker=adaptive",
        "attacker.go_no_go=false",
        "operators.qwen.budget_usd=72000",
        "detection.budget_usd_per_day=0",
        keep_model=True,
    )
    op = r.model.operator_list[0]
    fresh = DistillationModel(r.model.cfg)
    plan = fresh.operator_list[0].outlook(0.0, upfront=True)
    per_day = op.demand * op.fee_per_exchange + op.fleet_size * op.infra_per_account_day
    first = op.fleet_size * op.account_price
    affordable = (72000 - first) / per_day
    assert 0 < affordable < op.campaign_days  # the money runs out before the campaign ends
    assert 0 < plan.days <= affordable + 1e-9
    fresh.release()


def test_throttled_accounts_are_noticed_retired_and_replaced():
    r = run_small(
        *PRE_MARKET, "enforcement=throttle", "detection.budget_usd_per_day=100000", keep_model=True
    )
    m, s = r.model, r.summary
    acc, n = m.fleet.accounts, m.fleet.n
    retired = acc.end_kind[:n] == END_RETIRED
    assert s["accounts_retired"] > 0 and s["accounts_banned"] == 0
    thr = acc.action[:n] == ACT_THROTTLE
    assert np.all(thr[retired])
    notice = m.latency.notice_hours
    assert np.allclose(acc.ended_at[:n][retired], acc.action_at[:n][retired] + notice)
    # Every throttle noticed before the horizon was retired; the fleet was topped back up.
    due = thr & (acc.action_at[:n] + notice < m.horizon - m.window)
    assert np.all(retired[due])
    assert s["accounts_created"] > m.operator_list[0].fleet_size + 0.9 * s["accounts_retired"]


def test_degraded_accounts_are_noticed_with_their_probability():
    r = run_small(
        "enforcement=degrade",
        "detection.budget_usd_per_day=100000",
        "operators.qwen.degraded_notice_prob=0.5",
        keep_model=True,
    )
    m = r.model
    acc, n = m.fleet.accounts, m.fleet.n
    deg = (acc.action[:n] == ACT_DEGRADE) & (acc.action_at[:n] + 6 < m.horizon - m.window)
    share = (acc.end_kind[:n][deg] == END_RETIRED).mean()
    assert deg.sum() > 100
    assert share == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / deg.sum()))


def test_adaptive_operator_reacts_to_throttles_as_to_bans():
    r = run_small(
        "attacker=adaptive",
        "attacker.go_no_go=false",
        "attacker.stop_rule=false",
        "attacker.response_threshold=0.001",
        "enforcement=throttle",
        "detection.budget_usd_per_day=100000",
        keep_model=True,
    )
    assert r.model.operator_list[0].responses


def _scan_inputs(mixing: float):
    """Each detector's test probability and signal mean for the live attacker accounts."""
    cfg = small_cfg(
        *PRE_MARKET,
        f"operators.qwen.traffic_mixing={mixing}",
        "operators.qwen.tolerated_cadence_per_day=600",
        "detection.budget_usd_per_day=100000",
        "world.days=3",
        "latency.setup_hours_median=0",  # clusters full from the start, in both worlds
    )
    m = DistillationModel(cfg)
    out = {}

    def measured(det):
        scan = det.scan

        def wrapper(ctx):
            vol = det.period_volume(ctx)  # before the scan moves its period on
            live = ctx.harvest.live_hours >= 23.99  # live the whole window
            test = (det.coverage * det.attacker_test_factor(ctx, vol))[live]
            mu = det.dprime * det.attacker_signal(ctx, vol)[live]
            out[det.kind] = (float(test.mean()), float(mu.mean()))
            return scan(ctx)

        return wrapper

    for det in m.detector_list:
        det.scan = measured(det)
    m.step()  # the first window: no account lost yet in either world
    m.release()
    return out


def test_mixing_dilutes_and_never_exposes_at_the_same_account_traffic():
    plain, mixed = _scan_inputs(0.0), _scan_inputs(0.5)
    for kind in ("volume", "content", "linkage"):
        assert mixed[kind][0] == pytest.approx(plain[kind][0], rel=0.02), kind  # same testing
        assert mixed[kind][1] <= plain[kind][1] * 1.02, kind
    assert mixed["content"][1] < plain["content"][1]  # the content signature is diluted


# --------------------------------------------------------------------------- evidence and time
def test_one_pooled_decision_is_one_piece_of_evidence():
    m = DistillationModel(small_cfg("detection.budget_usd_per_day=30000"))
    op = m.operator_list[0]
    op.cluster_size = 50
    op.order(np.zeros(50))
    members = np.arange(50)
    m.defender.enforce(members, 1.0, 0, confirmed=True, decisions=1)
    assert m.defender.confirmed_by_op[0] == 50 and m.defender.decisions_by_op[0] == 1
    scale = m.cfg.enforcement.attribution.confirmed_scale
    intel = m.policy("intel_sharing")
    boost = intel.params.attribution_boost if intel and intel.active(1.0) else 0.0
    p = m.defender.attribution_probability(0, 1.0)
    assert p == pytest.approx(1 - math.exp(-1 / scale) * (1 - boost))
    m.release()


def test_individual_auto_bans_count_as_evidence_against_their_own_operators():
    cfg = small_cfg(
        "scenario=feb2026_three_labs",
        "operators.minimax.start_hour=0",
        base=SMALL_WORLD,
    )
    m = DistillationModel(cfg)
    for op in m.operator_list:
        op.order(np.zeros(3))
    acc = m.fleet.accounts
    idx = np.arange(m.fleet.n)
    m.defender.auto_ban(idx, 1.0, 0, each=True)
    assert m.defender.decisions_by_op.tolist() == np.bincount(acc.op[idx]).tolist() == [3, 3, 3]
    m.release()


def test_sanctions_that_come_into_force_later_still_deter():
    args = [
        "attacker=adaptive",
        "detection.budget_usd_per_day=30000",
        "policies.sanctions.enabled=true",
    ]
    now = run_small(*args).summary["operators"]["qwen"]
    later = run_small(*args, "policies.sanctions.effective_hour=24").summary["operators"]["qwen"]
    assert now["went"] is False
    assert later["went"] is False  # the penalty is weighed when the evidence is: at the horizon


def test_a_share_that_only_pays_the_fixed_cost_runs_nothing():
    m = DistillationModel(small_cfg("detection.budget_usd_per_day=2000"))  # volume: 0.15 x 2000
    vol = next(d for d in m.detector_list if d.kind == "volume")
    assert vol.spend == vol.params.fixed_usd_per_day and not vol.on
    m.release()


def test_the_operator_cannot_see_unnoticed_poisoning():
    r = run_small(
        "detection.budget_usd_per_day=0",
        "policies.poisoning.enabled=true",
        "policies.poisoning.selector_fpr=0.2",
        keep_model=True,
    )
    m = r.model
    believed, actual = m.believed_stock[0].sum(), m.capability_stock[0].sum()
    op = m.operator_list[0]
    assert believed == pytest.approx(op.quality * r.summary["exchanges_harvested"], rel=1e-9)
    assert actual < 0.95 * believed


def test_reported_attribution_is_the_evidence_held_at_the_horizon_in_every_case():
    from sim.attribution import attribution_probability

    for extra in ([], ["policies.watermarking.enabled=true"]):
        r = run_small("policies.sanctions.enabled=true", *extra, keep_model=True)
        m = r.model
        o = r.summary["operators"]["qwen"]
        wm = m.policy("watermarking")
        marked = wm.attribution_evidence(o["exchanges_harvested"]) if wm else 0.0
        scale = m.cfg.enforcement.attribution.confirmed_scale
        intel = m.policy("intel_sharing")
        p = attribution_probability(
            o["confirmation_decisions"],
            scale,
            intel.params.attribution_boost if intel else 0.0,
            marked,
        )
        assert o["attribution_probability"] == pytest.approx(p)
        s = m.policy("sanctions").params
        # The chain (proposed regime): public naming, enactment, enforcement, discounted lags.
        chain = s.public_attribution_prob * s.enactment_prob * s.enforcement_probability
        lag_years = (s.enactment_lag_days + s.enforcement_lag_days) / 365.0
        discount = np.exp(-s.discount_rate_per_year * lag_years)
        assert o["expected_penalty_usd"] == pytest.approx(p * chain * discount * s.penalty_usd)
    # Undefended but watermarked: attribution after the fact only, and no in-run event.
    s = run_small("detection.budget_usd_per_day=0", "policies.watermarking.enabled=true").summary
    assert s["attribution_probability"] == pytest.approx(0.9)
    assert s["attributed_in_run"] is False


def test_times_are_to_fixed_levels_and_delays_against_the_undefended_twin():
    levels = "analysis.capability_levels=[0.05]"
    defended = run_small("detection.budget_usd_per_day=100000", levels, keep_model=True)
    undefended = run_small("detection.budget_usd_per_day=0", levels).summary
    s = defended.summary
    c0 = undefended["capability_extracted"]
    assert s["undefended_capability_extracted"] == pytest.approx(c0)
    curve = np.array(defended.timeseries["capability"])
    first = np.flatnonzero(curve >= 0.5 * c0)
    assert s["days_to_50pct_of_undefended"] == pytest.approx((first[0] + 1) / 24)
    assert s["delay_days_50pct_vs_undefended"] == pytest.approx(
        s["days_to_50pct_of_undefended"] - undefended["days_to_50pct_of_final_capability"]
    )
    hit = np.flatnonzero(curve >= 0.05)
    assert s["days_to_capability_5pts"] == pytest.approx((hit[0] + 1) / 24)
    # A campaign cut short reaches less: it is late (or never there), not "faster".
    blacklist_at_once = [
        "policy=sanctions_enacted",
        "policies.sanctions.enforcement_lag_days=0",
        "policies.sanctions.enforcement_probability=1",
        "policies.sanctions.front_company_share=0",
    ]
    cut = run_small("detection.budget_usd_per_day=100000", *blacklist_at_once)
    c = cut.summary
    assert c["capability_extracted"] < 0.8 * c0
    assert c["days_to_80pct_of_undefended"] is None
    # Its delay is censored at the horizon: it counts as reaching the level then (a lower bound).
    assert c["delay_days_80pct_vs_undefended"] == pytest.approx(
        10.0 - undefended["days_to_80pct_of_final_capability"]
    )


def test_headline_is_explicit_and_selectable():
    common = [
        "scenario=feb2026_three_labs",
        "world.days=20",
        "operators.minimax.demand_per_day=20000",
        "operators.moonshot.demand_per_day=5000",
        "operators.deepseek.demand_per_day=500",
        "operators.minimax.start_hour=0",
    ]
    runs = {
        h: run_small(*common, f"analysis.headline={h}", base=SMALL_WORLD).summary
        for h in ("max", "total", "deepseek")
    }
    ops = runs["max"]["operators"]
    caps = {k: o["capability_extracted"] for k, o in ops.items()}
    assert runs["max"]["capability_extracted"] == max(caps.values())
    assert runs["max"]["headline_operator"] == max(caps, key=caps.get)
    assert runs["total"]["capability_extracted"] == pytest.approx(sum(caps.values()))
    assert runs["total"]["headline_operator"] is None
    d = runs["deepseek"]
    assert d["capability_extracted"] == caps["deepseek"]
    assert d["attacker_net_value_usd"] == ops["deepseek"]["net_value_usd"]
    # Every attacker-side headline figure is the same operator's (or the sum, for total).
    head = runs["max"]["headline_operator"]
    for k in ("net_value_usd", "attacker_spend_usd", "expected_penalty_usd"):
        top = "attacker_net_value_usd" if k == "net_value_usd" else k
        assert runs["max"][top] == ops[head][k]
        assert runs["total"][top] == pytest.approx(sum(o[k] for o in ops.values()))
    assert runs["max"]["attribution_probability"] == ops[head]["attribution_probability"]
    with pytest.raises(ConfigError, match="analysis.headline"):
        load([*common, "analysis.headline=qwen"])


# --------------------------------------------------------------------------- tested worlds
def test_a_thinned_world_reviews_like_the_full_one():
    """Thinning weights the arrivals of review work, not its service time."""

    def waits(share: float) -> tuple[float, float]:
        runs = [run_small(f"world.legit_sample_share={share}", seed=s).summary for s in range(4)]
        w = [r["review_mean_wait_hours"] for r in runs]
        cases = [r["review_cases"] for r in runs]
        return float(np.mean(w)), float(np.mean(cases))

    full, thin = waits(1.0), waits(0.01)
    assert 0.7 < thin[0] / full[0] < 1.4
    assert thin[1] == pytest.approx(full[1], rel=0.1)
    # Flags over an auto-ban score skip review in the thinned world as in the full one.
    auto = [f"detectors.{d}.auto_ban_score=3.0" for d in ("volume", "content", "linkage")]
    for share in (1.0, 0.01):
        s = run_small(
            *auto, f"world.legit_sample_share={share}", "operators.qwen.demand_per_day=0"
        ).summary
        assert s["review_cases"] == 0, share


def test_counts_and_backlog_have_one_definition():
    r = run_small("detection.budget_usd_per_day=30000", keep_model=True)
    m = r.model
    # A ban effective exactly at the horizon counts nowhere (the account served to the end).
    acc, n = m.fleet.accounts, m.fleet.n
    alive = np.flatnonzero(acc.ended_at[:n] > m.horizon)[:5]
    m.fleet.end(alive, m.horizon, END_BANNED, 0)
    s, ts = summarize(m, "alibaba_2026"), timeseries(m)
    assert ts["accounts_banned_cum"].iloc[-1] == s["accounts_banned"]
    # The hourly backlog is a time average: its mean is the arrivals' total wait / horizon.
    arrived, started, _ = m.defender.queue.case_times()
    waited = sum(
        (min(s, m.horizon) if s == s else m.horizon) - a
        for a, s in zip(arrived.tolist(), started.tolist(), strict=True)
    )
    assert ts["review_backlog"].mean() == pytest.approx(waited / m.horizon)
    assert s["review_mean_backlog"] == pytest.approx(waited / m.horizon)


def test_spillover_reaches_targeted_domains_in_proportion_to_their_remaining_gap():
    from sim.capability import CapabilityCurve
    from sim.parameters import CapabilityConfig, DomainConfig

    dom = DomainConfig(gmax=0.6, n_half=1e5, exponent=0.7)
    c = CapabilityCurve(CapabilityConfig(domains={"a": dom, "b": dom}, spillover=0.2))
    n = np.array([3e5, 1e5])
    direct = c.direct(n)
    g = c.gains(n)
    assert g[1] == pytest.approx(0.6 * direct[1] + 0.2 * (1 - direct[1]) * 0.6 * direct[0])


def test_bayes_threshold_weighs_the_models_own_costs():
    from sim.thresholds import bayes_threshold

    args = ["detection=bayes", "detection.budget_usd_per_day=30000"]
    m = DistillationModel(small_cfg(*args))  # thresholds are set when the world is built
    vol = next(d for d in m.detector_list if d.kind == "volume")
    t = vol.bayes
    op = m.operator_list[0]
    fleet = op.planned_fleet
    assert t.prior == pytest.approx(fleet / (fleet + m.legit.accounts_total))
    assert t.attacker_signal == pytest.approx(vol.planned_attacker_signal(op))
    assert 0 < t.attacker_signal < 1  # attackers score d′·g, not d′
    assert vol.tau == pytest.approx(bayes_threshold(vol.dprime * t.attacker_signal, t))
    dear = DistillationModel(small_cfg(*args, "defender.value_usd_per_capability_point=3e8"))
    dear_vol = next(d for d in dear.detector_list if d.kind == "volume")
    assert dear_vol.bayes.cost_false_negative_usd > 50 * t.cost_false_negative_usd
    assert dear_vol.tau < vol.tau  # a dearer leak: flag on weaker evidence
    m.release()
    dear.release()


def test_spend_curve_grid_has_round_budgets():
    tree = load(["sweep=spend_curve"]).tree
    del tree
    from sim.configuration import compose_tree

    params = compose_tree(["sweep=spend_curve"], return_hydra_config=True).hydra.sweeper.params
    budgets = {float(b) for b in str(params["detection.budget_usd_per_day"]).split(",")}
    assert {0, 1e4, 3e4, 1e5, 3e5, 1e6, 4e6} <= budgets
