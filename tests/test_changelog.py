"""CHANGELOG.md keeps up with the model: the headline figures recorded for the latest measured
commit are what the model produces now, and the changelog names the current model version.

A change of what a config and seed produce fails here until it is recorded: bump
``sim.MODEL_VERSION``, add a CHANGELOG.md entry and the new measurements to
docs/changelog_measurements.csv (the command is in CHANGELOG.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.configuration import load
from sim.experiments.evaluators import evaluate

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ["capability_extracted", "defender_total_cost_usd", "attacker_net_value_usd"]
POINTS = [("alibaba_2026", 0), ("alibaba_2026", 100000), ("feb2026_three_labs", 100000)]


def latest() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "docs" / "changelog_measurements.csv")
    return df[df["commit"] == df["commit"].iloc[-1]]


def test_the_changelog_names_the_current_model_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert f"model version {sim.MODEL_VERSION}" in text.lower()


@pytest.mark.parametrize(("scenario", "budget"), POINTS)
def test_the_latest_recorded_headline_figures_are_what_the_model_produces(scenario, budget):
    rows = latest()
    rows = rows[(rows["scenario"] == scenario) & (rows["seed"] == 0)]
    recorded = {f: rows.loc[rows["figure"] == f"{f}[B={budget}]", "value"] for f in FIGURES}
    assert all(len(v) == 1 for v in recorded.values()), f"no record for {scenario} at B={budget}"
    cfg = load(
        [
            f"scenario={scenario}",
            "seed=0",
            f"detection.budget_usd_per_day={budget}",
            "output.plots=false",
            "output.progress=off",
        ]
    ).cfg
    summary = evaluate(cfg, scenario=scenario, progress=False, summary_only=True).summary
    changed = {
        f: (float(v.iloc[0]), summary[f])
        for f, v in recorded.items()
        if not math.isclose(float(v.iloc[0]), summary[f], rel_tol=1e-9, abs_tol=1e-9)
    }
    assert not changed, (
        f"headline figures of {scenario} (seed 0, B = {budget}) changed (recorded, now): "
        f"{changed}; bump sim.MODEL_VERSION and record the change in CHANGELOG.md and "
        "docs/changelog_measurements.csv"
    )
