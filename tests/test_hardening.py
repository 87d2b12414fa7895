"""Hardening (issue #13): no bad input crashes or is silently accepted; every figure and table
copes with any subset of a sweep's grid.

The bad inputs are generated, seeded: one bad value for every numeric key of the shipped
``alibaba_2026`` config (the value classes cycled over the keys in a shuffled order), and the
structural classes (unknown keys, ``+`` appends, empty mappings, shares, paths, dates, group
options, unicode). Each must fail validation with a :class:`ConfigError` that names the key.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from functools import cache

import numpy as np
import pandas as pd
import pytest

from sim.configuration import load
from sim.validation import ConfigError

SEED = 13
#: (override value, what it is) for a number; "range" cases are built from each key's bounds.
NUMBER_CLASSES = [
    ("nan", "nan"),
    ("inf", "inf"),
    ("-inf", "-inf"),
    ("1e400", "overflowing float"),
    ("99999999999999999999999", "overflowing int"),
    ("abc", "a string"),
    ("[1,2]", "a list where a scalar goes"),
    ("{a: 1}", "a mapping where a scalar goes"),
    ("${nope.nothing}", "a dangling interpolation"),
    ("${oc.env:HOME}", "an interpolation to a path"),
    ("", "an empty value"),
    ("ünïcødé", "unicode text"),
    ("range", "out of its range"),
]


def _numeric_keys() -> list[tuple[str, type, dict]]:
    cfg = load(["scenario=alibaba_2026"]).cfg
    out: list[tuple[str, type, dict]] = []

    def walk(o, path: str) -> None:
        items = (
            [(f.name, getattr(o, f.name), dict(f.metadata)) for f in dataclasses.fields(o)]
            if dataclasses.is_dataclass(o)
            else [(k, v, {}) for k, v in o.items()]
            if isinstance(o, dict)
            else []
        )
        for name, v, meta in items:
            key = f"{path}.{name}" if path else name
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append((key, type(v), meta))
            else:
                walk(v, key)

    walk(cfg, "")
    return out


def _out_of_range(typ: type, meta: dict) -> str | None:
    if "ge" in meta:
        v = meta["ge"] - 1 if typ is int else meta["ge"] - max(abs(meta["ge"]) * 0.5, 0.5)
    elif "gt" in meta:
        v = meta["gt"] if typ is int else meta["gt"] - 1e-3
    elif "le" in meta:
        v = meta["le"] + 1
    elif "lt" in meta:
        v = meta["lt"]
    elif "choices" in meta:
        return None
    else:
        return None
    return str(int(v) if typ is int else float(v))


@cache
def _cases() -> list[tuple[str, list[str], str]]:
    """(case id, overrides, the key the error must name)."""
    rng = np.random.default_rng(SEED)
    keys = _numeric_keys()
    order = rng.permutation(len(keys))
    cases = []
    for j, i in enumerate(order.tolist()):
        key, typ, meta = keys[i]
        value, what = NUMBER_CLASSES[j % len(NUMBER_CLASSES)]
        if value == "range":
            value = _out_of_range(typ, meta)
            if value is None:  # no range recorded: a string instead
                value, what = "abc", "a string"
        if typ is int and what == "nan":
            value, what = "1.5", "a fraction where an integer goes"
        cases.append((f"{key}={value} ({what})", [f"{key}={value}"], key))
    base = "scenario=alibaba_2026"
    structural = [
        ("world.dayz=3 (typo)", ["world.dayz=3"], "world.dayz"),
        ("+world.nope=1 (append to a typed node)", ["+world.nope=1"], "world.nope"),
        (
            "operators.qwen.budget=1 (typo in a mapping entry)",
            ["operators.qwen.budget=1"],
            "operators.qwen.budget",
        ),
        (
            "+detectors.vol2.kind=volume (no budget share)",
            ["+detectors.vol2.kind=volume"],
            "detection.shares.vol2",
        ),
        ("+detectors.x.kind=nope (unknown kind)", ["+detectors.x.kind=nope"], "detectors.x.kind"),
        ("+operators.x.label=x (a new operator)", ["+operators.x.label=x"], "operators.x"),
        (
            "+policies.kyc.nope=1 (unknown plug-in key)",
            ["+policies.kyc.nope=1"],
            "policies.kyc.nope",
        ),
        ("+suppliers.farm.nope=1", ["+suppliers.farm.nope=1"], "suppliers.farm"),
        ("operators={}", ["operators={}"], "operators"),
        ("legit.tiers={}", ["legit.tiers={}"], "legit.tiers"),
        ("capability.domains={}", ["capability.domains={}"], "capability.domains"),
        ("policies.kyc={}", ["policies.kyc={}"], "policies.kyc"),
        ("world={}", ["world={}"], "world"),
        (
            "detection.shares.volume=0.9 (shares over 1)",
            ["detection.shares.volume=0.9"],
            "detection.shares",
        ),
        ("+detection.shares.nope=0.1", ["+detection.shares.nope=0.1"], "detection.shares"),
        (
            "operators.qwen.targets.agentic=0.9 (weights over 1)",
            ["operators.qwen.targets.agentic=0.9"],
            "operators.qwen.targets",
        ),
        (
            "+operators.qwen.targets.cooking=0",
            ["+operators.qwen.targets.cooking=0"],
            "operators.qwen.targets.cooking",
        ),
        ("output.results_dir= (empty)", ["output.results_dir="], "output.results_dir"),
        ("output.results_dir=/proc/nope", ["output.results_dir=/proc/nope"], "output.results_dir"),
        (
            "output.results_dir=/etc/hostname/x (a file)",
            ["output.results_dir=/etc/hostname/x"],
            "output.results_dir",
        ),
        ("world.start_date=not-a-date", ["world.start_date=not-a-date"], "world.start_date"),
        ("world.start_date=2026-13-45", ["world.start_date=2026-13-45"], "world.start_date"),
        (
            "world.start_date=٢٠٢٦-٠٤-٢٢ (unicode digits)",
            ["world.start_date=٢٠٢٦-٠٤-٢٢"],
            "world.start_date",
        ),
        ("world.window_hours=5 (not a choice)", ["world.window_hours=5"], "world.window_hours"),
        ("enforcement.action=jail", ["enforcement.action=jail"], "enforcement.action"),
        ("review.discipline=", ["review.discipline="], "review.discipline"),
        (
            "detectors.volume.cadence_hours=5",
            ["detectors.volume.cadence_hours=5"],
            "detectors.volume.cadence_hours",
        ),
        ("operators.qwen.end_hour=0", ["operators.qwen.end_hour=0"], "operators.qwen.end_hour"),
        (
            "operators.qwen.start_hour=99999",
            ["operators.qwen.start_hour=99999"],
            "operators.qwen.start_hour",
        ),
        (
            "operators.qwen.demand_per_day=1e10 (fleet too large)",
            ["operators.qwen.demand_per_day=1e10"],
            "operators.qwen.tolerated_cadence_per_day",
        ),
        (
            "operators.qwen.creation_per_day=1e9",
            ["operators.qwen.creation_per_day=1e9"],
            "operators.qwen.creation_per_day",
        ),
        (
            "teacher.releases_hours=[10,5]",
            ["teacher.releases_hours=[10,5]"],
            "teacher.releases_hours[1]",
        ),
        (
            "teacher.releases_hours=[nan]",
            ["teacher.releases_hours=[nan]"],
            "teacher.releases_hours[0]",
        ),
        (
            "analysis.capability_levels=[0.1,inf]",
            ["analysis.capability_levels=[0.1,inf]"],
            "analysis.capability_levels[1]",
        ),
        (
            "latency.detector_hours.nope=1",
            ["+latency.detector_hours.nope=1"],
            "latency.detector_hours.nope",
        ),
        (
            "enforcement.sweep_signals.ip=2",
            ["+enforcement.sweep_signals.ip=2"],
            "enforcement.sweep_signals.ip",
        ),
        ("analysis.headline=nobody", ["analysis.headline=nobody"], "analysis.headline"),
        ("scenario=nope", ["scenario=nope"], "scenario"),
        ("mix=nope", ["mix=nope"], "mix"),
        ("detectors=[volume,nope]", ["detectors=[volume,nope]"], "detectors"),
        ("attacker=", ["attacker="], "attacker"),
        ("attacker.mode=genius", ["attacker.mode=genius"], "attacker.mode"),
        (
            "attacker.search.trials=5 (not best response)",
            ["attacker.search.trials=5"],
            "attacker.search",
        ),
        ("world.days=3 world.days=4 (repeated)", ["world.days=3", "world.days=4"], "world.days"),
        ("world.days (no value)", ["world.days"], "world.days"),
    ]
    cases += [
        (cid, [base, *ov] if not ov[0].startswith("scenario=") else ov, key)
        for cid, ov, key in structural
    ]
    return cases


def test_the_generator_covers_every_class():
    cases = _cases()
    assert len(cases) >= 200
    whats = {cid.rsplit("(", 1)[-1].rstrip(")") for cid, *_ in cases}
    for _, what in NUMBER_CLASSES:
        assert what in whats, what


@pytest.mark.parametrize("i", range(len(_cases())))
def test_bad_input_fails_in_validation_naming_the_key(i):
    cid, overrides, key = _cases()[i]
    ov = (
        overrides
        if any(o.startswith("scenario=") for o in overrides)
        else ["scenario=alibaba_2026", *overrides]
    )
    with pytest.raises(ConfigError) as err:
        load(ov, command_line=True)
    e = err.value
    assert e.key == key or e.key.startswith(key + "."), (cid, str(e))
    assert e.message and "Traceback" not in e.message and len(e.message) < 1000, (cid, str(e))


def test_accepted_extremes_run_a_tiny_world_to_finite_results(tmp_path):
    """Values at the edge of what validation accepts run, and give finite figures."""
    from sim.experiments.evaluators import evaluate
    from tests.test_sweeps import TINY

    edges = [
        ["capability.domains.agentic.exponent=0.01"],
        ["operators.qwen.tolerated_cadence_per_day=1000000"],
        ["operators.qwen.cluster_size=1"],
        ["operators.qwen.demand_per_day=0"],
        ["legit.tiers.consumer.median_exchanges_per_day=100000"],
        ["detection.budget_usd_per_day=100000000"],
        ["review.review_minutes_sigma=3"],
        ["policies.rate_limits.enabled=true", "policies.rate_limits.exchanges_per_account_day=1e9"],
    ]
    for ov in edges:
        cfg = load(["scenario=alibaba_2026", *TINY, *ov, f"output.results_dir={tmp_path}"]).cfg
        s = evaluate(cfg, summary_only=True).summary
        for k in ("capability_extracted", "defender_total_cost_usd", "attacker_net_value_usd"):
            assert np.isfinite(s[k]), (ov, k, s[k])


# --------------------------------------------------------------------------- grid subsets
@pytest.fixture(scope="module")
def mixed_sweep(tmp_path_factory):
    from tests.test_sweeps import TINY, _sweep

    tmp = tmp_path_factory.mktemp("mixed")
    grid = [
        "detection.budget_usd_per_day=0,20000",
        "attacker=fixed,adaptive",
        "replicate=range(0,2)",
    ]
    return tmp, _sweep(tmp, "sweep=spend_curve", *TINY, *grid, "hydra/launcher=basic")


SUBSETS = {
    "all": lambda d: d,
    "only adaptive": lambda d: d[d["attacker"] == "adaptive"],
    "only fixed": lambda d: d[d["attacker"] == "fixed"],
    "one point": lambda d: d.iloc[:1],
    "one budget": lambda d: d[d["detection.budget_usd_per_day"] == 20000],
    "one replicate": lambda d: d[d["replicate"] == 0],
    "all failed": lambda d: d.assign(error="RuntimeError: injected"),
    "one group, one failed": lambda d: d[d["attacker"] == "fixed"].assign(
        error=lambda x: np.where(np.arange(len(x)) == 0, "RuntimeError: injected", None)
    ),
}


@pytest.mark.parametrize("name", list(SUBSETS))
def test_every_figure_copes_with_any_subset_of_the_grid(mixed_sweep, tmp_path, name):
    from sim.analysis.report import report

    _, sweep = mixed_sweep
    df = pd.read_parquet(sweep / "runs.parquet")
    part = SUBSETS[name](df).reset_index(drop=True)
    folder = tmp_path / name.replace(" ", "_")
    folder.mkdir()
    part.to_parquet(folder / "runs.parquet", index=False)
    meta = json.loads((sweep / "sweep.json").read_text())
    meta["errors"] = int(part["error"].notna().sum())
    (folder / "sweep.json").write_text(json.dumps(meta))
    report(folder)
    text = (folder / "summary.md").read_text()
    if part["error"].isna().any():
        for f in ("curve.csv", "curve.png", "frontier.png", "breakeven_vs_value.png"):
            assert (folder / f).is_file(), (name, f)
    else:
        assert "No run succeeded" in text
    shutil.rmtree(folder)


# --------------------------------------------------------------------------- faults
MIXED_GRID = [
    "detection.budget_usd_per_day=0,20000",
    "attacker=fixed,adaptive",
    "replicate=range(0,2)",
]


def test_a_corrupted_cache_entry_is_caught_recomputed_and_reported(mixed_sweep, capsys):
    """A decodable entry whose figures were altered, a truncated one and one holding another
    key's summary are each recomputed (the rest come from the cache) and reported."""
    from sim.experiments.cache import read_entry
    from tests.test_sweeps import TINY, _figures, _sweep

    tmp, first = mixed_sweep
    cache = tmp / "results" / "cache"
    entries = sorted(p for p in cache.rglob("*.json") if p.parent.name != "best_response")
    assert len(entries) == 8
    tampered, truncated, swapped = entries[:3]
    e = json.loads(tampered.read_text())
    body = json.loads(e["summary"])
    body["capability_extracted"] = 0.999  # still valid JSON: only the checksum can tell
    e["summary"] = json.dumps(body, sort_keys=True)
    tampered.write_text(json.dumps(e))
    truncated.write_text(truncated.read_text()[:50])
    swapped.write_text(entries[3].read_text())
    for p in (tampered, truncated, swapped):
        assert read_entry(p, p.stem)[0] is None
    capsys.readouterr()
    again = _sweep(tmp, "sweep=spend_curve", *TINY, *MIXED_GRID, "hydra/launcher=basic")
    err = capsys.readouterr().err
    df = pd.read_parquet(again / "runs.parquet")
    assert (~df["cached"]).sum() == 3
    pd.testing.assert_frame_equal(_figures(first), _figures(again))
    log = (cache / "recomputed.log").read_text().splitlines()
    reasons = {line.split(" ", 2)[1].split("/")[-1]: line for line in log}
    assert "checksum mismatch" in reasons[tampered.name]
    assert "unreadable" in reasons[truncated.name]
    assert "another key" in reasons[swapped.name]
    assert all(p.stem in err for p in (tampered, truncated, swapped))
    for p in entries:
        assert read_entry(p, p.stem)[0] is not None


