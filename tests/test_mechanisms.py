"""Effect tests: one per mechanism, each comparing a world with and without it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PRE_MARKET, mean_over_seeds, run_small, small_cfg

from sim.model import DistillationModel
from sim.policies.kyc import usable_price
from sim.review import Case, ReviewQueue


def test_kyc_raises_usable_price_by_formula_and_blocks_its_share():
    r = run_small(
        *PRE_MARKET,
        "policies.kyc.enabled=true",
        "policies.kyc.price_multiplier=2.0",
        "policies.kyc.block_share=0.3",
        "operators.qwen.account_base_price_usd=20",
        "detection.budget_usd_per_day=0",
        keep_model=True,
    )
    acc = r.model.fleet.accounts
    n = r.model.fleet.n
    price = acc.price_usd[:n]
    attempts = acc.attempts[:n].astype(float)
    expected = usable_price(20.0, 2.0, 0.3)  # 57.14
    se = price.std() / math.sqrt(n)
    assert abs(price.mean() - expected) < 4 * se
    blocked = 1.0 - n / attempts.sum()
    assert abs(blocked - 0.3) < 0.03
    # Each attempt was a paid identity check for the defender.
    led = r.ledger
    checks = led[(led.category == "kyc_checks") & (led.payee == "identity_vendor")].usd.sum()
    assert checks >= attempts.sum() * 1.5 - 1e-6
    off = run_small(
        *PRE_MARKET, "policies.kyc.enabled=false", "detection.budget_usd_per_day=0", keep_model=True
    )
    m = off.model
    assert np.allclose(m.fleet.accounts.price_usd[: m.fleet.n], 20.0)


def test_confirmed_account_cluster_is_found_with_one_minus_product():
    cfg = small_cfg(
        "enforcement.sweep_signals={ip:0.3,payment:0.2,metadata:0.1}",
        "enforcement.sweep_share=1.0",
    )
    model = DistillationModel(cfg)
    op = model.operator_list[0]
    op.cluster_size = 5
    op.order(np.zeros(4000))
    cl = model.fleet.clusters
    found = 0
    for c in range(cl.n):
        model.defender.investigate(c, now=0.0)
        found += bool(cl.found[c])
    p = 1 - (1 - 0.3) * (1 - 0.2) * (1 - 0.1)
    se = math.sqrt(p * (1 - p) / cl.n)
    assert abs(found / cl.n - p) < 4 * se
    # A found cluster is swept: every member ends (sweep_share = 1) and is attributed.
    acc = model.fleet.accounts
    members = np.isin(acc.cluster[: model.fleet.n], np.flatnonzero(cl.found[: cl.n]))
    assert np.all(acc.ended_at[: model.fleet.n][members] < math.inf)
    assert np.all(acc.attributed[: model.fleet.n][members])
    assert not np.any(acc.attributed[: model.fleet.n][~members])


def test_output_poisoning_lowers_effective_exchanges_without_any_ban():
    base = ["detection.budget_usd_per_day=0"]
    off = run_small(*base).summary
    on = run_small(
        *base, "policies.poisoning.enabled=true", "policies.poisoning.selector_fpr=0.2"
    ).summary
    assert on["accounts_banned"] == off["accounts_banned"] == 0
    assert on["exchanges_harvested"] == pytest.approx(off["exchanges_harvested"], rel=0.02)
    eff_on = on["operators"]["qwen"]["effective_exchanges"]
    eff_off = off["operators"]["qwen"]["effective_exchanges"]
    assert eff_on < 0.9 * eff_off
    assert on["capability_extracted"] < off["capability_extracted"]
    # The defender pays for it: perturbed sampling compute and utility lost on legitimate traffic.
    assert on["countermeasure_cost_usd"] > 0 == off["countermeasure_cost_usd"]


def test_watermarking_raises_attribution_not_poisoning():
    # Weak in-run detection, so that attribution is still uncertain at the horizon.
    weak = ["detection.budget_usd_per_day=2000", "policies.intel_sharing.enabled=false"]
    off = run_small(*weak, "policies.watermarking.enabled=false")
    on = run_small(*weak, "policies.watermarking.enabled=true")
    q_off, q_on = off.summary["operators"]["qwen"], on.summary["operators"]["qwen"]
    assert q_on["effective_exchanges"] == q_off["effective_exchanges"]
    assert q_on["capability_extracted"] == q_off["capability_extracted"]
    assert q_on["attribution_probability"] > q_off["attribution_probability"] + 0.3


def test_intelligence_sharing_shortens_time_to_first_detection():
    intel = [
        "policies.intel_sharing.enabled=true",
        "policies.intel_sharing.partner_detections_per_day=4",
        "policies.intel_sharing.match_share=0.8",
        "policies.intel_sharing.prior_boost=2.0",
    ]
    base = ["policies.intel_sharing.enabled=false"]
    seeds = range(4)
    with_intel = mean_over_seeds("first_detection_hours", intel, seeds)
    without = mean_over_seeds("first_detection_hours", base, seeds)
    assert with_intel < 0.8 * without


def test_persistent_term_slows_horizon_fpr_growth():
    # The score model itself: same threshold and marginal per-window FPR, 40 windows.
    from sim.signal import ThinningSampler, flag_probability

    rng = np.random.default_rng(1)
    n, tau, windows = 200_000, 2.5, 40
    ever = {}
    rate = {}
    for rho in (0.0, 0.9):
        u = rng.standard_normal(n)
        sampler = ThinningSampler(flag_probability(tau, np.sqrt(rho) * u, rho))
        seen = np.zeros(n, dtype=bool)
        flags = 0
        for _ in range(windows):
            idx = sampler.draw(rng)
            flags += idx.size
            seen[idx] = True
        ever[rho], rate[rho] = seen.mean(), flags / (n * windows)
    assert rate[0.9] == pytest.approx(rate[0.0], rel=0.05)  # both ~ 1 - Phi(2.5) = 0.62%
    assert ever[0.0] == pytest.approx(1 - (1 - rate[0.0]) ** windows, rel=0.05)
    assert ever[0.9] < 0.4 * ever[0.0]

    # In the model: a small unthinned population, no cooling-off, so accounts can be re-flagged.
    common = [
        "review.cooldown_hours=0",
        "world.days=20",
        "world.legit_sample_share=1",
        "legit.tiers.consumer.accounts=7000",
        "legit.tiers.developer.accounts=2300",
        "legit.tiers.enterprise.accounts=600",
        "legit.tiers.power_users.accounts=100",
        "operators.qwen.demand_per_day=1000",
        "detection.threshold.target_fpr_per_day=0.002",
    ]
    ind = run_small(*common, "detection.rho=0").summary
    per = run_small(*common, "detection.rho=0.9").summary
    assert per["fpr_per_window"] == pytest.approx(ind["fpr_per_window"], rel=0.25)
    assert per["fpr_per_account_horizon"] < 0.5 * ind["fpr_per_account_horizon"]


def test_review_wait_grows_with_load():
    import simpy

    from sim.parameters import ReviewConfig

    def mean_wait(n_cases: int) -> float:
        env = simpy.Environment()
        q = ReviewQueue(
            env,
            ReviewConfig(review_minutes_sigma=0.0, shift_hours=24),
            3,
            np.random.default_rng(0),
            lambda c, t: None,
        )
        cases = [Case("volume", False, np.array([i]), 0.0, 0.0) for i in range(n_cases)]
        q.submit(cases, 0.0)
        q.run_until(1e5)
        return float(np.mean([c.started_at - c.arrived_at for c in cases]))

    waits = [mean_wait(n) for n in (3, 30, 300)]
    assert waits[0] == 0.0 and waits[0] < waits[1] < waits[2]
    # In the model: more legitimate flags for the same analysts -> longer waits.
    lo = run_small("detection.threshold.target_fpr_per_day=1e-5").summary
    hi = run_small("detection.threshold.target_fpr_per_day=3e-3").summary
    assert hi["review_cases"] > lo["review_cases"]
    assert hi["review_mean_wait_hours"] > lo["review_mean_wait_hours"]


def test_zero_budget_means_no_detector_flags():
    s = run_small("detection.budget_usd_per_day=0").summary
    assert s["first_flag_hours"] is None
    assert s["review_cases"] == 0
    assert s["analysts"] == 0
    assert s["accounts_banned"] == 0
    assert s["detection_spend_usd"] == 0.0
    assert s["fpr_per_window"] is None  # no scan at all: undefined, not zero
    assert s["fpr_per_account_horizon"] == 0.0


def test_shift_work_leaves_cases_waiting_overnight():
    import simpy

    from sim.parameters import ReviewConfig

    env = simpy.Environment()
    cfg = ReviewConfig(shifts_per_day=1, shift_hours=8, review_minutes_sigma=0.0)
    q = ReviewQueue(env, cfg, 1, np.random.default_rng(0), lambda c, t: None)
    case = Case("volume", False, np.array([0]), 0.0, 0.0)
    q.submit([case], 20.0)  # arrives at 20:00, the shift starts at 08:00 next day
    env.run(until=48)
    assert case.started_at == pytest.approx(32.0)


def test_detector_latency_by_name_then_kind():
    from sim.latency import LatencyModel
    from sim.parameters import LatencyConfig

    lat = LatencyModel(LatencyConfig(detector_hours={"content": 6.0, "content_fast": 0.5}), None)
    assert lat.detector_hours("content_fast", "content") == 0.5
    assert lat.detector_hours("content_b", "content") == 6.0  # a second detector of that kind
    assert lat.detector_hours("custom", "custom") == 0.0
