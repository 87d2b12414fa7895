"""Sweeps: aggregation maths, launchers giving identical figures, cache/resume, failures, report."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.breakeven import break_even
from sim.analysis.curves import curve_table
from sim.analysis.frontier import frontier_table, pareto_mask
from sim.analysis.stats import mean_ci
from sim.cli import main

#: A tiny world: 5 days, 0.5% of the legitimate population, ~500 attacker accounts.
TINY = [
    "world.days=5",
    "world.legit_sample_share=0.005",
    "operators.qwen.demand_per_day=20000",
    "operators.qwen.tolerated_cadence_per_day=40",
    "operators.qwen.cluster_size=20",
]
GRID = ["detection.budget_usd_per_day=0,20000,400000", "attacker=fixed", "replicate=range(0,2)"]
FIGURES = [
    "curve.csv",
    "curve.png",
    "frontier.csv",
    "frontier.png",
    "breakeven.csv",
    "breakeven_vs_value.csv",
    "breakeven_vs_value.png",
    "summary.md",
    "runs.parquet",
]


# --------------------------------------------------------------------------- maths
def test_mean_ci_is_the_student_t_interval():
    m, lo, hi, n = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(0.975, 3)
    assert (m, n) == (2.5, 4)
    assert lo == pytest.approx(2.5 - half) and hi == pytest.approx(2.5 + half)
    m, lo, hi, n = mean_ci(np.array([5.0, np.nan]))
    assert m == 5.0 and math.isnan(lo) and n == 1


def test_event_times_carry_the_share_of_runs_that_reached_them():
    # Attributed after 10 h in one run of two, never in the other: the mean time is over the run
    # that got there, and the table says it was half of them.
    df = pd.DataFrame(
        {
            "detection_budget_usd_per_day": [1000.0, 1000.0],
            "error": [None, None],
            "capability_extracted": [0.3, 0.4],
            "attribution_hours": [10.0, None],
        }
    )
    row = curve_table(df, []).iloc[0]
    assert row["attribution_hours"] == 10.0
    assert row["attribution_hours_reached"] == 0.5
    assert "capability_extracted_reached" not in row


def test_pareto_set():
    cost = np.array([1.0, 2.0, 3.0, 2.0, 4.0])
    leak = np.array([0.9, 0.5, 0.2, 0.6, 0.2])
    assert pareto_mask(cost, leak).tolist() == [True, True, True, False, False]


def test_frontier_is_drawn_within_each_attacker_strategy():
    # The adaptive attacker leaks less at every budget; the fixed one's frontier still exists.
    curve = pd.DataFrame(
        {
            "attacker": ["fixed", "fixed", "adaptive", "adaptive"],
            "detection_budget_usd_per_day": [0.0, 1e4, 0.0, 1e4],
            "capability_extracted": [0.40, 0.38, 0.30, 0.29],
            "defender_total_cost_usd": [1.0, 2.0, 1.0, 2.0],
        }
    )
    front = frontier_table(curve, ["attacker"])
    assert front["pareto"].tolist() == [True, True, True, True]
    mixed = pareto_mask(curve["defender_total_cost_usd"], curve["capability_extracted"])
    assert mixed.tolist() == [False, False, True, True]


def test_best_mix_is_judged_on_paired_replicates():
    # Replicates differ a lot, but mix a beats mix b by 0.01 in every one of them (common random
    # numbers): the paired gap is clear although the two means' intervals overlap.
    from sim.analysis.report import _kind_tables

    base = np.array([0.30, 0.36, 0.42])
    df = pd.DataFrame(
        {
            "detection_budget_usd_per_day": 1000.0,
            "error": None,
            "mix": ["a"] * 3 + ["b"] * 3,
            "replicate": [0, 1, 2] * 2,
            "capability_extracted": np.r_[base, base + 0.01],
            "defender_total_cost_usd": 1.0,
        }
    )
    curve = curve_table(df, ["mix"])
    assert curve.loc[0, "capability_extracted_hi"] > curve.loc[1, "capability_extracted"]
    text = "\n".join(_kind_tables("detector_mix", df, curve, ["mix"], []))
    assert "| a |" in text and "yes, by 0.0100" in text


def test_a_failed_point_keeps_typed_coordinates():
    # Without a validated config the values are typed as Hydra types them, so a failed point's
    # column matches the others' (a bool next to a string would not fit in runs.parquet).
    from sim.experiments.sweeps import _swept_values

    raw = _swept_values(
        ["policies.sanctions.enabled=false", "replicate=1", "x.y=[100,200]", "attacker=fixed"]
    )
    assert raw == {
        "policies.sanctions.enabled": False,
        "replicate": 1,
        "x.y": "[100, 200]",
        "attacker": "fixed",
    }


def test_break_even_interpolates_and_never_extrapolates():
    # Linear in log B between 1,000 (+100) and 10,000 (-100): crosses at sqrt(1e3 * 1e4).
    b, why = break_even(np.array([0, 1e3, 1e4, 1e5]), np.array([300.0, 100.0, -100.0, -300.0]))
    assert why == "found" and b == pytest.approx(math.sqrt(1e7))
    # From B = 0 the interpolation is linear in B.
    b, why = break_even(np.array([0.0, 1000.0]), np.array([100.0, -300.0]))
    assert why == "found" and b == pytest.approx(250.0)
    assert break_even(np.array([0, 1e3, 1e4]), np.array([3.0, 2.0, 1.0])) == (None, "above")
    assert break_even(np.array([0, 1e3]), np.array([-1.0, -2.0])) == (None, "below")


# --------------------------------------------------------------------------- sweeps
def _sweep(tmp: Path, *args: str) -> Path:
    """Run ``distillsim sweep`` in ``tmp`` and return the sweep folder (last line of stdout)."""
    import contextlib
    import io
    import os

    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        with contextlib.redirect_stdout(out):
            assert main(["sweep", *args]) == 0
    finally:
        os.chdir(cwd)
    return tmp / out.getvalue().strip().splitlines()[-1]


def _figures(folder: Path) -> pd.DataFrame:
    df = pd.read_parquet(folder / "runs.parquet")
    cols = [
        "attacker",
        "detection.budget_usd_per_day",
        "replicate",
        "capability_extracted",
        "exchanges_harvested",
        "accounts_banned",
        "defender_total_cost_usd",
        "attacker_net_value_usd",
        "seed",
    ]
    return df[cols].sort_values(cols[:3]).reset_index(drop=True)


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep_basic")
    return tmp, _sweep(tmp, "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic")


def test_sweep_folder_and_runs_table(basic_sweep):
    tmp, folder = basic_sweep
    assert folder.parent.name == "spend_curve" and folder.parent.parent.name == "sweeps"
    for name in FIGURES:
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    df = pd.read_parquet(folder / "runs.parquet")
    assert len(df) == 6 and df["error"].isna().all()
    assert df["detection.budget_usd_per_day"].dtype.kind == "f"
    assert df["detection_budget_usd_per_day"].dtype.kind == "f"
    assert df["replicate"].dtype.kind == "i" and set(df["replicate"]) == {0, 1}
    assert (df["seed"] == 0).all()
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (folder / "summary.md").read_text()
    assert "break-even" in text and "root seed" in text and "git" in text


def test_every_sweep_figure_is_also_svg_with_caption_and_footer(basic_sweep):
    from test_figures import assert_citable

    _, folder = basic_sweep
    assert_citable(folder, json.loads((folder / "sweep.json").read_text())["config_hash"])
    svgs = {p.name for p in folder.glob("*.svg")}
    assert {"curve.svg", "curve_domains.svg", "frontier.svg", "breakeven_vs_value.svg"} <= svgs


def test_common_random_numbers_across_grid_points(basic_sweep):
    _, folder = basic_sweep
    df = pd.read_parquet(folder / "runs.parquet")
    # With no detection spend and no detection, the same replicate gives the same harvest
    # whatever else differs; replicate 0 and 1 differ.
    zero = df[df["detection.budget_usd_per_day"] == 0].set_index("replicate")
    assert zero.loc[0, "exchanges_harvested"] != zero.loc[1, "exchanges_harvested"]


def test_fixed_mode_curve_decreases_with_spend(basic_sweep):
    _, folder = basic_sweep
    curve = pd.read_csv(folder / "curve.csv").sort_values("detection_budget_usd_per_day")
    cap = curve["capability_extracted"].to_numpy()
    assert cap[0] > cap[-1]
    assert np.all(np.diff(cap) <= 1e-9)


def test_rerun_recomputes_nothing_and_resume_fills_only_the_gaps(basic_sweep):
    tmp, first = basic_sweep
    again = _sweep(tmp, "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic")
    df = pd.read_parquet(again / "runs.parquet")
    assert df["cached"].all()
    pd.testing.assert_frame_equal(_figures(first), _figures(again))
    # An interrupted sweep: two points never finished (their cache entries are missing).
    entries = sorted((tmp / "results" / "cache").rglob("*.json"))
    assert len(entries) == 6
    for p in entries[:2]:
        p.unlink()
    resumed = _sweep(tmp, "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic")
    df = pd.read_parquet(resumed / "runs.parquet")
    assert (~df["cached"]).sum() == 2
    pd.testing.assert_frame_equal(_figures(first), _figures(resumed))


def test_report_rebuilds_the_folder_from_runs_parquet(basic_sweep, tmp_path):
    _, folder = basic_sweep
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(folder / "runs.parquet", copy)
    shutil.copy(folder / "sweep.json", copy)
    assert main(["report", str(copy)]) == 0
    for name in FIGURES:
        assert (copy / name).is_file(), name
    for name in ("curve.csv", "frontier.csv", "breakeven.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(folder / name), pd.read_csv(copy / name))
    assert (copy / "summary.md").read_text() == (folder / "summary.md").read_text()


def test_joblib_launcher_gives_the_same_figures(basic_sweep, tmp_path):
    _, basic = basic_sweep
    folder = _sweep(
        tmp_path,
        "sweep=spend_curve",
        *TINY,
        *GRID,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    pd.testing.assert_frame_equal(_figures(basic), _figures(folder))
    # Same points, other launcher: the same config hash; the grid is part of it.
    meta_b, meta_j = (json.loads((f / "sweep.json").read_text()) for f in (basic, folder))
    assert meta_b["config_hash"] == meta_j["config_hash"]
    # What ran, not the preset: the command line's budgets and replicates, and its settings.
    assert meta_j["grid"]["detection.budget_usd_per_day"] == ["0", "20000", "400000"]
    assert meta_j["grid"]["replicate"] == ["0", "1"]
    assert "world.days=5" in meta_j["settings"]
    assert "`world.days=5`" in (folder / "summary.md").read_text()


def test_best_response_points_give_the_same_figures_whichever_launcher(tmp_path):
    """Each launcher searches the attacker's levers afresh (its own cache): same levers, same
    figures."""
    grid = [
        "detection.budget_usd_per_day=20000",
        "attacker=best_response",
        "attacker.search.trials=5",
        "attacker.search.train_replicates=1",
        "replicate=range(0,2)",
    ]
    for d in ("basic", "joblib"):
        (tmp_path / d).mkdir()
    a = _sweep(tmp_path / "basic", "sweep=spend_curve", *TINY, *grid, "hydra/launcher=basic")
    b = _sweep(
        tmp_path / "joblib",
        "sweep=spend_curve",
        *TINY,
        *grid,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    pd.testing.assert_frame_equal(_figures(a), _figures(b))


def test_a_failing_point_is_recorded_and_the_rest_aggregate(tmp_path, monkeypatch):
    import sim.experiments.cache

    real = sim.experiments.cache.evaluate if hasattr(sim.experiments.cache, "evaluate") else None
    from sim.experiments import evaluators

    original = evaluators.evaluate

    def flaky(cfg, *a, **k):
        if cfg.replicate == 1 and cfg.detection.budget_usd_per_day == 20000:
            raise RuntimeError("injected failure")
        return original(cfg, *a, **k)

    import sim.validation

    checked = sim.validation.validate

    def picky(cfg, *a, **k):  # a point whose config fails in its job (never seen up front)
        if cfg.replicate == 1 and cfg.detection.budget_usd_per_day == 400000:
            raise RuntimeError("injected invalid point")
        return checked(cfg, *a, **k)

    monkeypatch.setattr(evaluators, "evaluate", flaky)
    monkeypatch.setattr(sim.validation, "validate", picky)
    folder = _sweep(tmp_path, "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic")
    df = pd.read_parquet(folder / "runs.parquet")
    bad = df[df["error"].notna()]
    assert len(bad) == 2 and df["error"].isna().sum() == 4
    assert bad["error"].str.contains("injected failure").sum() == 1
    # Failed points keep their coordinates and the columns their types.
    assert set(bad["detection.budget_usd_per_day"]) == {20000, 400000}
    assert pd.api.types.is_integer_dtype(df["replicate"])
    meta = json.loads((folder / "sweep.json").read_text())
    assert set(meta["swept_keys"]) == {"detection.budget_usd_per_day", "replicate"}
    assert (folder / "curve.csv").is_file()
    assert "injected failure" in (folder / "summary.md").read_text()
    assert real is None or real is not flaky


def test_an_interrupted_sweep_is_marked_and_the_rerun_finishes_it(tmp_path, monkeypatch, capsys):
    from sim.experiments import evaluators

    original = evaluators.evaluate
    calls = []

    def interrupted(cfg, *a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(cfg, *a, **k)

    monkeypatch.setattr(evaluators, "evaluate", interrupted)
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic"]
    assert main(args) == 130
    assert "run the same command again" in capsys.readouterr().err
    sweeps = tmp_path / "results" / "sweeps" / "spend_curve"
    (left,) = list(sweeps.iterdir())
    assert left.name.endswith(".partial") and not (left / "runs.parquet").exists()
    assert main(["report", str(left)]) == 2
    assert "interrupted sweep" in capsys.readouterr().err
    monkeypatch.setattr(evaluators, "evaluate", original)
    done = _sweep(tmp_path, *args[1:])
    assert not done.name.endswith(".partial")
    df = pd.read_parquet(done / "runs.parquet")
    assert len(df) == 6 and df["error"].isna().all() and df["cached"].sum() == 2


def test_bad_sweep_input_fails_before_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "sweep=nope"]) == 2
    allowed = (
        "allowed: attackers, best_response_curve, detector_mix, displacement, policy_compare,"
        " policy_packages, sharing, speed_compare, spend_curve"
    )
    assert allowed in capsys.readouterr().err
    assert main(["sweep", "detection.budget_usd_per_day=0,-5"]) == 2
    err = capsys.readouterr().err
    assert "detection.budget_usd_per_day" in err and ">= 0" in err
    assert main(["sweep", "attacker=fixed,sideways"]) == 2
    assert "sideways" in capsys.readouterr().err
    assert main(["sweep", "replicate=range(0,-3)"]) == 2
    assert "replicate: the swept range is empty" in capsys.readouterr().err
    # Each value is valid on its own; one pair is not.
    pair = ["operators.qwen.start_hour=0,600", "operators.qwen.end_hour=1080,500"]
    assert main(["sweep", "attacker=fixed", *pair]) == 2
    err = capsys.readouterr().err
    assert "operators.qwen.end_hour" in err and "start_hour=600" in err
    assert list(tmp_path.iterdir()) == []


def test_ready_sweeps_have_the_promised_grids():
    from sim.configuration import compose_tree
    from sim.experiments.sweeps import expand

    def params(name):
        tree = compose_tree([f"sweep={name}"], return_hydra_config=True)
        return expand([], {str(k): str(v) for k, v in tree.hydra.sweeper.params.items()})

    spend = params("spend_curve")
    budgets = [float(b) for b in spend["detection.budget_usd_per_day"]]
    pos = [b for b in budgets if b > 0]
    assert 0.0 in budgets and len(pos) >= 9 and max(pos) / min(pos) >= 1e3  # decades of spend
    assert set(spend["attacker"]) == {"fixed", "adaptive"}
    pol = params("policy_compare")
    assert set(pol["policy"]) == {
        "baseline",
        "kyc_mandate",
        "intel_sharing",
        "sanctions",
        "sanctions_enacted",
        "export_controls",
        "output_poisoning",
        "watermarking",
        "rate_limits",
    }
    # B = 0 is the attacker cost multiplier's comparison point
    assert 0.0 in [float(b) for b in pol["detection.budget_usd_per_day"]]
    mix = params("detector_mix")
    mix_budgets = [float(b) for b in mix["detection.budget_usd_per_day"]]
    # B = 0 is the mix tables' comparison point (cut per $1M, attacker cost multiplier)
    assert 0.0 in mix_budgets and 3 <= len(mix_budgets) - 1 <= 4 and len(mix["mix"]) >= 4
    packages = params("policy_packages")
    assert {"baseline", "kyc_mandate", "sanctions", "kyc_sanctions", "kyc_sanctions_intel"} == set(
        packages["policy"]
    )
    assert 0.0 in [float(b) for b in packages["detection.budget_usd_per_day"]]
    assert set(params("attackers")["attacker"]) == {"fixed", "adaptive", "best_response_ladder"}
    br = params("best_response_curve")
    assert [float(b) for b in br["detection.budget_usd_per_day"]] == budgets
    assert compose_tree(["sweep=best_response_curve"]).attacker.mode == "best_response"
    assert set(params("speed_compare")["speed"]) == {"daily", "hourly", "streaming"}


def test_two_sweeps_share_the_points_they_have_in_common():
    """The sweep's name is a label, not part of the world: the cache key ignores it (and the
    output settings), but not a change to the world."""
    import dataclasses

    from sim.configuration import load
    from sim.experiments.cache import cache_key

    a = load(["sweep=spend_curve"]).cfg
    b = load(["sweep=attackers", "output.progress=off"]).cfg
    assert a.sweep.name != b.sweep.name
    assert cache_key(a, "alibaba_2026") == cache_key(b, "alibaba_2026")
    c = dataclasses.replace(a, replicate=1)
    assert cache_key(c, "alibaba_2026") != cache_key(a, "alibaba_2026")


def test_the_model_version_ignores_figures_and_text_but_not_the_model(tmp_path):
    """Editing a table or a figure keeps the cache; editing the model or an experiment does not."""
    import shutil

    import sim
    from sim.experiments.cache import source_digest

    root = tmp_path / "sim"
    shutil.copytree(Path(sim.__file__).parent, root)
    before = source_digest(root)
    (root / "analysis" / "curves.py").write_text("# a figure changed\n")
    (root / "commands.py").write_text("# the command line changed\n")
    assert source_digest(root) == before
    (root / "review.py").write_text("# the model changed\n")
    assert source_digest(root) != before
    (root / "review.py").unlink()
    shutil.copy(Path(sim.__file__).parent / "review.py", root / "review.py")
    (root / "experiments" / "studies.py").write_text("# an experiment changed\n")
    assert source_digest(root) != before
