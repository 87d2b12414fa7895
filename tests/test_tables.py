"""The policy and mix tables of summary.md (issue #12): the comparison columns computed from
runs.parquet, policy packages, months of the teacher's lead erased, interval and bracket labels,
tied swept keys and group labels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from test_sweeps import TINY, _sweep

from sim.analysis.breakeven import breakeven_rows, format_break_even
from sim.analysis.curves import curve_table
from sim.analysis.runs import B, label, option_label
from sim.analysis.style import money
from sim.cli import main
from sim.configuration import compose_tree, load
from sim.experiments.evaluators import evaluate
from sim.terminal import format_summary
from sim.validation import ConfigError

HIGH = 100000.0
POLICIES = ["baseline", "kyc_mandate", "sanctions", "kyc_sanctions"]


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """A tiny policy_packages sweep: three options and a package, B = 0 and $100k, 2 replicates."""
    tmp = tmp_path_factory.mktemp("tables")
    folder = _sweep(
        tmp,
        "sweep=policy_packages",
        *TINY,
        f"policy={','.join(POLICIES)}",
        f"detection.budget_usd_per_day=0,{HIGH:.0f}",
        "replicate=range(0,2)",
        "hydra/launcher=basic",
    )
    return folder, pd.read_parquet(folder / "runs.parquet")


def md_tables(text: str, after: str) -> list[pd.DataFrame]:
    """The Markdown tables that follow the line ``after`` up to the next ``###`` heading."""
    lines = text.split(after, 1)[1].split("\n### ", 1)[0].splitlines()
    tables, cur = [], []
    for ln in [*lines, ""]:
        if ln.startswith("|"):
            cur.append([c.strip() for c in ln.strip("|").split("|")])
        elif cur:
            tables.append(pd.DataFrame(cur[2:], columns=cur[0]))
            cur = []
    return tables


def _means(runs: pd.DataFrame, col: str) -> pd.Series:
    return runs.groupby(["policy", B])[col].mean()


def _paired(runs: pd.DataFrame, col: str, a: str, b: str, budget: float) -> float:
    at = runs[runs[B] == budget].set_index(["replicate", "policy"])[col]
    return float((at.xs(a, level="policy") - at.xs(b, level="policy")).mean())


# --------------------------------------------------------------------------- packages
def test_a_package_composes_both_policies_and_books_both_costs(packages):
    pkg = compose_tree(["policy=kyc_sanctions"]).policies
    kyc = compose_tree(["policy=kyc_mandate"]).policies
    sanctions = compose_tree(["policy=sanctions"]).policies
    base = compose_tree([]).policies
    assert pkg.kyc == kyc.kyc and pkg.sanctions == sanctions.sanctions
    assert kyc.sanctions == base.sanctions and sanctions.kyc == base.kyc  # singles stay single
    assert compose_tree(["policy=kyc_sanctions_intel"]).policies.intel_sharing == (
        compose_tree(["policy=intel_sharing"]).policies.intel_sharing
    )
    _, runs = packages
    at = runs[runs[B] == HIGH].groupby("policy")
    friction, penalty = at["kyc_friction_usd"].mean(), at["expected_penalty_usd"].mean()
    # KYC's friction on legitimate sign-ups: booked by the mandate and the package alike, not by
    # sanctions alone (which leave the scenario's own verification as it is)
    assert friction["kyc_sanctions"] == pytest.approx(friction["kyc_mandate"], rel=1e-9)
    assert friction["kyc_mandate"] > friction["sanctions"]
    assert friction["sanctions"] == pytest.approx(friction["baseline"], rel=1e-9)
    # the sanctions' expected penalty: borne under sanctions and the package, never without
    assert penalty["kyc_sanctions"] > 0 and penalty["sanctions"] > 0
    assert penalty["kyc_mandate"] == 0 and penalty["baseline"] == 0


def test_packages_are_labelled_by_their_options():
    assert option_label("policy", "kyc_sanctions") == "kyc_mandate + sanctions"
    assert option_label("policy", "kyc_sanctions_intel") == (
        "kyc_mandate + sanctions + intel_sharing"
    )
    assert option_label("policy", "kyc_mandate") == "kyc_mandate"