def test_two_sweeps_at_once_on_one_cache_corrupt_nothing(tmp_path):
    """Two sweeps share points and run at the same time on one results/cache: both finish,
    every entry verifies, and the shared points agree."""
    import subprocess
    import sys

    from sim.experiments.cache import read_entry
    from tests.test_sweeps import TINY

    grids = [
        ["detection.budget_usd_per_day=0,20000,50000", "replicate=range(0,2)"],
        ["detection.budget_usd_per_day=20000,50000,80000", "replicate=range(0,2)"],
    ]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sim.cli",
                "sweep",
                "sweep=spend_curve",
                *TINY,
                *g,
                "attacker=fixed",
                "hydra/launcher=basic",
                "output.progress=off",
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for g in grids
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    entries = [p for p in (tmp_path / "results" / "cache").rglob("*.json")]
    assert len(entries) == 8  # 4 budgets x 2 replicates, the shared ones stored once
    assert all(read_entry(p, p.stem)[0] is not None for p in entries)
    assert not list((tmp_path / "results" / "cache").rglob("*.tmp-*"))
    frames = [
        pd.read_parquet(tmp_path / out.strip().splitlines()[-1] / "runs.parquet") for out, _ in outs
    ]
    cols = [
        "detection.budget_usd_per_day",
        "replicate",
        "capability_extracted",
        "defender_total_cost_usd",
    ]
    shared = [
        f[f["detection.budget_usd_per_day"].isin([20000, 50000])][cols]
        .sort_values(cols[:2])
        .reset_index(drop=True)
        for f in frames
    ]
    pd.testing.assert_frame_equal(shared[0], shared[1])


