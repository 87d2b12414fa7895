"""Sweeps over worlds of several labs (issue #14): providers.csv, the providers and sharing
tables, the free-riding columns computed from the runs, and the displacement curve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_sweeps import TINY, _sweep

from sim.analysis.worlds import SHARING, _wide, free_riding, provider_order, providers_table

A = "+providers.lab_a.set.detection.budget_usd_per_day"
#: Lab A at $0 and $300k a day, lab B at $0 (the sweep's own setting), lab C on its own; no
#: sharing and "some" (A and B; the sweep's "all" is left out to keep the test small).
GRID = [
    f"{A}=0,300000",
    "sharing.participants=[],[lab_a,lab_b]",
    "replicate=range(0,2)",
    "hydra/launcher=basic",
]


@pytest.fixture(scope="module")
def sharing_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("world_sweep")
    return _sweep(tmp, "sweep=sharing", *TINY, *GRID)


def test_a_world_sweep_writes_one_row_per_run_and_provider(sharing_sweep):
    folder = sharing_sweep
    runs = pd.read_parquet(folder / "runs.parquet")
    assert len(runs) == 8 and runs["error"].isna().all()
    pt = pd.read_csv(folder / "providers.csv")
    assert len(pt) == 3 * len(runs)
    assert sorted(pt.groupby("job")["provider"].apply(sorted).map(tuple).unique()) == [
        ("lab_a", "lab_b", "lab_c")
    ]
    for col in (
        "sharing.participants",
        "providers.lab_a.set.detection.budget_usd_per_day",
        "replicate",
        "detection_budget_usd_per_day",
        "detection_spend_usd",
        "defender_total_cost_usd",
        "capability_extracted",
        "accounts_banned",
        "account_lifetime_hours_mean",
        "shares_indicators",
        "indicators_received",
        "displaced_in_per_day",
        "displaced_out_per_day",
        "world.capability_extracted",
        "world.capability_total",
        "world.defender_total_cost_usd",
        SHARING,
    ):
        assert col in pt, col
    # Each row is the run's own provider.<name>.* figures, and the world's totals.
    by_job = runs.set_index("job")
    for _, r in pt.iterrows():
        run = by_job.loc[r["job"]]
        p = r["provider"]
        assert r["capability_extracted"] == pytest.approx(run[f"provider.{p}.capability_extracted"])
        assert r["defender_total_cost_usd"] == pytest.approx(
            run[f"provider.{p}.defender_total_cost_usd"]
        )
        assert r["world.capability_extracted"] == pytest.approx(run["capability_extracted"])
    # The swept budget reached lab A; lab B stays at the sweep's $0.
    a = pt[pt["provider"] == "lab_a"]
    assert (a["detection_budget_usd_per_day"] == a[A.lstrip("+")]).all()
    assert (pt[pt["provider"] == "lab_b"]["detection_budget_usd_per_day"] == 0).all()
    assert set(pt[SHARING]) == {"none", "lab_a+lab_b"}
    # "Some" sharing: lab C is outside, A and B share.
    inside = pt.apply(lambda r: r["provider"] in r[SHARING].split("+"), axis=1)
    assert (pt["shares_indicators"] == inside).all()
    assert not pt[pt["provider"] == "lab_c"]["shares_indicators"].any()


def test_the_summary_has_the_providers_and_sharing_tables(sharing_sweep):
    text = (sharing_sweep / "summary.md").read_text()
    assert "nothing to aggregate" not in text
    section = text.split("## Providers", 1)[1].split("\n## ", 1)[0]
    table = [ln for ln in section.splitlines() if ln.startswith("| ") and "---" not in ln]
    assert len(table) == 1 + 2 * 2 * 3  # header + sharing options x A budgets x providers
    assert "### Sharing: none" in text and "### Sharing: lab_a+lab_b" in text
    assert text.index("### Sharing: none") < text.index("### Sharing: lab_a+lab_b")
    assert "### Does free-riding pay?" in text and "does free-riding pay lab_b?" in text


def test_the_free_riding_columns_are_computed_from_the_runs(sharing_sweep):
    runs = pd.read_parquet(sharing_sweep / "runs.parquet")
    meta = json.loads((sharing_sweep / "sweep.json").read_text())
    pt = providers_table(runs, meta)
    wide = _wide(pt, [SHARING], provider_order(runs))
    fr = free_riding(wide, "lab_b", "lab_a", []).set_index("budget")
    assert sorted(fr.index) == [0.0, 300000.0]
    # The same differences straight from runs.parquet, replicate by replicate.
    runs = runs.assign(share=runs["sharing_participants"].map(len) > 0)
    a = A.lstrip("+")
    for b in (0.0, 300000.0):
        at = runs[runs[a] == b].set_index(["share", "replicate"])
        for m, col in (
            ("provider.lab_b.capability_extracted", "d_leak"),
            ("provider.lab_b.defender_total_cost_usd", "d_cost"),
            ("capability_extracted", "d_world_leak"),
        ):
            diff = at.loc[True][m] - at.loc[False][m]
            assert fr.loc[b, col][0] == pytest.approx(diff.mean()), (b, col)
            assert fr.loc[b, col][3] == 2
        assert fr.loc[b, "leak_alone"] == pytest.approx(
            at.loc[False]["provider.lab_b.capability_extracted"].mean()
        )
    # Sharing costs the free-rider its membership, whatever else it saves or loses.
    days = int(runs["days"].iloc[0])
    membership = 560.0 * days
    sharing_cost = runs[runs["share"]]["provider.lab_b.sharing_cost_usd"]
    assert np.allclose(sharing_cost, membership)
    # The table prints these numbers.
    text = (sharing_sweep / "summary.md").read_text()
    row = f"{fr.loc[0.0, 'leak_alone']:.4f} → {fr.loc[0.0, 'leak_sharing']:.4f}"
    assert row in text


def test_free_riding_pairs_by_replicate_on_made_up_runs():
    rng = np.random.default_rng(3)
    rows = []
    for share in ("none", "a+b"):
        for b in (0.0, 1e5):
            for rep in range(3):
                rows.append(
                    {
                        SHARING: share,
                        "replicate": rep,
                        "a.detection_budget_usd_per_day": b,
                        "b.capability_extracted": rng.uniform(0.1, 0.2),
                        "b.defender_total_cost_usd": rng.uniform(1e5, 2e5),
                        "world.capability_extracted": rng.uniform(0.2, 0.3),
                        "world.defender_total_cost_usd": rng.uniform(1e6, 2e6),
                    }
                )
    wide = pd.DataFrame(rows)
    fr = free_riding(wide, "b", "a", []).set_index("budget")
    for b in (0.0, 1e5):
        on = wide[(wide[SHARING] == "a+b") & (wide["a.detection_budget_usd_per_day"] == b)]
        off = wide[(wide[SHARING] == "none") & (wide["a.detection_budget_usd_per_day"] == b)]
        d = (
            on.set_index("replicate")["b.capability_extracted"]
            - off.set_index("replicate")["b.capability_extracted"]
        )
        assert fr.loc[b, "d_leak"][0] == pytest.approx(d.mean())
        assert fr.loc[b, "d_leak"][1] < d.mean() < fr.loc[b, "d_leak"][2]


def test_the_displacement_curve_is_written(sharing_sweep):
    from test_figures import assert_citable

    folder = sharing_sweep
    assert (folder / "displacement_curve.png").is_file()
    assert_citable(folder, json.loads((folder / "sweep.json").read_text())["config_hash"])
    caption = (folder / "displacement_curve.caption.txt").read_text()
    assert "lab_a's detection budget" in caption


def test_a_displacement_sweep_draws_the_curve(tmp_path):
    args = [f"{A}=0,300000", "replicate=0", "hydra/launcher=basic"]
    folder = _sweep(tmp_path, "sweep=displacement", *TINY, *args)
    assert (folder / "displacement_curve.png").is_file()
    text = (folder / "summary.md").read_text()
    assert "## Providers" in text and "## Sharing" not in text
    pt = pd.read_csv(folder / "providers.csv")
    assert len(pt) == 4
    # Lab B keeps two_labs' budget while A's is swept.
    assert set(pt[pt["provider"] == "lab_b"]["detection_budget_usd_per_day"]) == {10000.0}


def test_the_ready_world_sweeps_have_their_grids():
    from sim.configuration import compose_tree, load
    from sim.experiments.sweeps import expand
    from sim.providers import provider_configs

    def params(name):
        tree = compose_tree([f"sweep={name}"], return_hydra_config=True)
        return expand([], {str(k): str(v) for k, v in tree.hydra.sweeper.params.items()})

    sh = params("sharing")
    assert sh["sharing.participants"] == ["[]", "[lab_a,lab_b]", "[lab_a,lab_b,lab_c]"]
    assert [float(b) for b in sh[A]] == [0.0, 30000.0, 300000.0]
    assert len(sh["replicate"]) >= 3
    cfg = load(["sweep=sharing", f"{A}=30000"]).cfg
    budgets = {p: c.detection.budget_usd_per_day for p, c in provider_configs(cfg).items()}
    assert budgets == {"lab_a": 30000.0, "lab_b": 0.0, "lab_c": 30000.0}
    disp = params("displacement")
    assert len(disp[A]) == 6 and 0.0 in [float(b) for b in disp[A]]


def test_an_empty_list_empties_a_list_but_an_empty_mapping_is_refused():
    """``sharing.participants=[]`` (the sweep's "none") empties a list of the schema; ``{}`` on
    a mapping still changes nothing and is refused."""
    from sim.configuration import load
    from sim.validation import ConfigError, check_overrides

    check_overrides(["sharing.participants=[]"], allow_repeats=False)
    cfg = load(["sweep=sharing", "sharing.participants=[]"]).cfg
    assert cfg.sharing.participants == []
    with pytest.raises(ConfigError) as e:
        check_overrides(["operators={}"])
    assert "changes nothing" in e.value.message
