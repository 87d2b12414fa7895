"""Every bad input fails before any folder is created, with one message naming the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.cli import main

CASES = [
    # (override, key in the message, words that must appear)
    ("world.dayz=3", "world.dayz", ["unknown key", "days"]),
    ("world.days=abc", "world.days", ["integer", "abc"]),
    ("seed=-1", "seed", [">= 0"]),
    ("seed=1.5", "seed", ["integer"]),
    ("attacker=foo", "attacker", ["adaptive", "fixed"]),
    ("scenario=nope", "scenario", ["alibaba_2026", "feb2026_three_labs"]),
    ("detectors=[volume,bogus]", "detectors", ["content", "linkage", "volume"]),
    ("detection.budget_usd_per_day=1e12", "detection.budget_usd_per_day", ["<= 100000000"]),
    ("scenario=", "scenario", ["missing value", "alibaba_2026"]),
    ("operators.qwen.start_hour=2000", "operators.qwen.start_hour", ["horizon", "1080"]),
    ("operators.qwne.cluster_size=10", "operators.qwne", ["existing: qwen"]),
    ("policies.sanctions.enabled=maybe", "policies.sanctions.enabled", ["true, false"]),
    ("hydra.run.dir=/tmp/x", "hydra.run.dir", ["output.results_dir"]),
    ("teacher.releases_hours=[500,100]", "teacher.releases_hours[1]", ["increasing"]),
    ("+latency.detector_hours.volum=2", "latency.detector_hours.volum", ["content", "volume"]),
    ("detection.budget_usd_per_day=-5", "detection.budget_usd_per_day", [">= 0"]),
    ("operators.qwen.budget_usd=-1", "operators.qwen.budget_usd", [">= 0"]),
    ("operators.qwen.account_base_price_usd=-2", "operators.qwen.account_base_price_usd", [">= 0"]),
    ("teacher.price_in_usd_per_mtok=-1", "teacher.price_in_usd_per_mtok", [">= 0"]),
    ("detection.rho=2", "detection.rho", ["[0, 1]"]),
    ("review.confirm_attacker_prob=1.2", "review.confirm_attacker_prob", ["[0, 1]"]),
    ("operators.qwen.cot_share=-0.1", "operators.qwen.cot_share", ["[0, 1]"]),
    ("detection.shares.volume=0.5", "detection.shares", ["sum to 1"]),
    ("detectors=[volume]", "detection.shares", ["detection.shares.content=0", "linkage=0"]),
    ("seed=3 seed=4", "seed", ["twice"]),
    ("operators.qwen.targets.agentic=0.5", "operators.qwen.targets", ["sum to 1"]),
    ("~operators.qwen", "operators", ["empty"]),
    ("+foo=1", "foo", ["unknown key", "world"]),
    ("+world.extra=1", "world.extra", ["unknown key", "days"]),
    ("detectors.volume.dzero=1", "detectors.volume.dzero", ["unknown key", "d0"]),
    ("detection.threshold.method=magic", "detection.threshold.method", ["fpr", "bayes"]),
    ("attacker.mode=weird", "attacker.mode", ["adaptive", "fixed"]),
    ("world.window_hours=5", "world.window_hours", ["24"]),
    ("policies.kyc.block_share=1.5", "policies.kyc.block_share", ["< 1.0"]),
    ("operators.qwen.cadence=3", "operators.qwen.cadence", ["tolerated_cadence_per_day"]),
    ("operators.qwen.targets.unknown=0.0", "operators.qwen.targets.unknown", ["+operators"]),
    ("detection.shares.bogus=0.0", "detection.shares.bogus", ["+detection.shares.bogus"]),
    ("+detection.shares.bogus=0.1", "detection.shares", ["bogus=0", "volume", "review"]),
    ("latency.detector_hours.nope=1", "latency.detector_hours.nope", ["+latency"]),
    ("detectors.linkage.cadence_hours=36", "detectors.linkage.cadence_hours", ["multiple"]),
    ("detectors.linkage.cadence_hours=5", "detectors.linkage.cadence_hours", ["divide", "0.25"]),
    ("detectors.volume.cadence_hours=0.1", "detectors.volume.cadence_hours", [">= 0.25"]),
    ("detectors.volume.cadence_hours=0.4", "detectors.volume.cadence_hours", ["quarter hours"]),
]


@pytest.mark.parametrize(("override", "key", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_cleanly_before_any_output(
    override, key, words, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    rc = main(["run", *override.split(" ")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith(f"distillsim: error: {key}:"), err
    for w in words:
        assert w in err, (w, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no results/, outputs/ or multirun/


def test_zero_detection_budget_is_valid(tmp_path):
    from sim.configuration import load

    cfg = load(["detection.budget_usd_per_day=0"]).cfg
    assert cfg.detection.budget_usd_per_day == 0


def test_targeting_weights_within_validation_tolerance_run():
    # Validation allows a sum of 1 ± 1e-6; numpy's multinomial alone would allow only 1e-12.
    from conftest import run_small

    third = (
        "operators.qwen.targets={agentic:0.3333334,software_engineering:0.3333333,"
        "long_horizon_planning:0.3333334}"
    )
    s = run_small(third, "world.days=3").summary
    assert s["exchanges_harvested"] > 0


def test_no_traceback_from_the_console_script(tmp_path):
    exe = [sys.executable, "-m", "sim.cli", "run", "scenario=nope"]
    p = subprocess.run(exe, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "unknown scenario 'nope'; allowed: alibaba_2026, feb2026_three_labs" in p.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["--seeds", "x"], ["--seeds"], ["--seeds=0"], ["--bogus"]])
def test_calibrate_options_fail_cleanly(args, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", *args]) == 2
    err = capsys.readouterr().err
    # argparse's usage line, then one error naming the option
    assert "distillsim calibrate: error:" in err and "Traceback" not in err
    assert args[0].split("=")[0] in err.splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_unknown_command(capsys):
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "override, key",
    [
        ("legit.tiers.consumer.accounts=100000000", "world.legit_sample_share"),
        ("operators.qwen.creation_per_day=1e9", "operators.qwen.creation_per_day"),
    ],
)
def test_worlds_too_big_for_memory_are_refused(override, key):
    from sim.configuration import load
    from sim.validation import ConfigError

    with pytest.raises(ConfigError) as exc:
        load([override])
    assert exc.value.key == key and "20,000,000" in exc.value.message