def test_a_sweep_killed_outright_resumes_from_the_cache_losing_no_finished_point(tmp_path):
    """SIGKILL of the driver mid-sweep: the rerun takes every point finished before the kill
    from the cache and computes only the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_sweeps import TINY

    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        "sweep=spend_curve",
        *TINY,
        "detection.budget_usd_per_day=0,10000,20000,40000,80000,160000",
        "replicate=range(0,2)",
        "attacker=fixed",
        "hydra/launcher=basic",
        "output.progress=off",
    ]
    cache = tmp_path / "results" / "cache"

    def entries() -> list:
        return [p for p in cache.rglob("*.json")] if cache.is_dir() else []

    p = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while len(entries()) < 3 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    done = {e.stem for e in entries()}
    assert 3 <= len(done) < 12, len(done)  # killed part-way
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    df = pd.read_parquet(tmp_path / out.stdout.strip().splitlines()[-1] / "runs.parquet")
    assert len(df) == 12 and df["error"].isna().all()
    assert df["cached"].sum() >= len(done)  # nothing finished before the kill is recomputed
    assert len(entries()) == 12


def _command(tmp, args: list[str], env_extra: dict[str, str], table: str):
    """Run ``distillsim <args>`` in a subprocess with ``env_extra``; its output folder's table."""
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env_extra},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    # The folder is the last line of stdout that names one (Ray forwards worker logs there too).
    lines = [ln.strip() for ln in out.stdout.splitlines()]
    paths = [ln for ln in lines if ln and "\x1b" not in ln and max(map(len, ln.split("/"))) < 255]
    folder = next(tmp / ln for ln in reversed(paths) if (tmp / ln / table).is_file())
    return pd.read_parquet(folder / table), out.stderr


