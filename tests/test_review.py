"""The review queue three ways: one SimPy event per review (the direct method), the Python queue's
heap of finishing times, and the compiled queue and decisions (sim/review_kernel.py). All three
end the same reviews at the same times with the same draws, so whole runs agree exactly, with
shifts, score order, pooled cases, sub-window scans, thinned-out load, partners' indicators and
blacklists (SimPy events of other kinds between reviews), and the decisions the compiled queue
hands back to Python (pools, throttling, wrongly confirmed legitimate accounts)."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from conftest import run_small

from sim import review
from sim import review_kernel as K
from sim.review import ReviewQueue

CASES = {
    "fifo, shifts": [],
    "score order, one crew": ["review.discipline=score", "review.shifts_per_day=1"],
    "always on, hourly scans": ["review.shift_hours=24", "speed=hourly"],
    "partners and blacklists": [
        "policies.intel_sharing.enabled=true",
        "policies.intel_sharing.partner_detections_per_day=5",
        "policies.sanctions.enabled=true",
        "policies.sanctions.regime=enacted",
        "policies.sanctions.enforcement_lag_days=1",
    ],
    "throttling, wrong confirmations, no learning": [
        "enforcement.action=throttle",
        "review.false_confirm_legit_prob=0.3",
        "learning.enabled=false",
    ],
    "instant enforcement, certain search": [
        "latency.enforcement_hours_median=0",
        "enforcement.sweep_share=1.0",
        "review.confirm_attacker_prob=1.0",
    ],
}

QUEUES = ("events", "heap", "compiled")

ACCOUNT_COLUMNS = (
    "ended_at",
    "end_kind",
    "banned_by",
    "action",
    "confirmed",
    "attributed",
    "in_review",
    "cooldown_until",
    "harvested",
)


def _run(overrides: list[str], queue: str, monkeypatch, budget: float = 100000):
    monkeypatch.setattr(ReviewQueue, "per_case_events", queue == "events")
    monkeypatch.setattr(review, "COMPILED", queue == "compiled")
    r = run_small(f"detection.budget_usd_per_day={budget}", *overrides, seed=4, keep_model=True)
    assert isinstance(r.model.defender.queue, review.CompiledReviewQueue) == (queue == "compiled")
    return r


def _assert_same(a, b) -> None:
    qa, qb = a.model.defender.queue, b.model.defender.queue
    for x, y in zip(qa.case_times(), qb.case_times(), strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(qa.case_kinds(), qb.case_kinds())
    wall = {"wall_seconds"}
    assert {k: v for k, v in a.summary.items() if k not in wall} == {
        k: v for k, v in b.summary.items() if k not in wall
    }
    pd.testing.assert_frame_equal(a.model.ledger.frame(), b.model.ledger.frame())
    ma, mb = a.model, b.model
    n = ma.fleet.n
    assert n == mb.fleet.n
    for col in ACCOUNT_COLUMNS:
        np.testing.assert_array_equal(ma.fleet.accounts.view(col), mb.fleet.accounts.view(col))
    for col in ("found", "linked", "known_at"):
        np.testing.assert_array_equal(ma.fleet.clusters.view(col), mb.fleet.clusters.view(col))
    for col in ("in_review", "cooldown_until", "banned", "acted"):
        np.testing.assert_array_equal(getattr(ma.legit, col), getattr(mb.legit, col))
    da, db = ma.defender, mb.defender
    for attr in ("confirmed_by_op", "decisions_by_op", "attributed_at"):
        np.testing.assert_array_equal(getattr(da, attr), getattr(db, attr))
    assert (da.sweeps, da.first_detection_at, da.reseller_customers_hit) == (
        db.sweeps,
        db.first_detection_at,
        db.reseller_customers_hit,
    )
    np.testing.assert_array_equal(ma.learning.templates_at, mb.learning.templates_at)


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_heap_and_compiled_queue_equal_per_case_events(overrides, monkeypatch):
    runs = {q: _run(overrides, q, monkeypatch) for q in QUEUES}
    kinds = runs["events"].model.defender.queue.case_kinds()
    assert kinds.size > 200  # a queue worth the name: flags outrun the analysts at times
    assert (kinds == K.POOL).any()  # linked clusters reviewed as pools
    assert (kinds == K.LOAD).any()  # thinned-out load
    _assert_same(runs["events"], runs["heap"])
    _assert_same(runs["events"], runs["compiled"])
    m = runs["compiled"].model
    if "policies.sanctions.enabled=true" in overrides:
        assert np.isfinite(m.defender.attributed_at).any()
    if "enforcement.action=throttle" in overrides:
        assert (m.fleet.accounts.view("action") > 0).any()
        assert m.legit.acted.any()  # legitimate accounts wrongly confirmed (handed to Python)
    else:
        assert m.defender.sweeps > 0  # clusters found and swept (in the kernel)


@pytest.mark.parametrize(
    "overrides, budget",
    [
        ([], 0.0),  # no detection: nothing flagged, an empty queue
        (["review.analyst_usd_per_hour=1e9"], 100000),  # flags but no analyst: nothing reviewed
    ],
    ids=["empty queue", "no analysts"],
)
def test_compiled_queue_edge_cases(overrides, budget, monkeypatch):
    a = _run(overrides, "events", monkeypatch, budget)
    b = _run(overrides, "compiled", monkeypatch, budget)
    _assert_same(a, b)
    arrived, started, done = b.model.defender.queue.case_times()
    if budget and b.model.defender.n_analysts == 0:
        assert arrived.size > 0 and np.isnan(started).all() and np.isnan(done).all()
    else:
        assert arrived.size == 0


def test_score_heap_pops_like_heapq_with_ties_and_nan():
    """The kernel's waiting heap orders (−score, arrival) exactly as ``heapq`` orders tuples,
    equal scores and NaN scores (legitimate cases) included."""
    rng = np.random.default_rng(3)
    n = 3000
    neg = -rng.choice([0.5, 1.0, 1.5, 2.0, math.nan], size=n)  # many ties, some NaN
    h, qi = np.zeros(n, np.int64), np.zeros(K.N_QI, np.int64)
    ref: list[tuple[float, int]] = []
    got, want = [], []
    k = 0
    while k < n or ref:
        if k < n and (not ref or rng.random() < 0.6):
            pos = int(qi[K.W_SIZE])
            h[pos] = k
            qi[K.W_SIZE] = pos + 1
            K._w_siftdown(h, 0, pos, neg)
            heapq.heappush(ref, (neg[k], k))
            k += 1
        else:
            got.append(int(K._w_pop(h, qi, neg)))
            want.append(heapq.heappop(ref)[1])
    assert got == want
