"""Longer horizons (issue #14, MODEL §8): the open frontier closing on the teacher, releases
restoring its lead, and an actor's later campaign remembering its earlier one (deterrence)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import run_small as _run_small
from conftest import small_cfg

from sim.frontier import HOURS_PER_MONTH, OpenFrontier
from sim.model import DistillationModel
from sim.parameters import TeacherConfig
from sim.validation import ConfigError


def run_small(*overrides: str, **kw):
    """The small world without its undefended twin: these tests read no delay."""
    return _run_small("analysis.undefended_reference=false", *overrides, **kw)


#: The long-horizon experiment shrunk to the small world: the first campaign ends at hour 72,
#: the same actor's next one starts at hour 120.
NEXT = [
    "experiment=long_horizon",
    "teacher.releases_hours=[]",
    "operators.qwen.end_hour=72",
    "operators.qwen_next.start_hour=120",
    "operators.qwen_next.demand_per_day=30000",
    "operators.qwen_next.tolerated_cadence_per_day=30",
    "operators.qwen_next.cluster_size=20",
    "operators.qwen_next.creation_per_day=2000",
]


def test_the_lead_shrinks_at_the_catch_up_rate_and_a_release_restores_it():
    f = OpenFrontier(
        TeacherConfig(lead_months=4.0, open_catch_up_months_per_month=1.0, releases_hours=[2000.0])
    )
    month = HOURS_PER_MONTH
    assert f.lead_share(0.0) == 1.0
    assert f.lead_share(month) == pytest.approx(0.75)
    assert f.lead_share(1999.0) == pytest.approx(1 - 1999.0 / (4 * month))
    assert f.lead_share(2000.0) == 1.0  # the new version is at the frontier again
    assert f.lead_share(2000.0 + 5 * month) == 0.0  # caught up, never negative
    assert f.lead_months_at(2000.0 + month) == pytest.approx(3.0)
    static = OpenFrontier(TeacherConfig(lead_months=4.0))
    assert not static.moves and static.lead_share(1e6) == 1.0


def test_capability_is_valued_by_the_vintage_it_was_learned_from():
    """A release shrinks what was learned before it only by the stock's devaluation, and that
    part keeps its own version's lead; what is learned after counts the new version's."""
    f = OpenFrontier(
        TeacherConfig(lead_months=4.0, open_catch_up_months_per_month=1.0, releases_hours=[1000.0])
    )
    marks = [(1000.0, 0.30, 0.20)]  # 0.30 before the release, 0.20 after the stock's devaluation
    old_at, new_at = f.era_share(0.0, 1500.0), f.era_share(1000.0, 1500.0)
    assert f.weighted(marks, 0.20, 1500.0) == pytest.approx(0.20 * old_at)
    assert f.weighted(marks, 0.25, 1500.0) == pytest.approx(0.20 * old_at + 0.05 * new_at)
    assert f.weighted([], 0.3, 1500.0) == pytest.approx(0.3 * f.era_share(0.0, 1500.0))


def test_the_weighted_capability_never_exceeds_the_capability():
    """Any history of releases: 0 <= worth in shares of the lead <= the capability held."""
    rng = np.random.default_rng(14)
    f = OpenFrontier(
        TeacherConfig(
            lead_months=4.0, open_catch_up_months_per_month=1.0, releases_hours=[500.0, 1500.0]
        )
    )
    for _ in range(200):
        b1 = rng.uniform(0, 0.4)
        a1 = b1 * rng.uniform(0, 1)
        b2 = a1 + rng.uniform(0, 0.3)
        a2 = b2 * rng.uniform(0, 1)
        g = a2 + rng.uniform(0, 0.2)
        t = rng.uniform(1500, 3000)
        w = f.weighted([(500.0, b1, a1), (1500.0, b2, a2)], g, t)
        assert -1e-12 <= w <= g + 1e-12


def test_a_harsher_devaluation_at_releases_never_makes_the_student_worth_more():
    """Fixed attacker (the same harvest), releases on days 3 and 6, the frontier moving."""
    world = ["teacher.lead_months=1", "teacher.open_catch_up_months_per_month=1"]
    world += ["teacher.releases_hours=[72,144]"]
    worth = []
    for f in (1.0, 0.5, 0.1):
        op = run_small(*world, f"teacher.staleness_factor={f}").summary["operators"]["qwen"]
        assert 0.0 <= op["lead_share_at_delivery"] <= 1.0
        worth.append(op["value_usd"] * op["capability_at_delivery"] * op["lead_share_at_delivery"])
    assert worth[0] > worth[1] > worth[2]


def test_the_student_is_worth_the_lead_left_when_it_is_delivered():
    """Fixed attacker, no release: net value + cash + penalty = value × capability × L(T)/L; with
    the lead fixed, the same with lead share 1."""
    lead = ["teacher.lead_months=1", "teacher.open_catch_up_months_per_month=1"]
    s = run_small(*lead).summary
    op = s["operators"]["qwen"]
    share = 1.0 - 240.0 / HOURS_PER_MONTH
    assert op["delivered_at_hours"] == 240.0
    assert op["lead_share_at_delivery"] == pytest.approx(share)
    value = op["value_usd"] * op["capability_at_delivery"] * share
    assert op["net_value_usd"] == pytest.approx(
        value - op["attacker_spend_usd"] - op["expected_penalty_usd"]
    )
    assert s["teacher_lead_months_erased"] == pytest.approx(op["capability_at_delivery"] * share)
    fixed = run_small("teacher.lead_months=1").summary["operators"]["qwen"]
    assert fixed["lead_share_at_delivery"] == 1.0
    assert fixed["capability_extracted"] == op["capability_extracted"]  # the harvest is the same
    assert fixed["net_value_usd"] == pytest.approx(
        fixed["value_usd"] * fixed["capability_at_delivery"]
        - fixed["attacker_spend_usd"]
        - fixed["expected_penalty_usd"]
    )


def test_an_adaptive_operator_stops_sooner_when_the_lead_erodes():
    """Half a month of lead closing at a month a month: a third of it is still there at the
    horizon, yet another day stops paying for the lead lost meanwhile before then."""
    eroding = ["teacher.lead_months=0.5", "teacher.open_catch_up_months_per_month=1"]
    assert OpenFrontier(small_cfg(*eroding).teacher).lead_share(240.0) > 0.3
    fixed = run_small("attacker=adaptive").summary["operators"]["qwen"]
    op = run_small("attacker=adaptive", *eroding).summary["operators"]["qwen"]
    assert fixed["stopped_at_hours"] is None  # runs to the horizon with a fixed lead
    assert op["stop_reason"] == "no continuation worth its cost"
    assert op["stopped_at_hours"] < 240.0


def test_a_later_campaign_of_another_actor_decides_when_it_starts():
    """With the frontier moving, a campaign starting later plans at its start (the lead then),
    whether or not it remembers anything."""
    cfg = small_cfg(*NEXT, "attacker=adaptive", "operators.qwen_next.actor=someone_else")
    m = DistillationModel(cfg)
    assert not m.memory.remembers(1) and m.plans_at_start == [1]
    still = DistillationModel(
        small_cfg(
            *NEXT,
            "teacher.open_catch_up_months_per_month=0",
            "operators.qwen_next.actor=someone_else",
        )
    )
    assert still.plans_at_start == []


def test_catch_up_needs_a_lead_in_months():
    for lead in ("null", "0"):
        with pytest.raises(ConfigError, match="teacher.open_catch_up_months_per_month"):
            small_cfg(f"teacher.lead_months={lead}", "teacher.open_catch_up_months_per_month=1")


def test_an_attributed_campaign_leaves_evidence_against_the_actors_next_one():
    with_memory = run_small(*NEXT, keep_model=True)
    without = run_small(*NEXT, "deterrence.evidence_carryover=0", keep_model=True)
    d = with_memory.model.defender
    assert d.attributed_at[0] < 120.0  # the first campaign was attributed before the next began
    assert d.inherited_evidence[0] == 0.0
    assert d.inherited_evidence[1] == pytest.approx(0.5 * d.decisions_by_op[0])
    p = with_memory.summary["operators"]["qwen_next"]["attribution_probability"]
    q = without.summary["operators"]["qwen_next"]["attribution_probability"]
    assert p > q
    # The first campaign is untouched by what comes after it.
    assert with_memory.summary["operators"]["qwen"] == without.summary["operators"]["qwen"]


def test_a_later_campaign_fears_the_evidence_its_actor_left():
    """Adaptive, with a penalty: the go/no-go of the next campaign values it lower when the
    earlier, attributed campaign's evidence carries over (beliefs carried in both)."""
    pen = [
        "attacker=adaptive",
        "policies.sanctions.enabled=true",
        "policies.sanctions.penalty_usd=2e6",
    ]
    a = run_small(*NEXT, *pen, keep_model=True).model.operator_list[1]
    b = run_small(*NEXT, *pen, "deterrence.evidence_carryover=0", keep_model=True)
    b = b.model.operator_list[1]
    assert a.go and b.go
    assert a.confirmations_seen > b.confirmations_seen
    assert a.plan_net_value < b.plan_net_value


