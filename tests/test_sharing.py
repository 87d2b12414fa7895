"""Indicator sharing between labs (issue #14, MODEL §12): what one lab learns shortens attacker
accounts' lives at the others; a free-rider gains from the others' spend; each sharer pays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import SMALL
from test_world import digest

from sim.configuration import load
from sim.parameters import ProviderParams
from sim.validation import ConfigError
from sim.world import World

#: Two labs, the partners of the intel_sharing policy off: the labs' own sharing is the only one.
BASE = [*SMALL, "experiment=two_labs", "policies.intel_sharing.enabled=false"]
BOTH = "sharing.participants=[lab_a,lab_b]"


def world(budget_a: float, budget_b: float, *overrides: str, seed: int = 0) -> World:
    cfg = load([*BASE, f"seed={seed}", *overrides]).cfg
    cfg = dataclasses.replace(
        cfg,
        providers={
            "lab_a": ProviderParams(set={"detection.budget_usd_per_day": budget_a}),
            "lab_b": ProviderParams(set={"detection.budget_usd_per_day": budget_b}),
        },
    )
    return World(cfg).run()


def test_sharing_shortens_account_lifetimes_at_the_receiving_lab():
    """A spends $300k/day, B $1k: with sharing B's attacker accounts live shorter (same seeds)."""
    life = {}
    for sh in ((), (BOTH,)):
        runs = [world(300000, 1000, *sh, seed=s).summary("x") for s in (0, 1)]
        life[bool(sh)] = np.mean([s["provider.lab_b.account_lifetime_hours_mean"] for s in runs])
        if sh:
            assert all(s["provider.lab_b.indicators_received"] > 0 for s in runs)
            # B finds little itself: it mostly receives.
            assert all(
                s["provider.lab_a.indicators_sent"] > s["provider.lab_b.indicators_sent"]
                for s in runs
            )
    assert life[True] < 0.95 * life[False]


def test_the_sharing_cost_is_booked_per_participating_lab():
    days = load(BASE).cfg.world.days
    usd = load(BASE).cfg.sharing.usd_per_day_per_lab
    s = world(30000, 10000, BOTH).summary("x")
    plain = world(30000, 10000).summary("x")
    for lab in ("lab_a", "lab_b"):
        booked = s[f"provider.{lab}.ledger_by_category_usd"]["intel_sharing"]
        assert booked == pytest.approx(usd * days)
        assert s[f"provider.{lab}.sharing_cost_usd"] == pytest.approx(usd * days)
        assert "intel_sharing" not in plain[f"provider.{lab}.ledger_by_category_usd"]
        assert plain[f"provider.{lab}.sharing_cost_usd"] == 0.0
    assert s["sharing_participants"] == ["lab_a", "lab_b"]


def test_only_participants_share_and_pay():
    s = world(300000, 1000, "sharing.participants=[lab_a]").summary("x")
    # One participant alone has no one to share with: it pays, receives and sends nothing.
    assert s["provider.lab_a.sharing_cost_usd"] > 0 and s["provider.lab_b.sharing_cost_usd"] == 0
    assert s["provider.lab_a.indicators_sent"] == 0 and s["provider.lab_b.indicators_received"] == 0


def test_an_unknown_participant_is_named_with_the_providers():
    with pytest.raises(ConfigError) as e:
        load([*BASE, "sharing.participants=[lab_a,lab_x]"])
    assert e.value.key == "sharing.participants"
    assert "'lab_x'" in e.value.message and "lab_a, lab_b" in e.value.message
    with pytest.raises(ConfigError) as e:
        load([*SMALL, "sharing.participants=[default]"])
    assert e.value.key == "sharing.participants" and "two or more providers" in e.value.message
    with pytest.raises(ConfigError) as e:
        load([*BASE, "sharing.participants=[lab_a,lab_a]"])
    assert "twice" in e.value.message


def test_sharing_is_deterministic_and_pools_evidence():
    a = world(100000, 1000, BOTH)
    b = world(100000, 1000, BOTH)
    assert digest(a.summary("x")) == digest(b.summary("x"))
    # Attribution at each sharer reads the decisions both hold.
    pooled = sum(m.defender.decisions_by_op[0] for m in a.models)
    assert pooled > a.models[1].defender.decisions_by_op[0]
    assert a.sharing.pooled_evidence(0) == pytest.approx(pooled)


def test_a_free_rider_gains_from_what_the_others_share():
    """B spends nothing on detection and shares; A spends $300k/day. B's received indicators
    start sweeps (its only bans): with sharing its accounts live shorter and less leaks from it
    (same seeds); with the split held, B's leak falls as A's spend rises."""
    for seed in (0, 1):
        alone = world(300000, 0, seed=seed).summary("x")
        shared = world(300000, 0, BOTH, seed=seed).summary("x")
        assert alone["provider.lab_b.accounts_banned"] == 0
        assert shared["provider.lab_b.accounts_banned"] > 0
        assert (
            shared["provider.lab_b.capability_extracted"]
            < alone["provider.lab_b.capability_extracted"]
        )
        held = "displacement.switch_share=1.0"
        quiet = world(0, 0, BOTH, held, seed=seed).summary("x")
        busy = world(300000, 0, BOTH, held, seed=seed).summary("x")
        assert (
            busy["provider.lab_b.capability_extracted"]
            < quiet["provider.lab_b.capability_extracted"]
        )