def _joblib_sweep(tmp, env_extra: dict[str, str]):
    from tests.test_sweeps import TINY

    args = [
        "sweep",
        "sweep=spend_curve",
        *TINY,
        "detection.budget_usd_per_day=0,20000",
        "replicate=range(0,2)",
        "attacker=fixed",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "output.progress=off",
    ]
    return _command(tmp, args, env_extra, "runs.parquet")


def test_a_killed_worker_loses_no_other_point(tmp_path):
    """A joblib worker SIGKILLed mid-point (as the OOM killer would) loses its whole batch under
    loky: the batch is rerun a point at a time and every point finishes."""
    marker = tmp_path / "killed-once"
    df, err = _joblib_sweep(
        tmp_path, {"DISTILLSIM_KILL_POINT": f"detection.budget_usd_per_day=20000:once:{marker}"}
    )
    assert marker.exists() and "was lost" in err
    assert len(df) == 4 and df["error"].isna().all()


def test_a_point_that_always_kills_its_worker_is_recorded_as_failed(tmp_path):
    df, _ = _joblib_sweep(tmp_path, {"DISTILLSIM_KILL_POINT": "detection.budget_usd_per_day=20000"})
    bad = df[df["error"].notna()]
    assert len(df) == 4 and len(bad) == 2
    assert set(bad["detection.budget_usd_per_day"]) == {20000}
    assert bad["error"].str.contains("worker running this point died").all()
    assert df[df["error"].isna()]["detection.budget_usd_per_day"].eq(0).all()