def test_beliefs_carry_over_from_the_earlier_campaign():
    cfg = small_cfg(*NEXT, "attacker=adaptive")
    m = DistillationModel(cfg)
    first, later = m.operator_list
    first.belief.update(50.0, 100.0)
    m.memory.begin(1, 120.0)
    assert (later.belief.alpha, later.belief.beta) == (first.belief.alpha, first.belief.beta)
    assert later.belief is not first.belief
    off = DistillationModel(
        small_cfg(*NEXT, "attacker=adaptive", "deterrence.belief_carryover=false")
    )
    off.operator_list[0].belief.update(50.0, 100.0)
    off.memory.begin(1, 120.0)
    assert off.operator_list[1].belief.alpha != off.operator_list[0].belief.alpha


def test_a_blacklisted_actor_runs_its_next_campaign_through_front_companies():
    sanctions = [
        "policy=sanctions_enacted",
        "policies.sanctions.enforcement_probability=1",
        "policies.sanctions.enforcement_lag_days=0",
    ]
    r = run_small(*NEXT, *sanctions, keep_model=True)
    first, later = r.summary["operators"]["qwen"], r.summary["operators"]["qwen_next"]
    assert first["blacklisted_at_hours"] is not None and first["blacklisted_at_hours"] < 120.0
    # Designated from the start of the window its campaign begins in (day 5, hour 96 + 24).
    assert later["blacklisted_at_hours"] == 120.0
    assert later["demand_per_day_final"] == pytest.approx(0.5 * 30000.0)
    off = run_small(*NEXT, *sanctions, "deterrence.blacklist_carryover=false").summary
    assert (off["operators"]["qwen_next"]["blacklisted_at_hours"] or math.inf) > 120.0