# --------------------------------------------------------------------------- the policy tables
def test_policy_tables_carry_the_comparison_columns(packages):
    folder, runs = packages
    text = (folder / "summary.md").read_text()
    leak, users, attacker = md_tables(text, f"### B = ${HIGH:,.0f}/day")
    for t in (leak, users, attacker):
        assert set(t["policy"]) == {option_label("policy", p) for p in POLICIES}
    leak, users, attacker = (t.set_index("policy") for t in (leak, users, attacker))
    cap_col = "capability leaked (share of the gap; seed noise only, 2 replicates)"
    assert cap_col in leak
    # cut per $1M: the paired cut over the paired extra defender cost, from runs.parquet
    for pol in ("kyc_mandate", "kyc_sanctions"):
        row = leak.loc[option_label("policy", pol)]
        cut = _paired(runs, "capability_extracted", "baseline", pol, HIGH)
        extra = _paired(runs, "defender_total_cost_usd", pol, "baseline", HIGH)
        assert extra > 0
        assert row["cut vs baseline (paired)"].startswith(f"{cut:.4f}".replace("-0.0000", "0.0000"))
        assert row["extra defender cost vs baseline"] == f"${extra / 1e6:,.2f}M"
        assert row["cut per $1M of extra defender cost"] == f"{cut / (extra / 1e6):.3g}"
    extra = _paired(runs, "defender_total_cost_usd", "sanctions", "baseline", HIGH)
    if extra <= 0:
        assert leak.loc["sanctions", "cut per $1M of extra defender cost"] == "n/a (extra cost ≤ 0)"
    # months of the lead erased: 4 months (claude_opus_4_6) x capability
    cap = _means(runs, "capability_extracted")
    assert leak.loc["baseline", "lead erased (months)"].startswith(
        f"{4.0 * cap['baseline', HIGH]:.2f}"
    )
    # users' losses, each kind named
    kinds = ["false bans & throttles", "KYC friction", "rate limits", "poisoned outputs"]
    assert [f"users' loss: {k}" for k in kinds] == [
        c for c in users if c.startswith("users' loss: ") and c != "users' loss: total"
    ]
    friction = _means(runs, "legit_user_cost_kyc_friction_usd")
    assert users.loc["kyc_mandate", "users' loss: KYC friction"] == money(
        friction["kyc_mandate", HIGH]
    )
    assert friction["kyc_mandate", HIGH] > friction["baseline", HIGH]
    # the attacker cost multiplier against the same policy's world at B = 0
    spend = _means(runs, "attacker_spend_usd")
    for pol in POLICIES:
        m = spend[pol, HIGH] / spend[pol, 0.0]
        assert attacker.loc[option_label("policy", pol), "attacker cost multiplier vs B = 0"] == (
            f"{m:.2f}x"
        )
    # report.html carries the same tables as HTML tables
    page = (folder / "report.html").read_text()
    per = leak.loc["kyc_mandate + sanctions", "cut per $1M of extra defender cost"]
    assert "<th>cut per $1M of extra defender cost</th>" in page and f"<td>{per}</td>" in page
    delay = "delay vs B = 0 (days, paired; seed noise only, 2 replicates)"
    assert delay in attacker and "P(attribution)" in attacker
    assert "replicates sharing" in text or "same random streams" in text


def test_old_sweeps_and_grids_without_B0_say_n_a(packages, tmp_path):
    folder, runs = packages
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(folder / "sweep.json", old)
    # an older sweep: no users' losses by kind, no lead; and no B = 0 point
    drop = [c for c in runs if c.startswith("legit_user_cost_") or c.startswith("teacher_lead")]
    runs[runs[B] > 0].drop(columns=drop).to_parquet(old / "runs.parquet", index=False)
    assert main(["report", str(old)]) == 0
    text = (old / "summary.md").read_text()
    leak, users, attacker = md_tables(text, f"### B = ${HIGH:,.0f}/day")
    assert (users["users' loss: KYC friction"] == "n/a").all()
    assert (leak["lead erased (months)"] == "n/a").all()
    assert (attacker["attacker cost multiplier vs B = 0"] == "n/a (no B = 0)").all()
    assert "B = 0 is not in this sweep's grid" in text


# --------------------------------------------------------------------------- labels
def test_intervals_and_the_break_even_bracket_say_what_they_cover(packages):
    folder, _ = packages
    text = (folder / "summary.md").read_text()
    assert "replicate range" not in text and "(replicates:" not in text
    assert "2.5th-97.5th percentile of the replicates' own break-evens" in text
    page = (folder / "report.html").read_text()
    assert "seed noise only, 2 replicates" in page and "(replicates:" not in page
    # the bracket is the percentiles of the replicates' own break-evens
    rows = []
    for rep, scale in enumerate([1.0, 2.0, 4.0]):
        for b, net in [(0.0, 10.0), (1e3, 10.0 - 5 * scale), (1e4, -10.0)]:
            rows.append({"replicate": rep, B: b, "attacker_net_value_usd": net, "error": None})
    (row,) = breakeven_rows(pd.DataFrame(rows), [])
    own = []
    for scale in [1.0, 2.0, 4.0]:
        v1 = 10.0 - 5 * scale
        if v1 <= 0:
            own.append(10.0 / (10.0 - v1) * 1e3)
        else:
            own.append(float(np.exp(np.log(1e3) + v1 / (v1 + 10.0) * np.log(10.0))))
    lo, hi = np.percentile(own, [2.5, 97.5])
    assert row["replicate_low"] == pytest.approx(lo) and row["replicate_high"] == pytest.approx(hi)
    said = format_break_even(row)
    assert "2.5th-97.5th percentile of 3 replicates' break-evens" in said
    assert f"${lo:,.0f}-${hi:,.0f}" in said