def _joblib_study(tmp, env_extra: dict[str, str]):
    from tests.test_sweeps import TINY

    args = [
        "study",
        "study=curve",
        "study.samples=3",
        "study.budgets=[0,20000]",
        "study.baseline_replicates=1",
        *TINY,
        "study.backend=joblib",
        "output.progress=off",
    ]
    return _command(tmp, args, env_extra, "samples.parquet")


def test_a_study_loses_no_world_to_a_killed_worker(tmp_path):
    marker = tmp_path / "killed-once"
    df, err = _joblib_study(tmp_path, {"DISTILLSIM_KILL_SAMPLE": f"1:once:{marker}"})
    assert marker.exists() and "worker died" in err
    assert len(df) == 8 and df["error"].isna().all()


def test_a_world_that_always_kills_its_worker_is_recorded_as_failed(tmp_path):
    df, _ = _joblib_study(tmp_path, {"DISTILLSIM_KILL_SAMPLE": "2"})
    bad = df[df["error"].notna()]
    assert len(df) == 8 and set(bad["sample"]) == {2} and len(bad) == 2
    assert bad["error"].str.contains("worker running this world died").all()


def test_too_little_free_space_fails_before_any_work(tmp_path, monkeypatch):
    import collections

    import sim.validation

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(sim.validation.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 10**6))
    with pytest.raises(ConfigError) as err:
        load(["scenario=alibaba_2026", f"output.results_dir={tmp_path}"])
    assert err.value.key == "output.results_dir" and "MiB free" in err.value.message


