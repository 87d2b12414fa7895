"""The defender's Stackelberg choice (issue #10): the choice rule, the study and its command."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SMALL

from sim.cli import main
from sim.experiments.stackelberg import choose, stackelberg


def test_the_choice_minimises_cost_plus_the_value_of_the_leak():
    """A table whose optimum is known: against the naive attacker the cheap defence wins at a low
    value and the strong one at a high value; against the best response the strong defence leaks
    little less than the cheap one, so the cheap one wins at both and the naive choice costs
    the difference."""
    rows = []
    for attacker, leak in (("fixed", {0: 10.0, 1: 2.0}), ("best_response", {0: 10.0, 1: 9.0})):
        for b, cost in ((0.0, 1.0e6), (1.0e5, 5.0e6)):
            rows.append(
                {
                    "budget_usd_per_day": b,
                    "mix": "balanced",
                    "attacker": attacker,
                    "capability_points": leak[int(b > 0)],
                    "defender_total_cost_usd": cost,
                }
            )
    got = choose(pd.DataFrame(rows), [1.0e5, 1.0e6])
    low, high = got.iloc[0], got.iloc[1]
    assert low["best_vs_naive"] == "$0/day balanced" == low["best_vs_best_response"]
    assert high["best_vs_naive"] == "$100,000/day balanced"  # 5M + 2M < 1M + 10M
    assert high["best_vs_best_response"] == "$0/day balanced"  # 1M + 10M < 5M + 9M
    assert high["cost_of_assuming_naive_usd"] == pytest.approx((5e6 + 9e6) - (1e6 + 10e6))


def test_the_study_writes_its_tables_and_checks_the_choice_at_full_scale(tmp_path):
    folder = stackelberg(
        [*SMALL, "world.days=6", f"output.results_dir={tmp_path}"],
        budgets=[0, 300000],
        mixes=["balanced"],
        values=[1e5, 1e7],
        replicates=[0],
        reduced=["world.legit_sample_share=0.005"],
        reduced_search=["attacker.search.trials=6", "attacker.search.train_replicates=1"],
        n_jobs=1,
    )
    for name in (
        "summary.md",
        "candidates.csv",
        "choices.csv",
        "full_scale_check.csv",
        "manifest.json",
    ):
        assert (folder / name).is_file(), name
    cands = pd.read_csv(folder / "candidates.csv")
    assert len(cands) == 4 and set(cands["attacker"]) == {"fixed", "best_response"}
    assert len(pd.read_csv(folder / "choices.csv")) == 2
    assert not list(folder.parent.glob(".tmp-*"))
    assert "on the full-scale figures" in (folder / "summary.md").read_text()
    meta = json.loads((folder / "manifest.json").read_text())
    assert meta["study"] == "stackelberg" and len(meta["config_hash"]) == 64 and "git" in meta


def test_the_full_scale_choice_uses_the_full_scale_figures():
    from sim.experiments.stackelberg import full_choice

    full = pd.DataFrame(
        {
            "budget_usd_per_day": [0.0, 1e5],
            "mix": ["balanced", "balanced"],
            "defender_cost_full_usd": [1e6, 5e6],
            "points_full": [10.0, 9.0],
        }
    )
    got = full_choice(full, [1e6, 1e7])
    assert list(got["best_at_full_scale"]) == ["$0/day balanced", "$100,000/day balanced"]
    assert got["loss_usd"].tolist() == pytest.approx([11e6, 95e6])


def test_the_command_rejects_bad_options_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["stackelberg", "--budgets", "0,abc"]) == 2
    assert "--budgets" in capsys.readouterr().err
    assert main(["stackelberg", "--bogus"]) == 2
    assert "--replicates" in capsys.readouterr().err
    assert main(["stackelberg", "--mixes", "nope"]) == 2
    assert "mix" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_bayes_thresholds_are_refused(tmp_path):
    from sim.validation import ConfigError

    with pytest.raises(ConfigError, match="bayes"):
        stackelberg(
            [*SMALL, "detection=bayes", f"output.results_dir={tmp_path}"],
            budgets=[0],
            mixes=["balanced"],
            values=[1e6],
            replicates=[0],
            reduced=[],
        )


def test_every_split_of_a_zero_budget_is_one_world_simulated_once(tmp_path, capsys):
    folder = stackelberg(
        [*SMALL, "world.days=6", f"output.results_dir={tmp_path}"],
        budgets=[0],
        mixes=["balanced", "review_heavy"],
        values=[1e6],
        replicates=[0],
        reduced=[],
        reduced_search=["attacker.search.trials=3", "attacker.search.train_replicates=1"],
        full_check=False,
        n_jobs=1,
    )
    assert "(1 distinct worlds)" in capsys.readouterr().out
    c = pd.read_csv(folder / "candidates.csv")
    assert len(c) == 4 and set(c["mix"]) == {"balanced", "review_heavy"}
    a, b = (c[c["mix"] == m].drop(columns="mix").reset_index(drop=True) for m in c["mix"].unique())
    pd.testing.assert_frame_equal(a, b)


def test_your_search_settings_reach_the_best_response_runs_only(tmp_path, capsys):
    from sim.validation import ConfigError

    folder = stackelberg(
        [*SMALL, "world.days=6", f"output.results_dir={tmp_path}", "attacker.search.trials=3"],
        budgets=[0],
        mixes=["balanced"],
        values=[1e6],
        replicates=[0],
        full_check=False,
        n_jobs=1,
    )
    out = capsys.readouterr().out
    assert "replace the study's reduced" in out and "attacker.search.trials=20" in out
    assert "world.legit_sample_share=0.1" in out  # SMALL sets it: the user's value stays
    assert (folder / "summary.md").is_file()
    with pytest.raises(ConfigError, match="sets the attacker"):
        stackelberg([*SMALL, "attacker=adaptive"], [0], ["balanced"], [1e6], [0])
