"""Longer horizons (issue #14, MODEL §8): the open frontier closing on the teacher, releases
restoring its lead, and an actor's later campaign remembering its earlier one (deterrence)."""

from __future__ import annotations

import math

import pytest
from conftest import run_small, small_cfg

from sim.frontier import HOURS_PER_MONTH, OpenFrontier
from sim.model import DistillationModel
from sim.parameters import TeacherConfig
from sim.validation import ConfigError

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
    """A release neither raises nor lowers what was learned before it: capability from the old
    version keeps the old version's lead; only what is learned after counts the new one's."""
    f = OpenFrontier(
        TeacherConfig(lead_months=4.0, open_catch_up_months_per_month=1.0, releases_hours=[1000.0])
    )
    marks = [(1000.0, 0.30, 0.20)]  # 0.30 before the release, 0.20 after the stock's devaluation
    old_at = f.era_share(0.0, 1500.0)
    assert f.weighted(marks, 0.20, 1500.0) == pytest.approx(0.30 * old_at)
    assert f.weighted(marks, 0.25, 1500.0) == pytest.approx(
        0.30 * old_at + 0.05 * f.era_share(1000.0, 1500.0)
    )
    assert f.weighted([], 0.3, 1500.0) == pytest.approx(0.3 * f.era_share(0.0, 1500.0))


def test_the_student_is_worth_the_lead_left_when_it_is_delivered():
    """Fixed attacker, no release: net value + cash + penalty = value × capability × L(T)/L."""
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
    assert fixed["net_value_usd"] > op["net_value_usd"]


def test_an_adaptive_operator_stops_sooner_when_the_lead_erodes():
    fixed = run_small("attacker=adaptive").summary["operators"]["qwen"]
    eroding = run_small(
        "attacker=adaptive", "teacher.lead_months=0.5", "teacher.open_catch_up_months_per_month=3"
    ).summary["operators"]["qwen"]
    assert fixed["stopped_at_hours"] is None  # runs to the horizon with a fixed lead
    assert eroding["stop_reason"] == "no continuation worth its cost"
    assert eroding["stopped_at_hours"] < 240.0


def test_catch_up_needs_a_lead_in_months():
    with pytest.raises(ConfigError, match="teacher.open_catch_up_months_per_month"):
        small_cfg("teacher.lead_months=null", "teacher.open_catch_up_months_per_month=1")


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
    m.memory.carry(1, 120.0)
    assert (later.belief.alpha, later.belief.beta) == (first.belief.alpha, first.belief.beta)
    assert later.belief is not first.belief
    off = DistillationModel(
        small_cfg(*NEXT, "attacker=adaptive", "deterrence.belief_carryover=false")
    )
    off.operator_list[0].belief.update(50.0, 100.0)
    off.memory.carry(1, 120.0)
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