def test_a_disk_that_fills_during_writing_leaves_no_folder_and_no_traceback(
    tmp_path, monkeypatch, capsys
):
    import errno

    from sim.cli import main
    from tests.test_sweeps import TINY

    def full(self, path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    code = main(["run", *TINY, f"output.results_dir={tmp_path}", "output.plots=false"])
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    assert not list((tmp_path / "runs").glob("*/*"))  # no run folder, finished or not
    assert not list(tmp_path.rglob(".tmp-*"))


@pytest.mark.parametrize("command", ["sweep", "study"])
def test_a_disk_that_fills_while_a_sweep_or_study_writes_ends_in_one_line(
    command, tmp_path, monkeypatch, capsys
):
    """No traceback (Hydra prints one for any exception a sweep raises), exit 1, nothing that
    looks finished: a sweep keeps only its ``.partial`` folder, a study no folder at all."""
    import errno

    from sim.cli import main
    from tests.test_sweeps import TINY

    def full(self, path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    common = [*TINY, f"output.results_dir={tmp_path}", "output.progress=off"]
    if command == "sweep":
        args = ["sweep", "sweep=spend_curve", "detection.budget_usd_per_day=0,20000"]
        args += ["attacker=fixed", "replicate=range(0,1)", "hydra/launcher=basic", *common]
    else:
        args = ["study", "study=curve", "study.samples=2", "study.budgets=[0,20000]"]
        args += ["study.baseline_replicates=1", "study.backend=sequential", *common]
    monkeypatch.chdir(tmp_path)
    code = main(args)
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err and "Traceback" not in err
    folders = (tmp_path / f"{command}s").glob("*/*")
    assert [p for p in folders if not p.name.endswith(".partial")] == []
    assert not list(tmp_path.rglob(".tmp-*"))


#: Bad arguments to every command other than run (whose overrides the generator above covers):
#: (command line, what the one error line must name).
COMMAND_CASES = [
    (["sweep", "--bogus"], "--bogus"),
    (["sweep", "detection.budget_usd_per_dy=1,2"], "did you mean budget_usd_per_day"),
    (["sweep", "detection.budget_usd_per_day=nan,1"], "detection.budget_usd_per_day"),
    (["sweep", "world.days=0,5"], "world.days"),
    (["sweep", "sweep=nope"], "sweep"),
    (["sweep", "hydra/launcher=nope"], "hydra/launcher"),
    (["study"], "study"),
    (["study", "study=nope"], "study"),
    (["study", "study=morris", "study.samples=-1"], "study.samples"),
    (["study", "study=morris", "study.samples=abc"], "study.samples"),
    (["study", "study=curve", "study.budgets=[nan]"], "study.budgets"),
    (["study", "study=morris", "study.backend=gpu"], "study.backend"),
    (["study", "study=morris", "--bogus"], "--bogus"),
    (["calibrate", "--seeds", "x"], "--seeds"),
    (["calibrate", "seed=1,2"], "distillsim sweep"),
    (["calibrate", "scenario=nope"], "scenario"),
    (["report"], "folder"),
    (["report", "/nonexistent/folder"], "/nonexistent/folder"),
    (["show"], "name"),
    (["show", "review.analystz"], "review.analystz"),
    (["show", "detection.budget_usd_per_dy"], "did you mean budget_usd_per_day"),
    (["run", "detection.budget_usd_per_day=1,2"], "distillsim sweep"),
    (["run", "replicate=range(0,3)"], "distillsim sweep"),
    (["stackelberg", "--budgets", "x"], "--budgets"),
    (["stackelberg", "--replicates", "0"], "--replicates"),
]


@pytest.mark.parametrize("args,named", COMMAND_CASES, ids=[" ".join(a) for a, _ in COMMAND_CASES])
def test_bad_arguments_to_every_command_fail_in_one_line(
    args, named, tmp_path, monkeypatch, capsys
):
    from sim.cli import main

    monkeypatch.chdir(tmp_path)
    extra = [] if args[0] in ("report", "show") else [f"output.results_dir={tmp_path}/r"]
    code = main([*args, *extra])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert named in err.strip().splitlines()[-1]
    assert not (tmp_path / "r").exists() or not any(
        p for p in (tmp_path / "r").rglob("*") if p.is_file() and "cache" not in p.parts
    )


@pytest.mark.parametrize("command", ["run", "sweep", "study", "report", "calibrate", "show"])
def test_every_command_has_its_own_help(command, capsys):
    from sim.cli import COMMANDS, main

    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: distillsim {command} ")
    assert all(example in out for example in COMMANDS[command][2])
