"""Studies: priors, designs, the runner and its analyses (issue #11).

The estimators are checked through the study path itself (design -> evaluate_design -> rows ->
response vectors -> indices -> the folder's tables) against functions with known answers; the
model-backed studies run on a tiny world.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_sweeps import TINY

from sim.cli import main
from sim.configuration import group_options
from sim.experiments.priors import Factor, Priors
from sim.experiments.studies import load_study, parse_settings, play
from sim.experiments.test_functions import Ishigami, Linear, ishigami_indices
from sim.parameters import StudyConfig


def _box(names: list[str], lo: float, hi: float) -> Priors:
    return Priors("test", [Factor(n, keys=[], bounds=(lo, hi)) for n in names])


# --------------------------------------------------------------------------- configs
@pytest.mark.parametrize("study", group_options("study"))
def test_every_study_config_composes_with_every_prior(study):
    for priors in group_options("uncertainty"):
        loaded, s, p, bases, options = load_study([f"study={study}", f"uncertainty={priors}"])
        assert s.kind in ("morris", "sobol", "curve", "discovery", "robust", "stackelberg")
        assert len(p.factors) >= 2 and set(bases) == set(options)
        # every factor's extremes are valid worlds (parse checks the corners)
        assert all(f.resolved for f in p.factors)


def test_bad_priors_and_settings_fail_naming_the_key(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cases = [
        (
            ["+uncertainty.factors.bogus={keys:[world.nope],bounds:[1,2]}"],
            "uncertainty.factors.bogus.keys",
        ),
        (
            ["+uncertainty.factors.bogus={keys:[world.days],bounds:[1,2],wat:1}"],
            "uncertainty.factors.bogus.wat",
        ),
        (
            ["+uncertainty.factors.bogus={keys:[world.days],bounds:[1,5000]}"],
            "uncertainty.factors.bogus.bounds",
        ),
        (["uncertainty.factors.gmax.bounds=[0.5,2.0]"], "uncertainty.factors.gmax.bounds"),
        (["uncertainty.factors.penalty.dist=normal"], "uncertainty.factors.penalty.dist"),
        (["uncertainty.factors.n_half.bounds=[0,2]"], "uncertainty.factors.n_half.bounds"),
        (
            ["+uncertainty.factors.again={keys:[review.analyst_usd_per_hour],bounds:[40,60]}"],
            "uncertainty.factors.again.keys",
        ),
        (["study.samples=100", "study=sobol"], "study.samples"),
        (["study.outputs=[capability_extractd]"], "study.outputs"),
        (["study.kind=grid"], "study.kind"),
        (["study.factors=[n_hlaf]"], "study.factors"),
        (["study.budgets=[0,-1]"], "study.budgets"),
    ]
    for extra, key in cases:
        args = [
            "study",
            *(["study=morris"] if not any(a.startswith("study=") for a in extra) else []),
            *extra,
            *TINY,
        ]
        assert main(args) == 2, extra
        err = capsys.readouterr().err
        assert key in err, (extra, err)
    assert main(["study"]) == 2
    assert "allowed: " in capsys.readouterr().err and "morris" in capsys.readouterr().err + "morris"
    assert main(["study", "study=nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()  # nothing written before the inputs were good


def test_gmax_bound_error_names_the_driven_key():
    from sim.validation import ConfigError

    with pytest.raises(ConfigError) as e:
        load_study(["study=morris", "uncertainty.factors.gmax.bounds=[0.5,2.0]"])
    assert "capability.domains." in e.value.message and "gmax" in e.value.message


def test_a_tied_factor_sets_every_key_it_drives():
    loaded, s, p, bases, _ = load_study(["study=morris"])
    base = bases["base"]
    x = p.values(np.full((1, len(p.factors)), 0.5))[0]
    cfg = p.apply(base, x)
    j = p.names.index("n_half")
    for name, dom in base.capability.domains.items():
        assert cfg.capability.domains[name].n_half == pytest.approx(dom.n_half * x[j])
    j = p.names.index("account_price")
    for name, sup in base.suppliers.items():
        assert cfg.suppliers[name].base_price_usd == pytest.approx(sup.base_price_usd * x[j])
    assert base.capability.domains["agentic"].n_half == 500000.0  # the base is untouched


# --------------------------------------------------------------------------- estimators
def test_sobol_through_the_study_path_recovers_the_ishigami_indices(tmp_path):
    from sim.analysis.sensitivity import sobol
    from sim.analysis.study_report import responses

    s = StudyConfig(
        kind="sobol", samples=1024, budgets=[0.0], outputs=[], backend="joblib", n_jobs=2, batch=256
    )
    priors = _box(["x1", "x2", "x3"], -math.pi, math.pi)
    result = play(s, priors, Ishigami())
    assert len(result.samples) == 1024 * 5 and result.samples["error"].isna().all()
    t = sobol(priors.names, responses(result.samples, "y", "base", 0.0), resamples=200).set_index(
        "factor"
    )
    for name, (s1, st) in ishigami_indices().items():
        assert abs(t.loc[name, "S1"] - s1) < max(0.05, 2 * t.loc[name, "S1_conf"]), name
        assert abs(t.loc[name, "ST"] - st) < max(0.05, 2 * t.loc[name, "ST_conf"]), name
    assert t.loc["x3", "S1_shown"] == pytest.approx(0.0, abs=0.05)
    # the convergence check is a real second estimate on half the base samples
    assert (t["S1_half"] != t["S1"]).all() and (t["change_at_half"] < 0.2).all()


def test_morris_through_the_study_path_gives_known_elementary_effects():
    from sim.analysis.sensitivity import morris
    from sim.analysis.study_report import responses

    s = StudyConfig(
        kind="morris", samples=30, levels=4, budgets=[0.0], outputs=[], backend="sequential"
    )
    priors = Priors(
        "lin",
        [
            Factor("a", [], bounds=(0, 2)),
            Factor("b", [], bounds=(10, 11)),
            Factor("c", [], bounds=(-1, 1)),
        ],
    )
    result = play(s, priors, Linear([3.0, -5.0, 0.0]))
    t = morris(
        priors.names, result.design.unit, responses(result.samples, "y", "base", 0.0), 4, 200
    ).set_index("factor")
    # y = 3a - 5b: mu* = |coef| x the factor's range, sigma = 0, mu keeps the sign
    assert t.loc["a", "mu_star"] == pytest.approx(6.0) and t.loc["a", "sigma"] < 1e-9
    assert t.loc["b", "mu_star"] == pytest.approx(5.0) and t.loc["b", "mu"] == pytest.approx(-5.0)
    assert t.loc["c", "mu_star"] == pytest.approx(0.0)
    # Ishigami: x3 acts only through its interaction with x1, whose sign is symmetric
    priors = _box(["x1", "x2", "x3"], -math.pi, math.pi)
    s.samples = 200
    r = play(s, priors, Ishigami())
    t = morris(
        priors.names, r.design.unit, responses(r.samples, "y", "base", 0.0), 4, 100
    ).set_index("factor")
    assert abs(t.loc["x3", "mu"]) < 0.5 * t.loc["x3", "mu_star"]
    assert t.loc["x3", "sigma"] > t.loc["x3", "mu_star"] * 0.5


def test_prim_recovers_a_planted_box():
    from sim.analysis.discovery import find_box

    for seed in (3, 4, 5):
        rng = np.random.default_rng(seed)
        x = pd.DataFrame(rng.uniform(size=(1500, 4)), columns=["a", "b", "c", "d"])
        inside = (x["a"] > 0.6) & (x["b"] < 0.3)
        noise = rng.uniform(size=len(x)) < 0.03  # 3% of the labels flipped
        yes = (inside ^ noise).to_numpy()
        box = find_box(x, yes, question="planted")
        lim = box.limits.set_index("factor")
        assert set(lim.index) == {"a", "b"}, seed  # c and d are noise: not restricted
        assert lim.loc["a", "low"] == pytest.approx(0.6, abs=0.05)
        assert lim.loc["b", "high"] == pytest.approx(0.3, abs=0.05)
        assert box.density >= 0.9 and box.coverage >= 0.75
        assert "a" in box.rule() and "<=" in box.rule()


def test_regret_and_satisficing_on_a_hand_computed_example():
    from sim.analysis.robustness import rank

    # three worlds, two options; loss to minimise. Baseline world: A 10, B 12.
    rows = []
    losses = {"A": [10, 30, 20], "B": [14, 12, 22]}
    for o, vals in losses.items():
        for i, v in enumerate(vals):
            rows.append(
                {
                    "world": "sampled",
                    "sample": i,
                    "option": o,
                    "budget": 0.0,
                    "replicate": 0,
                    "loss": float(v),
                    "error": None,
                }
            )
        rows.append(
            {
                "world": "baseline",
                "sample": -1,
                "option": o,
                "budget": 0.0,
                "replicate": 0,
                "loss": {"A": 10.0, "B": 12.0}[o],
                "error": None,
            }
        )
    unit = pd.DataFrame({"u": [0.0, 1.0, 0.5]}, index=[0, 1, 2])

    def ranked(baseline: float, threshold: float) -> pd.DataFrame:
        return rank(
            pd.DataFrame(rows),
            unit,
            np.array([baseline]),
            "loss",
            "min",
            percentile=100,
            op="<=",
            threshold=threshold,
        ).set_index("option")

    t = ranked(0.5, 15.0)
    # best per world: 10, 12, 20 -> regrets A: 0, 18, 0; B: 4, 0, 2
    assert t.loc["A", "regret2_p100"] == pytest.approx(18.0)
    assert t.loc["B", "regret2_p100"] == pytest.approx(4.0)
    assert t.loc["A", "regret2_rel_p100"] == pytest.approx(18.0 / 12.0)
    assert list(t.index) == ["B", "A"]  # B is more robust
    # regret type 1: A |10-10|/10, |30-10|/10, |20-10|/10 -> max 2.0; B max |22-12|/12
    assert t.loc["A", "regret1_p100"] == pytest.approx(2.0)
    assert t.loc["B", "regret1_p100"] == pytest.approx(10 / 12)
    # satisficing type 1 (loss <= 15): A 1 of 3, B 2 of 3
    assert t.loc["A", "satisficing1"] == pytest.approx(1 / 3)
    assert t.loc["B", "satisficing1"] == pytest.approx(2 / 3)
    # type 2: nearest failing world to u = 0.5. A fails at u = 1 and u = 0.5 -> 0; B at 0.5 -> 0
    assert t.loc["A", "satisficing2"] == pytest.approx(0.0)
    t = ranked(0.0, 21.0)
    # threshold 21: A fails only at u = 1 (distance 1); B fails at u = 0.5 (distance 0.5)
    assert t.loc["A", "satisficing2"] == pytest.approx(1.0)
    assert t.loc["B", "satisficing2"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- the command
def _folder(tmp_path, name):
    found = sorted((tmp_path / "results" / "studies" / name).glob("*"))
    return [f for f in found if not f.name.startswith(".")]


def test_morris_study_writes_its_folder_and_reruns_from_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [
        "study",
        "study=morris",
        "study.samples=2",
        "study.budgets=[0,20000]",
        "study.factors=[n_half,detector_quality,account_price]",
        *TINY,
    ]
    assert main(args) == 0
    (first,) = _folder(tmp_path, "morris")
    for f in (
        "samples.parquet",
        "morris_indices.csv",
        "priors.csv",
        "summary.md",
        "manifest.json",
        "morris_B0.png",
        "morris_B20000.png",
    ):
        assert (first / f).is_file(), f
    from test_figures import assert_citable

    assert_citable(first, json.loads((first / "manifest.json").read_text())["config_hash"])
    df = pd.read_parquet(first / "samples.parquet")
    assert len(df) == 2 * 4 * 2 and df["error"].isna().all()
    assert {"n_half", "detector_quality", "account_price", "capability_extracted"} <= set(df)
    summary = (first / "summary.md").read_text()
    assert "mu*" in summary and "n_half" in summary
    # the same command again: every run from the cache, the same rows
    capsys.readouterr()
    assert main(args) == 0
    second = [f for f in _folder(tmp_path, "morris") if f != first][0]
    again = pd.read_parquet(second / "samples.parquet")
    assert again["cached"].all()
    cols = [c for c in df if c not in ("cached", "seconds", "wall_seconds")]
    pd.testing.assert_frame_equal(df[cols], again[cols])


def test_same_seed_same_samples_sequential_and_joblib(tmp_path, monkeypatch):
    from sim.experiments.studies import run

    monkeypatch.chdir(tmp_path)
    common = [
        "study=curve",
        "study.samples=3",
        "study.budgets=[0,20000]",
        "study.baseline_replicates=2",
        *TINY,
    ]
    a = run([*common, "study.backend=sequential", f"output.results_dir={tmp_path}/a"]).samples
    b = run(
        [
            *common,
            "study.backend=joblib",
            "study.n_jobs=2",
            "study.batch=1",
            f"output.results_dir={tmp_path}/b",
        ]
    ).samples
    assert not a["cached"].any() and not b["cached"].any()  # two caches: both really ran
    cols = [c for c in a if c not in ("cached", "seconds", "wall_seconds")]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (a["world"] == "baseline").sum() == 2 * 2


def test_a_failing_run_is_a_row_and_an_interrupted_study_resumes(tmp_path, monkeypatch, capsys):
    import sim.experiments.cache as cache

    monkeypatch.chdir(tmp_path)
    args = ["study", "study=curve", "study.budgets=[0,20000]", "study.backend=sequential", *TINY]
    real = cache.cached_summary
    calls = {"n": 0}

    def flaky(cfg, scenario):
        calls["n"] += 1
        if cfg.replicate == 0 and cfg.detection.budget_usd_per_day == 20000 and calls["n"] < 4:
            raise RuntimeError("injected failure")
        return real(cfg, scenario)

    monkeypatch.setattr(cache, "cached_summary", flaky)
    assert main([*args, "study.samples=3"]) == 0
    (folder,) = _folder(tmp_path, "curve")
    df = pd.read_parquet(folder / "samples.parquet")
    assert df["error"].notna().sum() == 1 and "injected failure" in df["error"].dropna().iloc[0]
    assert df["error"].isna().sum() == len(df) - 1
    assert "1 runs failed" in (folder / "summary.md").read_text()

    def interrupted(cfg, scenario):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(cfg, scenario)

    calls["n"] = 0
    monkeypatch.setattr(cache, "cached_summary", interrupted)
    assert main([*args, "study.samples=5"]) == 130
    partial = [p for p in (tmp_path / "results/studies/curve").glob("*.partial")]
    kept = pd.read_parquet(partial[0] / "samples.parquet") if len(partial) == 1 else None
    assert kept is not None and len(kept) >= 2 and kept["error"].isna().all()
    assert "run the same command again" in capsys.readouterr().err
    monkeypatch.setattr(cache, "cached_summary", real)
    assert main([*args, "study.samples=5"]) == 0
    done = sorted(f for f in _folder(tmp_path, "curve") if f != folder and f.suffix != ".partial")
    df = pd.read_parquet(done[-1] / "samples.parquet")
    assert df["cached"].sum() >= len(kept) and df["error"].isna().all()


def test_curve_discovery_and_robust_studies_write_their_analyses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "study",
                "study=curve",
                "study.samples=4",
                "study.budgets=[0,20000]",
                "study.baseline_replicates=2",
                *TINY,
            ]
        )
        == 0
    )
    (c,) = _folder(tmp_path, "curve")
    # the median of B = 0 capability over 12 worlds of the same design (seed 0): half say yes
    from sim.experiments.studies import run

    probe = run(
        [
            "study=curve",
            "study.samples=12",
            *TINY,
            "study.budgets=[0]",
            f"output.results_dir={tmp_path}/probe",
        ]
    ).samples
    median = float(probe.groupby("sample")["capability_extracted"].mean().median())
    bands = pd.read_csv(c / "bands.csv")
    cap = bands[bands["output"] == "capability_extracted"].set_index("budget")
    assert (cap["param_low"] <= cap["median"]).all() and (cap["median"] <= cap["param_high"]).all()
    assert cap["baseline_replicates"].eq(2).all() and (c / "curve_bands.png").is_file()
    summary = (c / "summary.md").read_text()
    assert "parameter uncertainty" in summary and "seed noise" in summary

    assert (
        main(
            [
                "study",
                "study=discovery",
                "study.samples=12",
                *TINY,
                "study.budgets=[0,20000]",
                # a question no world can say yes to, and one that splits them at the median
                "study.questions=[{name:never,output:capability_extracted,budget:20000,"
                "against_budget:0,threshold:-10},{name:half,output:capability_extracted,"
                f"budget:0,op:'>=',threshold:{median}}}]",
            ]
        )
        == 0
    )
    (d,) = _folder(tmp_path, "discovery")
    assert (d / "discovery.png").is_file() and (d / "discovery_boxes.csv").is_file()
    text = (d / "summary.md").read_text()
    assert "yes in 0 of 12" in text and "too few" in text and "yes in 6 of 12" in text
    assert "Mostly when" in text or "No box" in text
    assert "PRIM" in (d / "summary.md").read_text()

    assert (
        main(
            [
                "study",
                "study=robust",
                "study.samples=3",
                *TINY,
                "study.budgets=[20000]",
                "study.baseline_replicates=1",
            ]
        )
        == 0
    )
    (r,) = _folder(tmp_path, "robust")
    t = pd.read_csv(r / "robustness.csv")
    assert len(t) >= 2 and t.filter(like="regret2").notna().all().all()
    assert (r / "robustness.png").is_file()
    from test_figures import assert_citable

    for folder in (c, d, r):  # every study figure: SVG, caption, footer citing the manifest
        assert_citable(folder, json.loads((folder / "manifest.json").read_text())["config_hash"])


def test_settings_defaults_are_valid():
    s = parse_settings(StudyConfig())
    assert s.backend == "joblib" and s.outputs


def test_study_stackelberg_runs_the_stackelberg_study_with_its_settings(tmp_path, monkeypatch):
    """``study=stackelberg`` is the same study as ``distillsim stackelberg`` (tested at size in
    test_stackelberg.py): the config's settings reach it, the study keys do not reach the world."""
    import sim.experiments.stackelberg as st

    seen = {}

    class Stop(Exception):
        pass

    def fake(overrides, **kw):
        seen.update(kw, overrides=overrides)
        raise Stop

    monkeypatch.setattr(st, "run", fake)
    with pytest.raises(Stop):
        main(["study", "study=stackelberg", "study.stackelberg.values=[1e6]", "world.days=5"])
    assert seen["values"] == [1e6] and seen["mixes"] == [
        "balanced",
        "content_heavy",
        "review_heavy",
    ]
    assert seen["choose_replicates"] == [0, 1] and seen["report_replicates"] == [2, 3, 4]
    assert seen["overrides"] == ["world.days=5"]
    assert main(["study", "study=stackelberg", "study.stackelberg.mixes=[nope]"]) == 2


def test_the_seed_band_stays_in_the_outputs_range():
    """A capability near 0 with two noisy baseline replicates: the Student-t interval would dip
    below 0 and is clipped there, as the sweep's curve table clips it."""
    from sim.analysis.curves import band_table

    rows = [
        {"world": "baseline", "budget": 0.0, "sample": -1, "error": None, "capability_extracted": v}
        for v in (0.001, 0.05)
    ] + [
        {"world": "sampled", "budget": 0.0, "sample": k, "error": None, "capability_extracted": v}
        for k, v in enumerate((0.02, 0.04, 0.03))
    ]
    t = band_table(pd.DataFrame(rows), "capability_extracted").iloc[0]
    assert t["seed_low"] == 0.0 and t["seed_high"] > 0.05