def test_a_campaign_that_never_goes_is_neither_attributed_nor_penalised():
    """The actor's next campaign is not worth running (a tiny value): it stays out, and the
    evidence its actor left does not make it an attributed campaign."""
    pen = [
        "attacker=adaptive",
        "policies.sanctions.enabled=true",
        "policies.sanctions.penalty_usd=2e6",
    ]
    r = run_small(*NEXT, *pen, "operators.qwen_next.value_usd=2e4", keep_model=True)
    nxt = r.summary["operators"]["qwen_next"]
    assert not nxt["went"] and nxt["stop_reason"] == "no-go"
    assert r.model.defender.inherited_evidence[1] == 0.0
    assert nxt["attribution_probability"] == 0.0 and nxt["expected_penalty_usd"] == 0.0
    assert not nxt["attributed_in_run"] and nxt["delivered_at_hours"] is None


def test_a_blacklisted_actor_without_front_companies_cannot_run_its_next_campaign():
    sanctions = [
        "policy=sanctions_enacted",
        "policies.sanctions.enforcement_probability=1",
        "policies.sanctions.enforcement_lag_days=0",
        "policies.sanctions.front_company_share=0",
    ]
    nxt = run_small(*NEXT, *sanctions).summary["operators"]["qwen_next"]
    assert not nxt["went"] and nxt["stop_reason"] == "actor blacklisted"
    assert nxt["capability_extracted"] == 0.0 and not nxt["attributed_in_run"]
    assert nxt["expected_penalty_usd"] == 0.0


def test_a_blacklist_reaches_the_actors_campaign_already_running():
    """The next campaign starts (hour 24) while the first still runs; when the first is
    blacklisted, the designation names the actor, so the running one is designated then too."""
    sanctions = [
        "policy=sanctions_enacted",
        "policies.sanctions.enforcement_probability=1",
        "policies.sanctions.enforcement_lag_days=1",
    ]
    r = run_small(*NEXT, *sanctions, "operators.qwen_next.start_hour=24").summary["operators"]
    first, later = r["qwen"], r["qwen_next"]
    assert first["blacklisted_at_hours"] is not None
    assert later["blacklisted_at_hours"] == first["blacklisted_at_hours"]
    off = run_small(
        *NEXT,
        *sanctions,
        "operators.qwen_next.start_hour=24",
        "deterrence.blacklist_carryover=false",
    ).summary["operators"]["qwen_next"]
    assert (off["blacklisted_at_hours"] or math.inf) != first["blacklisted_at_hours"]


def test_a_world_values_its_students_as_delivered_with_the_frontier_moving():
    lead = ["teacher.lead_months=1", "teacher.open_catch_up_months_per_month=1"]
    s = run_small("experiment=two_labs", *lead).summary
    op = s["operators"]["qwen"]
    assert 0.0 < op["lead_share_at_delivery"] < 1.0
    assert op["net_value_usd"] == pytest.approx(
        op_value(s) * op["lead_share_at_delivery"] * op["capability_at_delivery"]
        - op["attacker_spend_usd"]
        - op["expected_penalty_usd"]
    )


def op_value(s: dict) -> float:
    """The operator's value of capability (the same at both providers of two_labs)."""
    return float(small_cfg().operators["qwen"].value_usd)
