"""report.html (issue #12): self-contained, every figure embedded, takeaways computed from the
data, comparisons listing config differences, and errors naming what a folder is."""

from __future__ import annotations

import base64
import contextlib
import io
import math
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_sweeps import TINY, _sweep

from sim.analysis.style import money
from sim.cli import main

pytestmark = pytest.mark.xdist_group("html_report")


class Page(HTMLParser):
    """Embedded images, external loads and list items of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[bytes] = []
        self.external: list[str] = []
        self.items: list[str] = []
        self._li: list[str] | None = None
        self._style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li":
            self._li = []
        if tag == "style":
            self._style = True
        if tag == "script" and a.get("src"):
            self.external.append(f"script src={a['src']}")
        if tag == "link":
            self.external.append(f"link {a}")
        if tag in ("iframe", "object", "embed", "audio", "video", "source"):
            self.external.append(tag)
        for k, v in attrs:
            if k == "style" and v and "url(" in v:
                self.external.append(f"inline style {v}")
            if k in ("src", "srcset", "data", "poster") and v and tag != "img":
                self.external.append(f"{tag} {k}={v}")
        if tag == "img":
            src = a.get("src") or ""
            m = re.fullmatch(r"data:image/png;base64,([A-Za-z0-9+/=]+)", src)
            if m:
                self.images.append(base64.b64decode(m.group(1)))
            else:
                self.external.append(f"img src={src[:60]}")

    def handle_endtag(self, tag):
        if tag == "li" and self._li is not None:
            self.items.append(" ".join("".join(self._li).split()))
            self._li = None
        if tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._li is not None:
            self._li.append(data)
        if self._style and re.search(r"@import|url\(|@font-face", data):
            self.external.append(f"style {data.strip()[:60]}")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def check_self_contained(folder: Path) -> Page:
    """report.html in ``folder`` embeds every PNG of the folder and loads nothing from outside."""
    page = parse(folder / "report.html")
    assert page.external == []
    pngs = sorted(folder.glob("*.png"))
    assert pngs, "a folder without figures proves nothing"
    for p in pngs:
        assert p.read_bytes() in page.images, f"{p.name} not embedded"
    return page


def _cli(tmp: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(list(args))
    finally:
        os.chdir(cwd)
    return rc, out.getvalue(), err.getvalue()


def _paired(runs: pd.DataFrame, col: str, a, b, key: str) -> tuple[float, float, float]:
    """Mean and 95% t interval of col(a) - col(b), paired by replicate, computed here."""
    by = runs.set_index(["replicate", key])[col]
    d = (by.xs(a, level=key) - by.xs(b, level=key)).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


def _fmt(x: float) -> str:  # the report's number format
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    spend = _sweep(
        tmp,
        *TINY,
        "detection.budget_usd_per_day=0,400000",
        "attacker=fixed",
        "replicate=range(0,2)",
    )
    policy = _sweep(
        tmp,
        *TINY,
        "sweep=policy_compare",
        "detection.budget_usd_per_day=20000",
        "policy=baseline,sanctions_enacted",
        "replicate=range(0,2)",
    )
    rc, out, _ = _cli(tmp, "run", *TINY)
    assert rc == 0
    run_a = tmp / out.strip().splitlines()[-1]
    rc, out, _ = _cli(tmp, "run", *TINY, "teacher.gross_margin=0.5")
    run_b = tmp / out.strip().splitlines()[-1]
    rc, out, _ = _cli(
        tmp,
        "study",
        "study=morris",
        "study.samples=2",
        "study.budgets=[0,20000]",
        "study.factors=[n_half,detector_quality,account_price]",
        *TINY,
    )
    assert rc == 0
    study = tmp / out.strip().splitlines()[-1]
    return {
        "tmp": tmp,
        "spend": spend,
        "policy": policy,
        "run_a": run_a,
        "run_b": run_b,
        "study": study,
    }


def test_run_sweep_and_study_write_self_contained_reports(folders):
    for name in ("spend", "policy", "run_a", "study"):
        check_self_contained(folders[name])


def test_the_checker_catches_external_loads_and_missing_figures(folders, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(folders["run_a"], bad)
    text = (bad / "report.html").read_text()
    for planted in (
        '<script src="https://cdn.example/x.js"></script>',
        '<link rel="stylesheet" href="style.css">',
        '<style>@import url("http://x/y.css");</style>',
        '<img src="file:///etc/x.png">',
    ):
        (bad / "report.html").write_text(text.replace("</body>", planted + "</body>"))
        with pytest.raises(AssertionError):
            check_self_contained(bad)
    (bad / "report.html").write_text(text)
    (bad / "extra.png").write_bytes(b"\x89PNG not in the page")
    with pytest.raises(AssertionError, match="extra.png not embedded"):
        check_self_contained(bad)


def test_report_command_rebuilds_and_prints_the_path(folders):
    for name in ("spend", "run_a", "study"):
        (folders[name] / "report.html").unlink()
        rc, out, _ = _cli(folders["tmp"], "report", str(folders[name]))
        assert rc == 0 and out.strip() == str(folders[name] / "report.html")
        check_self_contained(folders[name])


def test_sweep_takeaways_match_runs_parquet(folders):
    folder = folders["spend"]
    runs = pd.read_parquet(folder / "runs.parquet")
    items = parse(folder / "report.html").items
    m, lo, hi = _paired(runs, "capability_extracted", 0.0, 400000.0, "detection_budget_usd_per_day")
    plateau = [
        t for t in items if "no clear difference" in t or "no further" in t or "still falls" in t
    ]
    assert len(plateau) == 1
    assert "seed noise only, 2 replicates" in plateau[0]  # what the interval covers
    if lo <= 0:
        assert "within seed noise of $400k/day" in plateau[0]
    else:
        assert "still falls" in plateau[0]
    assert f"{_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]" in plateau[0]
    net = runs.groupby("detection_budget_usd_per_day")["attacker_net_value_usd"].mean()
    pays = [t for t in items if "campaign pays at every budget" in t]
    assert bool(pays) == bool((net > 0).all())
    text = (folder / "report.html").read_text()
    assert "seed noise" in text and "do not cover parameter uncertainty" in text


def test_policy_takeaway_and_an_honest_omission(folders):
    folder = folders["policy"]
    runs = pd.read_parquet(folder / "runs.parquet")
    items = parse(folder / "report.html").items
    m, lo, hi = _paired(runs, "capability_extracted", "baseline", "sanctions_enacted", "policy")
    lm, llo, lhi = _paired(runs, "legit_user_cost_usd", "sanctions_enacted", "baseline", "policy")
    (said,) = [t for t in items if "policy sanctions_enacted cuts the leak" in t]
    assert f"by {m:.4f} [{lo:.4f}, {hi:.4f}]" in said
    assert f"at a cost of {money(lm)} [{money(llo)}, {money(lhi)}] to legitimate users" in said
    assert any("one budget only" in t for t in items)  # break-even and plateau are not stated
    assert not any("stops paying" in t or "pays at every budget" in t for t in items)


def test_run_and_study_takeaways_and_assumptions(folders):
    import json

    run = folders["run_a"]
    s = json.loads((run / "summary.json").read_text())
    page = parse(run / "report.html")
    assert any(f"extracted {s['capability_extracted']:.4f} of the" in t for t in page.items)
    text = (run / "report.html").read_text()
    assert "no interval" in text
    # assumptions: a command-line key, an estimate from the scenario file, a schema [E] default
    row = re.search(
        r"<code>operators\.qwen\.cluster_size</code></td><td>(.*?)</td><td>(.*?)<", text
    )
    assert row and row.group(1) == "20" and row.group(2) == "set on the command line"
    assert re.search(
        r"<code>operators\.qwen\.budget_usd</code>.*?scenarios/alibaba_2026\.yaml: \[E\].*?"
        r'class="est">\[E\]',
        text,
    )
    assert re.search(
        r"<code>teacher\.gross_margin</code></td><td>0\.6</td><td>configs/teacher/"
        r"claude_opus_4_6\.yaml: \[E\] margin",
        text,
    )
    assert re.search(r"<code>operators\.qwen\.demand_per_day</code>.*?fitted", text) is None
    assert "not recorded" in text
    study = folders["study"]
    samples = pd.read_parquet(study / "samples.parquet")
    g = samples[samples["budget"] == 0]["capability_extracted"]
    lo, med, hi = np.percentile(g, [5, 50, 95])
    items = parse(study / "report.html").items
    assert any(f"{med:.4f} in the median sampled world, {lo:.4f}-{hi:.4f}" in t for t in items)
    stext = (study / "report.html").read_text()
    assert "parameter uncertainty" in stext and "sampled: prior n_half" in stext
    worlds = samples[samples["world"] == "sampled"]["sample"].nunique()
    assert f"parameter uncertainty ({worlds} sampled worlds)" in stext


def test_compare_lists_the_planted_difference_and_changes(folders):
    rc, out, _ = _cli(folders["tmp"], "report", str(folders["run_a"]), str(folders["run_b"]))
    assert rc == 0
    page_path = Path(out.strip())
    assert page_path.is_file()
    text = page_path.read_text()
    diff = re.findall(r"<tr><td><code>(.*?)</code></td><td>(.*?)</td><td>(.*?)</td></tr>", text)
    assert ("teacher.gross_margin", "0.6", "0.5") in diff
    assert "capability_extracted" in text and "change B - A" in text
    assert parse(page_path).external == []
    rc, out, _ = _cli(folders["tmp"], "report", str(folders["spend"]), str(folders["policy"]))
    text = Path(out.strip()).read_text()
    assert "grid: policy" in text and "seed noise" in text
    rc, _, err = _cli(folders["tmp"], "report", str(folders["run_a"]), str(folders["spend"]))
    assert rc == 2 and "cannot compare a run" in err


def test_report_errors_say_what_the_folder_is(folders, tmp_path):
    spend = folders["spend"]
    partial = tmp_path / "x.partial"
    partial.mkdir()
    (tmp_path / "other").mkdir()
    cases = [
        (tmp_path / "missing", "does not exist"),
        (partial, "interrupted"),
        (tmp_path / "other", "not a run, sweep or study folder"),
        (
            spend.parent,
            f"holds sweep folders, not one; the latest finished sweep inside is {spend}",
        ),
        (folders["run_a"].parent, f"the latest finished run inside is {folders['run_b']}"),
    ]
    for path, words in cases:
        rc, _, err = _cli(folders["tmp"], "report", str(path))
        assert rc == 2 and "report:" in err and words in err, err


def test_plateau_needs_every_larger_budget_within_noise():
    """A budget within noise of the largest is not a plateau if a larger one is clearly above."""
    from sim.analysis.html_report import sweep_takeaways

    rows = []
    caps = {0: [0.30, 0.31, 0.32], 1e3: [0.10, 0.14, 0.06], 1e4: [0.20, 0.21, 0.22], 1e5: [0.1] * 3}
    for b, values in caps.items():
        for r, c in enumerate(values):
            rows.append(
                {
                    "detection_budget_usd_per_day": b,
                    "replicate": r,
                    "capability_extracted": c + 0.001 * r,
                    "attacker_net_value_usd": 1e6 - b * 20,
                    "error": None,
                }
            )
    says, omitted = sweep_takeaways(pd.DataFrame(rows), [])
    texts = [t.text for t in says]
    assert any("still falls at the largest budget tried" in t for t in texts), texts
    # net value +$0.8M at $10k, -$1M at $100k: crosses at 10^(4 + 0.8/1.8) (linear in log B)
    assert any(f"stops paying at ≈{money(10 ** (4 + 0.8 / 1.8))}/day" in t for t in texts), texts
    caps[1e4] = [0.10, 0.12, 0.08]
    rows = [dict(r) for r in rows]
    for r in rows:
        if r["detection_budget_usd_per_day"] == 1e4:
            r["capability_extracted"] = caps[1e4][r["replicate"]] + 0.001 * r["replicate"]
    texts = [t.text for t in sweep_takeaways(pd.DataFrame(rows), [])[0]]
    assert any("Above ≈$1k/day more detection buys no further clear reduction" in t for t in texts)


def test_a_sweep_reduced_to_its_tables_says_its_assumptions_are_unavailable(folders, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("runs.parquet", "sweep.json"):
        shutil.copy(folders["spend"] / name, copy)
    rc, out, _ = _cli(folders["tmp"], "report", str(copy))
    assert rc == 0
    text = check_self_contained(copy) and (copy / "report.html").read_text()
    assert "Assumptions</h2>\n<p>Not available" in text


def test_every_world_parameter_has_a_source_in_the_assumptions_table():
    """Each numeric parameter of the shipped worlds names where its value comes from: the
    scenario, the config group file that set it (its own comment, the comment naming it, or
    the file's header), or the schema; a chosen option is credited, not the default's file."""
    from omegaconf import OmegaConf

    from sim.analysis.html_report import assumptions
    from sim.configuration import load

    for overrides in (
        ["scenario=alibaba_2026", "mix=content_heavy"],
        ["scenario=feb2026_three_labs"],
    ):
        rows = assumptions(OmegaConf.to_container(load(overrides).resolved), {})
        by = {r["key"]: r for r in rows}
        numeric = [
            r
            for r in rows
            if re.fullmatch(r"-?[\d.e+]+", r["value"])
            and not r["key"].startswith(("sweep.", "study."))
        ]
        missing = [r["key"] for r in numeric if r["source"] == "not recorded"]
        assert not missing, missing
    assert by["capability.domains.reasoning.n_half"]["source"].startswith(
        "configs/capability/agentic_2026.yaml: n_half:"
    )
    assert by["capability.domains.reasoning.n_half"]["estimate"]
    rows = {
        r["key"]: r
        for r in assumptions(OmegaConf.to_container(load(["mix=content_heavy"]).resolved), {})
    }
    assert rows["detection.shares.content"]["source"].startswith("configs/mix/content_heavy.yaml")


def test_the_report_renders_offline_in_a_real_browser(folders, tmp_path):
    """Headless Chromium (Debian's, via Playwright) opens report.html with every request that
    is not the file itself refused: every figure decodes, nothing was fetched. The screenshot
    goes to tmp, and to ``DISTILLSIM_REPORT_SCREENSHOT`` if set (``make report-screenshot``,
    which renders ``DISTILLSIM_REPORT_FOLDER``'s report instead of the test's tiny sweep)."""
    from test_app import CHROMIUM, FLAGS

    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: `make test` installs it"
    from playwright.sync_api import sync_playwright

    report = Path(os.environ.get("DISTILLSIM_REPORT_FOLDER") or folders["spend"]) / "report.html"
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})

            def refuse(route):
                if route.request.url == report.as_uri():
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            page.route("**/*", refuse)
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            sizes = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert not outside, outside
    assert sizes and all(ok and w > 100 and h > 100 for ok, w, h in sizes), sizes
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("DISTILLSIM_REPORT_SCREENSHOT"):
        shutil.copyfile(shot, target)


def test_the_report_reads_figures_first_with_their_captions(folders):
    """Takeaways, then the figures captioned as written beside them, then summary.md's tables,
    then the raw data folded away."""
    text = (folders["spend"] / "report.html").read_text()
    caption = (folders["spend"] / "curve.caption.txt").read_text().strip()
    assert f"<figcaption><b>curve.png</b> — {caption[:60]}" in text
    order = [text.index(h) for h in ("<h2>Takeaways", "<h2>Figures", "<h2>summary.md", "<h2>Data")]
    assert order == sorted(order)
    assert "<details><summary>curve.csv" in text
