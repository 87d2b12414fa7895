"""Shared helpers: a small, fast world built from the real configs with overrides."""

from __future__ import annotations

import numpy as np
import pytest

from sim.configuration import load
from sim.experiments.evaluators import evaluate

#: A small world: 10 days, 1% of the legitimate population (each simulated account weighs 100),
#: one operator with ~1,000 accounts in clusters of 20.
SMALL_WORLD = [
    "world.days=10",
    "world.legit_sample_share=0.01",
    "output.plots=false",
    "output.progress=off",
]
SMALL = [
    *SMALL_WORLD,
    "operators.qwen.demand_per_day=30000",
    "operators.qwen.tolerated_cadence_per_day=30",
    "operators.qwen.cluster_size=20",
    "operators.qwen.creation_per_day=2000",
]


#: The defence mechanisms of issue #9 switched off: for tests that pin an older mechanism's
#: arithmetic in isolation (the flat account price, the latency's set-up time, ...).
PRE_MARKET = [
    "market.enabled=false",
    "learning.enabled=false",
    "operators.qwen.cluster_setup_usd=0",
    "operators.qwen.cluster_setup_hours=0",
]


def small_cfg(*overrides: str, base: list[str] = SMALL):
    return load([*base, *overrides]).cfg


def run_small(
    *overrides: str, seed: int | None = None, keep_model: bool = False, base: list[str] = SMALL
):
    extra = [f"seed={seed}"] if seed is not None else []
    return evaluate(small_cfg(*overrides, *extra, base=base), keep_model=keep_model, progress=False)


def mean_over_seeds(metric: str, overrides: list[str], seeds) -> float:
    vals = [run_small(*overrides, seed=s).summary[metric] for s in seeds]
    return float(np.mean([0.0 if v is None else v for v in vals]))


@pytest.fixture
def small():
    return run_small


def pytest_runtest_setup(item):
    """Fail, before it runs, a grouped test that ``--dist loadgroup`` did not group: the Ray and
    browser tests share machine-wide state (a Ray cluster, a port) and must run one after the
    other in one worker. pytest 9.2 silently broke xdist's grouping (pytest-xdist issue #1386),
    hence the pin in pyproject.toml."""
    mark = item.get_closest_marker("xdist_group")
    if mark and getattr(item.config.option, "loadgroup", False) and "@" not in item.nodeid:
        pytest.fail(
            f"--dist loadgroup did not group this test (xdist_group {mark.args[0]!r}): this "
            "pytest/pytest-xdist pair does not honour groups; pin pytest < 9.2 "
            "(pytest-xdist #1386)",
            pytrace=False,
        )
