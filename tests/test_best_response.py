"""The attacker's best response (issue #10, MODEL §2): a search over campaign levers.

Small worlds (6 days) and short searches; each search caches its points under ``tmp_path``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import run_small, small_cfg

from sim.experiments.best_response import net_values, search

SHORT = [
    "world.days=6",
    "attacker=best_response",
    "attacker.search.train_replicates=2",
    "attacker.search.n_jobs=1",
]
HELD_OUT = [0, 1, 2]


def cfg_for(tmp_path, *overrides):
    return small_cfg(*SHORT, f"output.results_dir={tmp_path}", *overrides)


def test_neutral_levers_are_the_fixed_operator():
    keys = ("capability_extracted", "accounts_created", "accounts_banned", "attacker_spend_usd")
    fixed = run_small("world.days=6", seed=4).summary
    neutral = run_small(*SHORT, "attacker.search.enabled=false", seed=4).summary
    assert {k: neutral[k] for k in keys} == {k: fixed[k] for k in keys}


def test_replace_share_and_supplier_weights_act():
    base = run_small(*SHORT, "attacker.search.enabled=false").summary
    fewer = run_small(
        *SHORT, "attacker.search.enabled=false", "attacker.levers.replace_share=0.25"
    ).summary
    assert fewer["accounts_created"] < base["accounts_created"]
    avoid = run_small(
        *SHORT,
        "attacker.search.enabled=false",
        "+attacker.levers.supplier_weights.farmed=4.0",
    ).summary
    assert avoid["account_mean_price_usd"] > base["account_mean_price_usd"]


def test_search_recovers_the_optimum_of_an_exhaustive_grid(tmp_path):
    """One lever (demand): the search's best is within 3% of the best of a 13-point log grid
    scored on the same training replicates, or better."""
    cfg = cfg_for(tmp_path, "attacker.search.levers=[demand_scale]", "attacker.search.trials=20")
    s = cfg.attacker.search
    reps = [s.train_offset + i for i in range(s.train_replicates)]
    grid = np.geomspace(1 / s.max_demand_scale, s.max_demand_scale, 13)
    scores = [np.mean(net_values(cfg, {"demand_scale": float(g)}, reps, "t")) for g in grid]
    found = search(cfg, "t")
    assert found.train_net_value_usd >= max(scores) - 0.03 * abs(max(scores))
    assert found.train_net_value_usd >= found.fixed_train_net_value_usd


@pytest.mark.parametrize("budget", [0, 30000, 300000])
def test_best_response_beats_the_fixed_policy_on_held_out_replicates(tmp_path, budget):
    cfg = cfg_for(tmp_path, f"detection.budget_usd_per_day={budget}", "attacker.search.trials=25")
    found = search(cfg, "t")
    best = np.mean(net_values(cfg, found.levers, HELD_OUT, "t"))
    fixed = np.mean(net_values(cfg, {}, HELD_OUT, "t"))  # the configured (neutral) levers
    assert best >= fixed
    # The trajectory is recorded and never gets worse.
    bests = [t["best_so_far_usd"] for t in found.trials]
    assert len(bests) == 25 and bests == sorted(bests)


def test_without_value_it_does_not_go(tmp_path):
    r = run_small(
        *SHORT,
        "operators.qwen.value_usd=0",
        "attacker.search.trials=12",
        f"output.results_dir={tmp_path}",
    )
    assert r.summary["best_response"]["levers"]["go"] is False
    assert r.summary["capability_extracted"] == 0.0
    assert r.summary["attacker_net_value_usd"] == 0.0


def test_under_certain_attribution_and_a_large_penalty_it_does_not_go(tmp_path):
    certain = [
        "policies.sanctions.enabled=true",
        "policies.sanctions.regime=enacted",
        "policies.sanctions.enactment_prob=1.0",
        "policies.sanctions.enforcement_probability=1.0",
        "policies.sanctions.penalty_usd=1e10",
        "detection.budget_usd_per_day=300000",
    ]
    r = run_small(*SHORT, *certain, "attacker.search.trials=12", f"output.results_dir={tmp_path}")
    assert r.summary["best_response"]["levers"]["go"] is False


def test_same_seeds_give_the_same_levers(tmp_path):
    a = search(cfg_for(tmp_path / "a", "attacker.search.trials=12"), "t")
    b = search(cfg_for(tmp_path / "b", "attacker.search.trials=12"), "t")
    assert a.levers == b.levers and a.trials == b.trials and not b.cached
    again = search(cfg_for(tmp_path / "a", "attacker.search.trials=12"), "t")
    assert again.cached and again.levers == a.levers


def test_concurrent_searches_of_one_world_run_it_once(tmp_path):
    """Sweep points sharing a world (a budget's replicates) wait for one search."""
    from concurrent.futures import ThreadPoolExecutor

    cfg = cfg_for(tmp_path, "attacker.search.trials=6")
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda _: search(cfg, "t"), range(2))
    assert sorted([a.cached, b.cached]) == [False, True]
    assert a.levers == b.levers


def test_unreplaced_losses_stay_unreplaced():
    """replace_share = 0: the window's top-up does not bring the losses back either."""
    r = run_small(
        *SHORT,
        "attacker.search.enabled=false",
        "attacker.levers.replace_share=0.0",
        "detection.budget_usd_per_day=300000",
        keep_model=True,
    )
    op = r.model.operator_list[0]
    assert r.summary["accounts_banned"] > 0
    assert r.summary["accounts_created"] == op.fleet_size


