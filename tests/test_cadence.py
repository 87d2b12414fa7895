"""Detection speed (issue #9, MODEL §4): scans inside the window, their price and latency.

A detector that scores faster than the window is scored at its times inside the window's step,
before the window's harvest is drawn. The shortcut is checked against the direct method (a world
whose window is the cadence), and its effect, price and latency against the mechanism's claims.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_small
from scipy import stats

DETECTORS = ("volume", "content", "linkage")
#: A budget at which every detector covers all the traffic: coverage then does not depend on how
#: a period's traffic is counted, the one convention in which the two methods differ.
AMPLE = ["world.days=6", "detection.budget_usd_per_day=200000"]


def cadence(hours: float) -> list[str]:
    return [f"detectors.{d}.cadence_hours={hours}" for d in DETECTORS]


def per_run(overrides: list[str], seeds) -> np.ndarray:
    """Per run: mean hours from activation to the first flag (flagged accounts), mean lifetime of
    banned accounts, accounts banned, exchanges harvested, the hour of attribution."""
    rows = []
    for s in seeds:
        r = run_small(*AMPLE, *overrides, seed=s, keep_model=True)
        acc = r.model.fleet.accounts
        n = acc.n
        flag = acc.first_flag_at[:n]
        seen = np.isfinite(flag)
        banned = acc.end_kind[:n] == 1
        rows.append(
            (
                float((flag[seen] - acc.active_at[:n][seen]).mean()),
                float((acc.ended_at[:n][banned] - acc.active_at[:n][banned]).mean()),
                float(banned.sum()),
                float(r.summary["exchanges_harvested"]),
                float(r.model.defender.attributed_at[0]),
            )
        )
    return np.array(rows)


#: Uniform 6-hourly scans, and mixed cadences (hourly volume, 6-hourly content, daily linkage).
CASES = {
    "6h": (cadence(6), 6),
    "mixed": (
        [
            "detectors.volume.cadence_hours=1",
            "detectors.content.cadence_hours=6",
            "detectors.linkage.cadence_hours=24",
        ],
        1,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_scans_inside_the_window_match_a_world_whose_window_is_the_cadence(case):
    """Exact in distribution: scans inside 24 h windows against a world whose window is the
    fastest cadence (10 seeds each, Welch t-tests per statistic), and the same test tells both
    from daily scans."""
    overrides, window = CASES[case]
    seeds = range(100, 110)
    inside = per_run(overrides, seeds)
    direct = per_run([*overrides, f"world.window_hours={window}"], seeds)
    daily = per_run([], seeds)
    for j, name in enumerate(("flag delay", "banned lifetime", "banned", "harvest")):
        p = stats.ttest_ind(inside[:, j], direct[:, j], equal_var=False).pvalue
        assert p > 0.01, (name, inside[:, j].mean(), direct[:, j].mean(), p)
    # The test has the power to see the cadence: both methods flag sooner than daily scans.
    for other in (inside, direct):
        assert stats.ttest_ind(other[:, 0], daily[:, 0], equal_var=False).pvalue < 0.01
        assert other[:, 0].mean() < daily[:, 0].mean()
    # Attribution is checked after every scan inside a window, not only at its end.
    hours = inside[:, 4][np.isfinite(inside[:, 4])]
    assert hours.size and np.any(hours % 24 != 0), hours


def test_faster_cadence_shortens_time_to_first_flag_and_the_life_of_banned_accounts():
    seeds = range(4)
    daily, hourly = per_run([], seeds), per_run(["speed=hourly"], seeds)
    assert hourly[:, 0].mean() < daily[:, 0].mean() - 5.0  # hours from activation to a flag
    assert hourly[:, 1].mean() < daily[:, 1].mean()  # banned accounts live shorter
    assert hourly[:, 2].mean() > daily[:, 2].mean()  # and more of them are banned


def test_scoring_more_often_than_daily_leaves_batch_pricing():
    """Inspection costs (1 + subdaily_premium) times as much an exchange below a 24 h cadence."""
    base = run_small(*AMPLE).summary["detectors"]
    fast = run_small(*AMPLE, "speed=hourly").summary["detectors"]
    free = run_small(*AMPLE, "speed=hourly", "detectors.content.subdaily_premium=0").summary
    for name, premium in (("volume", 0.5), ("content", 1.0), ("linkage", 0.5)):
        ratio = fast[name]["inspection_usd_per_day"] / base[name]["inspection_usd_per_day"]
        assert ratio == pytest.approx(1.0 + premium, rel=0.02), name
        assert fast[name]["cadence_hours"] == 1.0 and fast[name]["scans"] == 24 * 6
    content = free["detectors"]["content"]["inspection_usd_per_day"]
    assert content == pytest.approx(base["content"]["inspection_usd_per_day"], rel=0.02)


def test_a_faster_cadence_keeps_the_false_flags_a_day():
    """Each scan targets cadence/24 of the daily FPR: hourly scans flag about as many legitimate
    accounts a day as one daily scan (the persistent score term makes repeated looks overlap)."""
    daily = run_small(*AMPLE).summary["fpr_per_window"]
    hourly = run_small(*AMPLE, "speed=hourly").summary["fpr_per_window"]
    assert 0.5 < hourly / daily < 1.5
    same_per_scan = run_small(
        *AMPLE, "speed=hourly", "detection.threshold.target_fpr_per_day=2.4e-3"
    ).summary["fpr_per_window"]
    assert same_per_scan > 5 * daily  # what a per-scan target would have cost


def test_bought_latency_is_paid_and_used_and_not_bought_without_the_money():
    fast = run_small(*AMPLE, "speed=streaming").summary
    slow = run_small(*AMPLE, "speed=hourly").summary
    for name, price in (("volume", 300), ("content", 2000), ("linkage", 1000)):
        d = fast["detectors"][name]
        assert d["processing_hours"] == 0.25
        assert d["latency_usd_per_day"] == pytest.approx(price)
        assert slow["detectors"][name]["latency_usd_per_day"] == 0.0
    # Faster processing: flags reach review sooner, so the first confirmation comes sooner.
    assert fast["first_detection_hours"] <= slow["first_detection_hours"]
    # A share that pays its fixed cost and inspection but not the latency keeps the batch one.
    poor = run_small("world.days=6", "speed=streaming", "detection.budget_usd_per_day=4000")
    vol = poor.summary["detectors"]["volume"]
    assert vol["running"] and vol["processing_hours"] == 1.0 and vol["latency_usd_per_day"] == 0
