"""The review queue's heap of finishing times against one SimPy event per review (the direct
method): the same reviews end at the same times with the same draws, so whole runs agree
exactly, with shifts, score order, pooled cases, sub-window scans, thinned-out load, partners'
indicators and blacklists (SimPy events of other kinds between reviews)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_small

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
}


def _run(overrides: list[str], per_case: bool, monkeypatch):
    monkeypatch.setattr(ReviewQueue, "per_case_events", per_case)
    return run_small("detection.budget_usd_per_day=100000", *overrides, seed=4, keep_model=True)


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_heap_of_finishing_times_equals_per_case_events(overrides, monkeypatch):
    r_direct, r_heap = _run(overrides, True, monkeypatch), _run(overrides, False, monkeypatch)
    direct, heap = r_direct.model, r_heap.model
    cases = direct.defender.queue.cases
    assert len(cases) > 200  # a queue worth the name: flags outrun the analysts at times
    assert any(c.pooled for c in cases)  # linked clusters reviewed as pools
    assert sum(not c.decides for c in cases) > 0  # thinned-out load
    for field in ("arrived_at", "started_at", "done_at"):
        a = np.array([getattr(c, field) for c in cases])
        b = np.array([getattr(c, field) for c in heap.defender.queue.cases])
        np.testing.assert_array_equal(a, b)
    wall = {"wall_seconds"}
    assert {k: v for k, v in r_direct.summary.items() if k not in wall} == {
        k: v for k, v in r_heap.summary.items() if k not in wall
    }
    if "policies.sanctions.enabled=true" in overrides:
        assert np.isfinite(direct.defender.attributed_at).any()