def test_the_defender_plans_on_the_configured_campaign_not_the_levers():
    """The leader commits first: its traffic forecast (and so its detectors' coverage split),
    made when the world is built, does not move with the attacker's levers (during a run the
    forecast's legitimate part shrinks with false bans, which do depend on them)."""
    from sim.model import DistillationModel

    a = DistillationModel(small_cfg(*SHORT, "attacker.search.enabled=false"))
    b = DistillationModel(
        small_cfg(
            *SHORT,
            "attacker.search.enabled=false",
            "attacker.levers.demand_scale=3.0",
            "attacker.levers.mixing_shift=0.8",
        )
    )
    assert a.operator_list[0].cfg != b.operator_list[0].cfg  # the levers did move the campaign
    assert a.traffic_forecast_per_day() == b.traffic_forecast_per_day()
    assert [d.quality_usd for d in a.detector_list] == [d.quality_usd for d in b.detector_list]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["attacker=fixed", "attacker.search.trials=3"], "only with attacker=best_response"),
        (["attacker=best_response", "attacker.search.levers=[nope]"], "unknown lever 'nope'"),
        (["attacker=best_response", "attacker.search.suppliers=[nope]"], "unknown supplier"),
    ],
)
def test_search_settings_fail_clearly(overrides, words):
    from sim.validation import ConfigError

    with pytest.raises(ConfigError, match=words):
        small_cfg(*overrides)


def test_neutral_levers_are_the_fixed_policy_for_every_operator_of_a_scenario(tmp_path):
    """Levers are relative to each operator's campaign: with several operators whose clusters
    differ, the search's first trial (the neutral levers) still plays each of them as is."""
    from sim.configuration import load
    from sim.experiments.best_response import _as_levers, _inside, _space, neutral

    base = [
        "scenario=feb2026_three_labs",
        "world.days=12",
        "world.legit_sample_share=0.01",
        f"output.results_dir={tmp_path}",
    ]
    fixed = load(base).cfg
    assert len({o.cluster_size for o in fixed.operators.values()}) > 1
    br = load([*base, "attacker=best_response", "attacker.search.n_jobs=1"]).cfg
    s = br.attacker.search
    first = _as_levers(_inside(neutral(s), _space(s)))
    from sim.experiments.cache import cached_summary

    def fixed_net(r):
        cfg = dataclasses.replace(
            fixed,
            replicate=r,
            analysis=dataclasses.replace(fixed.analysis, undefended_reference=False),
        )
        ops = cached_summary(cfg, "feb2026_three_labs")[0]["operators"].values()
        return sum(o["net_value_usd"] for o in ops)

    assert net_values(br, first, [0, 1], "feb2026_three_labs") == [fixed_net(0), fixed_net(1)]


def test_shifts_and_scales_stay_within_the_caps():
    from sim.attackers.best_response import Levers, Search, apply_levers
    from sim.configuration import load

    op = load([]).cfg.operators["qwen"]
    s = Search(max_obfuscation=0.5, max_cluster_size=80)
    up = apply_levers(op, Levers(obfuscation_shift=0.9, cluster_scale=4.0), 0.0, s)
    assert up.obfuscation == max(0.5, op.obfuscation) and up.cluster_size == max(
        80, op.cluster_size
    )
    down = apply_levers(
        op, Levers(obfuscation_shift=-1.0, mixing_shift=-1.0, cluster_scale=0.01), 0.0, s
    )
    assert down.obfuscation == 0.0 and down.traffic_mixing == 0.0 and down.cluster_size == 1


def test_the_batch_scores_the_same_on_one_process_or_two(tmp_path):
    one = search(cfg_for(tmp_path / "a", "attacker.search.trials=6"), "t")
    two = search(
        cfg_for(tmp_path / "b", "attacker.search.trials=6", "attacker.search.n_jobs=2"), "t"
    )
    assert one.trials == two.trials and one.levers == two.levers


def test_a_warm_start_tries_the_neighbouring_budget_s_choice(tmp_path):
    ladder = "attacker.search.warm_start_budgets=[0,30000,300000]"
    cfg = cfg_for(
        tmp_path, ladder, "attacker.search.trials=8", "detection.budget_usd_per_day=300000"
    )
    found = search(cfg, "t")
    assert found.warm_start_budget_usd_per_day == 30000
    # The neighbour was searched first (and warm-started from B = 0 in turn), through the cache.
    from sim.experiments.best_response import _at_budget

    neighbour = search(_at_budget(cfg, 30000), "t")
    assert neighbour.cached and neighbour.warm_start_budget_usd_per_day == 0
    assert (
        found.trials[1]["levers"] == neighbour.levers
        or neighbour.levers == found.trials[0]["levers"]
    )
    # Off the ladder's bottom: no warm start.
    assert search(_at_budget(cfg, 0), "t").warm_start_budget_usd_per_day is None
    assert found.train_net_value_usd >= max(
        found.trials[1]["net_value_usd"], found.fixed_train_net_value_usd
    )


def test_the_runs_table_keeps_the_levers_played():
    from sim.analysis.runs import flatten

    summary = {
        "capability_extracted": 0.3,
        "best_response": {
            "levers": {"go": True, "demand_scale": 2.0, "supplier_weights": {"farmed": 0.5}},
            "train_net_value_usd": 5.0,
            "fixed_train_net_value_usd": 4.0,
            "at_bounds": ["demand_scale"],
        },
    }
    row = flatten(summary)
    assert row["br.demand_scale"] == 2.0 and row["br.supplier_weights.farmed"] == 0.5
    assert row["br.train_net_value_usd"] == 5.0 and row["br.at_bounds"] == "demand_scale"
