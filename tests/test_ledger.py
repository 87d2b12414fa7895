"""One ledger: every transfer booked once, categories add up, no spending past the budget."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_small

from sim.ledger import CATEGORIES, NON_CASH, Ledger
from sim.outcomes import (
    ATTACKER_CASH_CATEGORIES,
    DEFENDER_COST_CATEGORIES,
    DETECTION_CATEGORIES,
    USER_COST_CATEGORIES,
)


@pytest.fixture(scope="module")
def run():
    return run_small(
        "policies.kyc.enabled=true",
        "policies.poisoning.enabled=true",
        "policies.watermarking.enabled=true",
        "policies.sanctions.enabled=true",
        "policies.intel_sharing.enabled=true",
        keep_model=True,
    )


def test_rows_are_well_formed(run):
    led = run.ledger
    assert set(led.columns) == {"hour", "payer", "payee", "category", "usd", "cash"}
    assert set(led["category"].astype(str)) <= set(CATEGORIES)
    assert (led["usd"] > 0).all()
    assert (led["payer"].astype(str) != led["payee"].astype(str)).all()
    assert led["hour"].between(0, run.model.horizon).all()
    # Non-cash lines: the attacker's risk, the defender's forgone margin, the users' losses.
    assert set(led.loc[~led["cash"], "category"].astype(str)) <= NON_CASH
    assert "expected_penalty" in NON_CASH and "detection_fixed" not in NON_CASH


def test_each_transfer_is_booked_once(run):
    led, s = run.ledger, run.summary
    payer = led["payer"].astype(str)
    cat = led["category"].astype(str)
    # What the attacker sends the defender as fees is what the defender receives (one row).
    to_def = led[(payer == "attacker:qwen") & (cat == "api_fees") & (led["payee"] == "defender")]
    received = led[(led["payee"] == "defender")]
    assert received["usd"].sum() == pytest.approx(to_def["usd"].sum())
    # Attacker cash = sum of its cash categories = the summary figure.
    att = led[payer.str.startswith("attacker:") & led["cash"]]
    assert set(att["category"].astype(str)) <= set(ATTACKER_CASH_CATEGORIES)
    assert att["usd"].sum() == pytest.approx(s["attacker_spend_usd"])
    by_cat = att.groupby("category", observed=True)["usd"].sum()
    assert by_cat.sum() == pytest.approx(s["attacker_spend_usd"])
    # Defender categories sum to the summary's totals (one definition of total cost).
    d = led[payer == "defender"].groupby("category", observed=True)["usd"].sum()
    detection = sum(d.get(c, 0) for c in DETECTION_CATEGORIES)
    assert detection == pytest.approx(s["detection_spend_usd"])
    net = received["usd"].sum() - d.get("serving_cost", 0)
    total = sum(d.get(c, 0.0) for c in DEFENDER_COST_CATEGORIES) - received["usd"].sum()
    assert total == pytest.approx(s["defender_total_cost_usd"])
    assert s["attacker_traffic_net_usd"] == pytest.approx(net)
    fp = d.get("false_positives", 0.0) + d.get("support", 0.0)
    assert fp == pytest.approx(s["false_positive_cost_usd"])
    # What users lose is booked by them, never by the defender, and not in its total.
    users = led[payer.isin(["legitimate_users", "prospective_users"])]
    assert set(users["category"].astype(str)) <= set(USER_COST_CATEGORIES.values())
    assert users["usd"].sum() == pytest.approx(s["legit_user_cost_usd"])
    assert not set(USER_COST_CATEGORIES.values()) & set(DEFENDER_COST_CATEGORIES)


def test_harvested_never_exceeds_sent(run):
    m = run.model
    acc = m.fleet.accounts
    n = m.fleet.n
    assert np.all(acc.harvested[:n] <= acc.sent[:n])
    assert np.all(m.harvested_h <= m.sent_h)
    assert m.harvested_h.sum() == pytest.approx(acc.harvested[:n].sum())
    ts = run.timeseries
    assert (ts["exchanges_harvested"] <= ts["exchanges_sent"]).all()


def test_no_spend_after_the_budget_is_gone():
    r = run_small(
        "operators.qwen.budget_usd=40000", "detection.budget_usd_per_day=0", keep_model=True
    )
    op = r.model.operator_list[0]
    led = r.ledger
    att = led[(led["payer"].astype(str) == "attacker:qwen") & led["cash"]]
    assert att["usd"].sum() <= 40000 + 1e-6
    assert op.stop_reason == "budget"
    stop = op.stopped_at
    assert stop < r.model.horizon
    assert att[att["hour"] > stop + 1e-9]["usd"].sum() == 0.0
    assert r.model.harvested_h[0, int(np.ceil(stop)) + 1 :].sum() == 0


def test_detector_costs_never_exceed_their_budget_share(run):
    m = run.model
    led = run.ledger
    det = led[led["category"].astype(str).str.startswith("detection_")]
    days = m.horizon / 24.0
    for d in m.detector_list:
        paid = det[det["payee"].astype(str) == f"detector:{d.name}"]["usd"].sum()
        assert paid <= d.spend * days + 1e-6
    staff = led[led["category"].astype(str) == "review_staff"]["usd"].sum()
    assert staff <= m.cfg.detection.shares["review"] * m.cfg.detection.budget_usd_per_day * days


def test_ledger_rejects_unknown_category_and_zero_rows():
    led = Ledger()
    with pytest.raises(KeyError):
        led.book(0, "a", "b", "not_a_category", 1.0)
    led.book(0, "defender", "x", "detection_fixed", 0.0)
    led.book(np.arange(3), "defender", "x", "detection_fixed", np.array([1.0, 0.0, 2.0]))
    f = led.frame()
    assert len(f) == 2 and f["usd"].sum() == 3.0


def test_frame_keeps_every_row_in_booking_order_whatever_was_booked():
    """The frame places scalar rows and array parts in one pass; it must equal the plain
    concatenation of what was booked, row for row, in booking order."""
    rng = np.random.default_rng(4)
    led = Ledger()
    booked = []  # (hour, payer, payee, category, usd) per row, as booked
    cats = sorted(CATEGORIES)
    for _ in range(400):
        cat = cats[int(rng.integers(len(cats)))]
        payer, payee = f"p{int(rng.integers(3))}", f"q{int(rng.integers(3))}"
        if rng.random() < 0.7:
            h, usd = float(rng.random() * 100), float(rng.random())
            led.book(h, payer, payee, cat, usd)
            booked.append((h, payer, payee, cat, usd))
        else:
            k = int(rng.integers(0, 6))
            h = rng.random(k) * 100
            usd = np.where(rng.random(k) < 0.3, 0.0, rng.random(k))  # zeros are not booked
            if rng.random() < 0.5:
                led.book(h, payer, payee, cat, usd)
            else:
                keep = usd != 0
                h, usd = h[keep], usd[keep]
                led.book_rows(h, payer, payee, cat, usd)
            booked += [(x, payer, payee, cat, u) for x, u in zip(h, usd, strict=True) if u != 0]
    f = led.frame()
    assert len(f) == len(booked)
    assert f["hour"].tolist() == [r[0] for r in booked]
    assert f["usd"].tolist() == [r[4] for r in booked]
    for j, col in ((1, "payer"), (2, "payee"), (3, "category")):
        assert f[col].astype(str).tolist() == [r[j] for r in booked]
    assert f["cash"].tolist() == [r[3] not in NON_CASH for r in booked]
    assert len(Ledger().frame()) == 0
