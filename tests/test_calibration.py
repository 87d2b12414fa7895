"""Calibration: shipped fits reproduce their targets; targets are never inputs; the fit moves."""

from __future__ import annotations

import dataclasses
import io
import shutil

import numpy as np
import pytest
from conftest import SMALL
from omegaconf import OmegaConf

from sim.configuration import SCENARIO_DIR, load, scenario_names
from sim.experiments.calibration import fit, get_path, set_path, simulate_targets, table, write_back
from sim.experiments.evaluators import evaluate

SEEDS = [0, 1, 2, 3, 4]
QUIET = ["output.plots=false", "output.progress=off"]


def _fitted(name: str) -> bool:
    """Whether the shipped scenario records a fit (a scenario may list targets and fitted keys
    without one: its values then come from elsewhere, and it says so)."""
    return bool(load([f"scenario={name}"]).cfg.scenario.calibration.fit.date)


#: Scenarios whose shipped values come from a recorded fit: these must reproduce their targets.
FITTED = [n for n in scenario_names() if _fitted(n)]


def _numbers(node, path=""):
    """Every numeric leaf of a config tree with its path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _numbers(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, float(node)


@pytest.mark.parametrize("name", scenario_names())
def test_targets_are_not_inputs_and_not_fitted(name):
    loaded = load([f"scenario={name}"])
    spec = loaded.cfg.scenario.calibration
    assert spec.targets and spec.fitted
    if name in FITTED:
        assert spec.fit.seeds, "the shipped scenario records its fit"
    else:
        assert not spec.fit.seeds and spec.fit.max_abs_rel_error is None, "no half-recorded fit"
    tree = OmegaConf.to_container(loaded.tree)
    fitted = {f.key for f in spec.fitted}
    for t in spec.targets:
        assert t.metric not in fitted
        for path, v in _numbers(tree):
            if path.startswith("scenario.calibration"):
                continue
            assert not np.isclose(v, t.value, rtol=1e-6), f"target {t.metric} appears as {path}"


@pytest.mark.parametrize("name", FITTED)
def test_shipped_fit_reproduces_targets(name):
    loaded = load([f"scenario={name}", *QUIET])
    spec = loaded.cfg.scenario.calibration
    metrics = [t.metric for t in spec.targets]
    mean, _rows, _ = simulate_targets(loaded.cfg, metrics, SEEDS, name)
    # Each target within its tolerance, unless the fit record declares the miss (its worst
    # error, stated in the scenario and README): a shipped fit cannot drift out unrecorded.
    declared = spec.fit.max_abs_rel_error or 0.0
    for t in spec.targets:
        err = mean[t.metric] / t.value - 1
        assert abs(err) <= max(t.tolerance, declared * (1 + 1e-3)), (t.metric, mean[t.metric])
    # The fit record (and the README table made with it) is what the stored values give.
    worst = max(abs(mean[t.metric] / t.value - 1) for t in spec.targets)
    assert worst == pytest.approx(spec.fit.max_abs_rel_error, rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("name", FITTED)
def test_no_cap_binds_at_the_target(name):
    cfg = load([f"scenario={name}", *QUIET]).cfg
    if cfg.providers:
        # A world of several labs: each lab's own summary (its branches, its account market);
        # an operator's budget is one pool over its branches.
        from sim.outcomes import summarize
        from sim.world import World

        world = World(cfg).run()
        per = [summarize(m, name) for m in world.models]
        world.release()
    else:
        per = [evaluate(cfg, name, progress=False).summary]
    for op_name, op in cfg.operators.items():
        spent = sum(s["operators"][op_name]["attacker_spend_usd"] for s in per)
        assert spent < 0.9 * op.budget_usd, "the budget binds"
        days = (min(op.end_hour or 1e18, cfg.world.days * 24) - op.start_hour) / 24
        for s in per:
            o = s["operators"][op_name]
            assert o["stop_reason"] != "budget", "the budget binds"
            assert o["accounts_created"] < 0.5 * op.creation_per_day * days, "creation cap binds"
    # No supplier makes an order wait for production, and none sells near its capacity.
    for s in per:
        for sup_name, sup in s["market"].items():
            p = cfg.suppliers[sup_name]
            assert (sup["mean_wait_hours"] or 0.0) < 1.0, f"supplier {sup_name} makes orders wait"
            assert sup["accounts_bought"] < 0.5 * (p.stock + p.capacity_per_day * cfg.world.days)
        assert not cfg.market.enabled or s["market"], "the market is on: its suppliers are reported"


def test_calibration_is_not_inert():
    """More detection spend changes what is attributed and what really happened."""
    name = "alibaba_2026"
    base = load([f"scenario={name}", *QUIET]).cfg
    more = load([f"scenario={name}", *QUIET, "detection.budget_usd_per_day=300000"]).cfg
    metrics = [
        "exchanges_attributed",
        "accounts_attributed",
        "exchanges_harvested",
        "accounts_created",
    ]
    a, _, _ = simulate_targets(base, metrics, [0, 1], name)
    b, _, _ = simulate_targets(more, metrics, [0, 1], name)
    assert b["exchanges_harvested"] < 0.95 * a["exchanges_harvested"]
    assert b["accounts_created"] > 1.1 * a["accounts_created"]
    assert abs(b["exchanges_attributed"] / a["exchanges_attributed"] - 1) > 0.05
    assert abs(b["accounts_attributed"] / a["accounts_attributed"] - 1) > 0.05


def test_fit_recovers_known_parameters(tmp_path):
    """Targets made by the model at known values; the fit starts elsewhere and finds them."""
    loaded = load([*SMALL, "world.days=8"])
    truth = {
        "operators.qwen.demand_per_day": 30000.0,
        "operators.qwen.tolerated_cadence_per_day": 40.0,
    }
    cfg = loaded.cfg
    for k, v in truth.items():
        set_path(cfg, k, v)
    seeds = [0, 1]
    metrics = ["exchanges_attributed", "accounts_attributed"]
    made, _, _ = simulate_targets(cfg, metrics, seeds, "small")
    spec = cfg.scenario.calibration
    spec.targets = [
        dataclasses.replace(t, value=made[t.metric], tolerance=0.05) for t in spec.targets
    ]
    spec.fitted = [
        dataclasses.replace(f, bounds=[f.bounds[0] / 100, f.bounds[1]]) for f in spec.fitted
    ]
    # Start 40% off in each parameter.
    cfg.operators["qwen"].demand_per_day = 30000.0 * 1.4
    cfg.operators["qwen"].tolerated_cadence_per_day = 40.0 * 0.6
    result = fit(dataclasses.replace(loaded, cfg=cfg), seeds, max_evaluations=40, log=io.StringIO())
    # At this small scale the objective is rough (a cluster more or less found moves the
    # attributed figures by a few percent), so the fit lands near, not on, the truth.
    assert result.max_abs_rel_error < 0.1
    got = dict(zip(result.keys, result.fitted, strict=True))
    for k, v in truth.items():
        assert got[k] == pytest.approx(v, rel=0.1), k
    text = table(result, dataclasses.replace(loaded, cfg=cfg))
    assert "exchanges_attributed" in text and "not fitted" in text
    # Writing back keeps the file's comments and records the fit.
    path = tmp_path / "alibaba_2026.yaml"
    shutil.copy(SCENARIO_DIR / "alibaba_2026.yaml", path)
    write_back(result, "alibaba_2026", path)
    new = path.read_text()
    assert "# @package _global_" in new and "[E]" in new
    doc = OmegaConf.load(path)
    assert get_path(OmegaConf.to_container(doc), "operators.qwen.demand_per_day") == pytest.approx(
        got["operators.qwen.demand_per_day"], rel=1e-5
    )
    assert doc.scenario.calibration.fit.seeds == seeds
