"""End to end: ``distillsim app`` in headless Chromium (Debian's, driven by Playwright).

The server runs as a subprocess on a free port; the test moves the budget slider, resets, steps
the world and checks that the status table and a plot changed. A screenshot goes to the test's
tmp dir, and also to the path in ``DISTILLSIM_APP_SCREENSHOT`` if set (``make app-screenshot``
writes docs/figures/app.png).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_cluster import _free_port

pytestmark = pytest.mark.xdist_group("app")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"distillsim app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"distillsim app did not answer at {url} within {timeout:.0f} s")


@pytest.fixture
def server(tmp_path: Path):
    """The app on a free loopback port; killed (with its solara child) whatever happens."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    cmd = [sys.executable, "-m", "sim.cli", "app", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/", proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, 9)
        log.close()


def _status(page) -> str:
    return page.locator("text=What-if world").first.inner_text()


def test_page_steps_a_world(server: str, tmp_path: Path) -> None:
    assert os.path.exists(CHROMIUM), (
        "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            page.goto(server)
            status = page.get_by_text("What-if world")
            expect(status).to_be_visible(timeout=45_000)
            assert "$30,000/day" in _status(page)
            plot = page.locator("img").first
            before = plot.get_attribute("src")

            # Move the budget slider to its maximum, then rebuild the world with it.
            slider = page.locator(".v-input", has_text="Detection budget").locator(
                ".v-slider__thumb-container"
            )
            slider.focus()
            page.keyboard.press("End")
            page.get_by_role("button", name="Reset").click()
            expect(status).to_contain_text("$1,000,000/day", timeout=20_000)

            step = page.get_by_role("button", name="Step")
            for day in (1, 2, 3):
                step.click()
                expect(page.get_by_text(f"Day {day} of")).to_be_visible(timeout=20_000)
            page.wait_for_function(
                "before => document.querySelector('img').src !== before", arg=before
            )
            assert plot.get_attribute("src") != before
            shot = tmp_path / "app.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            if target := os.environ.get("DISTILLSIM_APP_SCREENSHOT"):
                shutil.copyfile(shot, target)
        finally:
            browser.close()


def test_a_refused_control_value_keeps_the_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.app import ENV, WhatIfModel

    monkeypatch.setenv(ENV, "[]")
    m = WhatIfModel(budget_usd_per_day=-5, compare_baseline=False)
    assert m.error is not None and m.error.startswith("detection.budget_usd_per_day:")
    assert m.cfg.detection.budget_usd_per_day == 30000
    m.step()
    assert m.history[-1]["day"] == 1.0


def test_a_bad_override_stops_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["app", "scenario=nope"]) == 2
    assert "scenario: unknown scenario 'nope'" in capsys.readouterr().err
