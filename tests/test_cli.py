"""The command line end to end: one run from the CLI to a complete results folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL

from sim.fields import SUMMARY, expand, markdown

OPERATOR_KEYS = [
    "exchanges_harvested",
    "exchanges_attributed",
    "accounts_created",
    "accounts_attributed",
    "capability_extracted",
]


def distillsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("distillsim") or str(Path(sys.executable).parent / "distillsim")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    overrides = [o for o in SMALL if not o.startswith("output.")]
    p = distillsim("run", *overrides, "seed=3", "output.plots=true", cwd=cwd)
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    return cwd, Path(last), p.stdout


def test_last_line_is_the_run_folder(run_folder):
    cwd, folder, out = run_folder
    assert folder.parts[:3] == ("results", "runs", "alibaba_2026")
    assert (cwd / folder).is_dir()
    name = folder.name  # YYYY-mm-dd_HH-MM-SS_ffffff
    assert len(name.split("_")) == 3 and len(name.split("_")[2]) == 6
    assert "capability extracted" in out
    # Written through a temporary name: nothing else is left beside it.
    assert [p.name for p in (cwd / folder).parent.iterdir()] == [name]


def test_folder_contents(run_folder):
    cwd, folder, _ = run_folder
    f = cwd / folder
    for name in (
        "config.yaml",
        "summary.json",
        "timeseries.parquet",
        "ledger.parquet",
        "manifest.json",
        "capability_by_domain.png",
        "accounts.png",
        "review_queue.png",
        "spend.png",
        "operators_by_window.parquet",
    ):
        assert (f / name).is_file() and (f / name).stat().st_size > 0, name
    s = json.loads((f / "summary.json").read_text())
    # Exactly the documented figures (sim/fields.py, docs/OUTPUTS.md), nothing undocumented.
    expected = expand(list(SUMMARY), [0.1, 0.2, 0.3]) - {"replicate", "best_response"}
    assert set(s) == expected, set(s) ^ expected
    for k in OPERATOR_KEYS:
        assert k in s["operators"]["qwen"], k
    assert s["seed"] == 3 and s["scenario"] == "alibaba_2026" and s["attacker_mode"] == "fixed"
    m = json.loads((f / "manifest.json").read_text())
    assert len(m["config_hash"]) == 64 and m["seed"] == 3
    assert {"mesa", "simpy", "hydra-core", "numpy", "distillsim"} <= set(m["versions"])
    assert "revision" in m["git"]
    ts = pd.read_parquet(f / "timeseries.parquet")
    assert len(ts) == 10 * 24 and {"hour", "operator", "capability", "review_backlog"} <= set(ts)
    led = pd.read_parquet(f / "ledger.parquet")
    assert {"hour", "payer", "payee", "category", "usd"} <= set(led)
    for png in f.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from test_figures import assert_citable

    assert_citable(f, m["config_hash"])  # SVG, caption, footer citing the manifest
    assert m["figures"] == [
        "capability_by_domain.png",
        "accounts.png",
        "review_queue.png",
        "spend.png",
    ]
    cfg = (f / "config.yaml").read_text()
    assert "seed: 3" in cfg and "days: 10" in cfg


def test_help_lists_commands_scenarios_and_groups(tmp_path):
    p = distillsim("--help", cwd=tmp_path)
    assert p.returncode == 0
    for word in (
        "run",
        "calibrate",
        "alibaba_2026",
        "feb2026_three_labs",
        "detectors",
        "policies",
        "attacker",
        "Alibaba/Qwen-linked campaign",
    ):
        assert word in p.stdout
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    from importlib.metadata import version

    from sim.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"distillsim {version('distillsim')}"


def test_outputs_page_is_up_to_date():
    page = Path(__file__).resolve().parents[1] / "docs" / "OUTPUTS.md"
    assert page.read_text() == markdown(), "regenerate: python -m sim.fields > docs/OUTPUTS.md"


def test_show_prints_a_groups_options_and_a_keys_value_and_range(capsys):
    from sim.cli import main
    from sim.configuration import group_options, load

    assert main(["show", "detectors"]) == 0
    out = capsys.readouterr().out
    assert all(o in out for o in group_options("detectors"))
    assert main(["show", "review.shifts_per_day", "scenario=alibaba_2026"]) == 0
    out = capsys.readouterr().out
    value = load(["scenario=alibaba_2026"]).cfg.review.shifts_per_day
    assert out.startswith(f"review.shifts_per_day = {value!r}") and "allowed: ge 1" in out
    # the key's own source: the config group file that set it, or the command line
    assert main(["show", "teacher.gross_margin"]) == 0
    assert "source: configs/teacher/claude_opus_4_6.yaml: [E]" in capsys.readouterr().out
    assert main(["show", "teacher.gross_margin", "teacher.gross_margin=0.5"]) == 0
    assert "source: set on the command line" in capsys.readouterr().out