def test_tied_swept_key_is_reported_as_swept(tmp_path):
    a = "capability.domains.agentic.n_half"
    b = "capability.domains.software_engineering.n_half"
    folder = _sweep(
        tmp_path,
        *TINY,
        "attacker=fixed",
        "detection.budget_usd_per_day=0",
        "replicate=0",
        f"{a}=5e4,2e5",
        f"{b}=${{{a}}}",
        "hydra/launcher=basic",
    )
    runs = pd.read_parquet(folder / "runs.parquet")
    assert (runs[a] == runs[b]).all() and runs[b].nunique() == 2
    meta = json.loads((folder / "sweep.json").read_text())
    assert meta["tied"] == {b: [a]}
    header = (folder / "summary.md").read_text().split("## ", 1)[0]
    assert f"{b} (tied to {a})" in header
    settings = header.split("set for every run:", 1)[1]
    assert b not in settings


def test_group_labels_are_unambiguous_and_numbers_sort_numerically():
    keys = ["capability.domains.agentic.n_half", "capability.domains.reasoning.n_half", "policy"]
    assert label(keys, (1e5, 3e4, "kyc_sanctions")) == (
        "agentic.n_half=100000.0, reasoning.n_half=30000.0, policy=kyc_mandate + sanctions"
    )
    assert label(["operators.qwen.cluster_size"], (20,)) == "cluster_size=20"
    # a swept column holding numbers as strings (mixed types in the grid) sorts numerically
    rows = [
        {
            "k": k,
            B: 0.0,
            "replicate": r,
            "error": None,
            "capability_extracted": 0.1,
            "attacker_net_value_usd": 1.0,
        }
        for k in ["100", "5", "20"]
        for r in range(2)
    ]
    df = pd.DataFrame(rows)
    assert list(curve_table(df, ["k"])["k"]) == ["5", "20", "100"]
    assert [r["group"] for r in breakeven_rows(df, ["k"])] == ["k=5", "k=20", "k=100"]


# --------------------------------------------------------------------------- the lead
def test_lead_months_is_validated_and_summarised(packages):
    with pytest.raises(ConfigError) as err:
        load(["teacher.lead_months=-1"])
    assert err.value.key == "teacher.lead_months"
    sonnet = load([*TINY, "teacher=claude_sonnet_4", "output.progress=off"]).cfg
    assert sonnet.teacher.lead_months is None
    summary = evaluate(sonnet, progress=False).summary
    assert summary["teacher_lead_months"] is None and summary["teacher_lead_months_erased"] is None
    assert "lead erased" not in format_summary(summary)
    erased = 4.0 * summary["capability_extracted"]
    opus = {**summary, "teacher_lead_months": 4.0, "teacher_lead_months_erased": erased}
    assert "teacher's lead erased" in format_summary(opus)
    assert f"{erased:.2f} of its 4 months" in format_summary(opus)
    _, runs = packages
    assert (runs["teacher_lead_months"] == 4.0).all()
    np.testing.assert_allclose(
        runs["teacher_lead_months_erased"], 4.0 * runs["capability_extracted"]
    )


def test_the_by_budget_table_has_the_attacker_cost_multiplier(packages):
    from sim.analysis.report import _kind_tables

    _, runs = packages
    curve = curve_table(runs, ["policy"])
    text = "\n".join(_kind_tables("spend_curve", runs, curve, ["policy"], []))
    (table,) = md_tables(text, "## Capability extracted by budget")
    row = table[(table["policy"] == "kyc_mandate + sanctions") & (table["B ($/day)"] == "100,000")]
    spend = _means(runs, "attacker_spend_usd")
    m = spend["kyc_sanctions", HIGH] / spend["kyc_sanctions", 0.0]
    assert list(row["attacker cost multiplier vs B = 0"]) == [f"{m:.2f}x"]
    assert "seed noise only, 2 replicates" in text
