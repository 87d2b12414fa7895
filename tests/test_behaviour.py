"""Whole-run behaviour: reproducibility and the direction of detection spend's effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PRE_MARKET, SMALL_WORLD, run_small


def _strip(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "wall_seconds"}


def test_same_seed_same_outputs_other_seed_different():
    a = run_small("attacker=adaptive", seed=5)
    b = run_small("attacker=adaptive", seed=5)
    c = run_small("attacker=adaptive", seed=6)
    assert _strip(a.summary) == _strip(b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    assert _strip(a.summary) != _strip(c.summary)
    assert not a.timeseries["exchanges_harvested"].equals(c.timeseries["exchanges_harvested"])


def test_replicate_streams_are_common_across_settings():
    """Replicate i uses the same root stream whatever else differs (common random numbers)."""
    from sim.rng import Streams, root_sequence

    s1 = Streams(root_sequence(42, replicate=3))
    s2 = Streams(root_sequence(42, replicate=3))
    s3 = Streams(root_sequence(42, replicate=4))
    assert s1("legit").random() == s2("legit").random()
    assert s1("harvest").random() != s3("harvest").random()
    # Components are independent: drawing from one does not shift another.
    t1, t2 = Streams(root_sequence(1)), Streams(root_sequence(1))
    t1("review").random(1000)
    assert t1("legit").random() == t2("legit").random()


def test_more_detection_spend_means_less_capability_and_more_false_positives():
    seeds = range(3)
    budgets = [0, 20_000, 200_000]
    cap, fp = [], []
    for b in budgets:
        runs = [
            run_small(
                f"detection.budget_usd_per_day={b}", "world.legit_sample_share=0.05", seed=s
            ).summary
            for s in seeds
        ]
        cap.append(np.mean([r["capability_extracted"] for r in runs]))
        fp.append(
            np.mean([r["legit_accounts_banned"] + r["fpr_per_account_horizon"] for r in runs])
        )
    assert cap[0] > cap[1] > cap[2]
    assert fp[0] < fp[1] < fp[2]


def test_adaptive_operator_responds_to_bans():
    r = run_small(
        "attacker=adaptive",
        "attacker.go_no_go=false",
        "attacker.stop_rule=false",
        "attacker.response_threshold=0.001",
        "detection.budget_usd_per_day=100000",
        keep_model=True,
    )
    op = r.model.operator_list[0]
    assert op.responses, "no response to bans"
    cfg = r.model.cfg.operators["qwen"]
    changed = (
        op.cadence < cfg.tolerated_cadence_per_day
        or op.obfuscation > cfg.obfuscation
        or op.cluster_size < cfg.cluster_size
    )
    assert changed


def test_adaptive_go_no_go_and_stop_rule():
    # A capability worth almost nothing: the adaptive operator does not start.
    s = run_small("attacker=adaptive", "operators.qwen.value_usd=1000").summary
    assert s["operators"]["qwen"]["went"] is False
    assert s["exchanges_harvested"] == 0 and s["accounts_created"] == 0
    # The fixed operator runs regardless.
    s = run_small("attacker=fixed", "operators.qwen.value_usd=1000").summary
    assert s["exchanges_harvested"] > 0
    # Worth a little: it starts, then stops when no continuation of the campaign pays.
    s = run_small(
        "attacker=adaptive",
        "attacker.go_no_go=false",
        "operators.qwen.value_usd=2e5",
        "world.days=20",
    ).summary
    assert s["operators"]["qwen"]["stop_reason"] == "no continuation worth its cost"


def test_adaptive_operator_without_bans_runs_like_the_fixed_one():
    # Nothing to adapt to and accounts already bought are sunk: the adaptive operator neither
    # changes its plan nor stops in the last days (it did when it spread the account price
    # over the days left), so it ends exactly where the fixed one does.
    args = ["detection.budget_usd_per_day=0", "operators.qwen.value_usd=3e6"]
    fixed = run_small("attacker=fixed", *args).summary
    adaptive = run_small("attacker=adaptive", *args).summary
    assert adaptive["operators"]["qwen"]["stop_reason"] is None
    assert adaptive["attacker_net_value_usd"] == fixed["attacker_net_value_usd"]


def test_three_labs_run_as_three_operators():
    r = run_small(
        "scenario=feb2026_three_labs",
        "world.days=50",
        "operators.minimax.demand_per_day=20000",
        "operators.moonshot.demand_per_day=5000",
        "operators.deepseek.demand_per_day=500",
        base=SMALL_WORLD,
    )
    ops = r.summary["operators"]
    assert set(ops) == {"deepseek", "moonshot", "minimax"}
    for o in ops.values():
        for k in (
            "exchanges_harvested",
            "exchanges_attributed",
            "accounts_created",
            "accounts_attributed",
            "capability_extracted",
        ):
            assert k in o
    assert ops["minimax"]["exchanges_harvested"] > ops["deepseek"]["exchanges_harvested"]
    # DeepSeek's planned end (day 30) holds.
    ts = r.timeseries
    ds = ts[(ts.operator == "deepseek") & (ts.hour >= 720)]
    assert ds["exchanges_harvested"].sum() == 0


@pytest.mark.parametrize("action", ["throttle", "degrade"])
def test_throttle_and_degrade_keep_accounts_alive(action):
    # Reviewers who often confirm legitimate cases, so that some customers are acted on wrongly.
    spend = ["detection.budget_usd_per_day=100000", "review.false_confirm_legit_prob=0.3"]
    r = run_small(*PRE_MARKET, f"enforcement={action}", *spend, keep_model=True)
    s = r.summary
    assert s["accounts_banned"] == 0
    acc = r.model.fleet.accounts
    assert (acc.action[: r.model.fleet.n] > 0).sum() > 0
    base = run_small(*PRE_MARKET, "enforcement=ban", *spend).summary
    if action == "throttle":
        assert s["exchanges_harvested"] < s["exchanges_sent"]
    else:
        assert s["exchanges_harvested"] == s["exchanges_sent"]
    assert (
        s["capability_extracted"]
        < run_small(*PRE_MARKET, "detection.budget_usd_per_day=0").summary["capability_extracted"]
    )
    assert base["accounts_banned"] > 0
    # Legitimate customers caught by mistake get the same action, which costs less than a ban.
    assert s["legit_accounts_banned"] == 0 < s["legit_accounts_acted_on"]
    legit = r.model.legit
    assert not legit.banned.any() and legit.acted.any()
    per_fp = s["false_positive_cost_usd"] / s["legit_accounts_acted_on"]
    assert per_fp < base["false_positive_cost_usd"] / base["legit_accounts_banned"]


def test_open_weights_counterfactual_scales_the_value_of_capability():
    # No lead over open models: nothing to gain, so the adaptive operator does not start.
    s = run_small("attacker=adaptive", "teacher.lead_over_open_models=0").summary
    assert s["operators"]["qwen"]["went"] is False
    full = run_small("teacher.lead_over_open_models=1").summary
    half = run_small("teacher.lead_over_open_models=0.5").summary
    assert half["capability_extracted"] == full["capability_extracted"]
    value = full["attacker_net_value_usd"] + full["attacker_spend_usd"]
    value_half = half["attacker_net_value_usd"] + half["attacker_spend_usd"]
    assert value_half == pytest.approx(value / 2, rel=1e-9)


def test_thinned_legitimate_population_is_unbiased():
    """Each simulated account stands for 1/share: expected flags and traffic do not depend on it."""
    from conftest import small_cfg

    from sim.model import DistillationModel

    def expected(share, seed):
        m = DistillationModel(small_cfg(f"world.legit_sample_share={share}", f"seed={seed}"))
        w = m.legit.weight
        flags = [float((w * d._legit_sampler.q).sum()) for d in m.detector_list]
        return np.array(flags), m.legit.live_rate

    cfg = small_cfg()
    exact_rate = sum(
        t.accounts * t.median_exchanges_per_day * np.exp(t.sigma**2 / 2)
        for t in cfg.legit.tiers.values()
    )
    thin = [expected(0.02, s) for s in range(6)]
    full = [expected(0.3, s) for s in range(2)]
    rate_thin = np.mean([r for _, r in thin])
    assert rate_thin == pytest.approx(exact_rate, rel=0.03)
    flags_thin = np.mean([f for f, _ in thin], axis=0)
    flags_full = np.mean([f for f, _ in full], axis=0)
    assert np.allclose(flags_thin, flags_full, rtol=0.15)


def test_datacollector_records_operator_state_per_window():
    r = run_small("attacker=adaptive", "attacker.go_no_go=false")
    df = r.by_window
    assert {"operator", "cadence_per_day", "obfuscation", "cluster_size", "stopped"} <= set(df)
    assert len(df) == 10


def test_finished_worlds_are_freed():
    """Mesa 3.3 keeps models alive through Agent._ids (mesa#3179); release() lets them go."""
    import gc
    import weakref

    from conftest import small_cfg

    from sim.model import DistillationModel

    m = DistillationModel(small_cfg("world.days=2"))
    m.run()
    ref = weakref.ref(m)
    m.release()
    del m
    gc.collect()
    assert ref() is None
