"""The defender's Stackelberg choice (issue #10): the choice rule, the study and its command."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SMALL

from sim.analysis.stackelberg import choice_table
from sim.cli import main
from sim.commands import write_study
from sim.experiments.stackelberg import Study, choose, run

TINY_SEARCH = [
    "attacker.search.trials=4",
    "attacker.search.train_replicates=1",
    "attacker.search.n_jobs=1",
]


def synthetic(leaks: dict, costs: dict, reps=(0, 1, 2, 3), choose_reps=(0, 1)) -> pd.DataFrame:
    """Runs of two defences against both attackers; replicate r adds r to every leak."""
    rows = []
    for attacker, leak in leaks.items():
        for b, cost in costs.items():
            for r in reps:
                rows.append(
                    {
                        "budget_usd_per_day": b,
                        "mix": "balanced",
                        "attacker": attacker,
                        "replicate": r,
                        "role": "choose" if r in choose_reps else "report",
                        "capability_extracted": 0.0,
                        "capability_points": leak[int(b > 0)] + r,
                        "defender_total_cost_usd": cost,
                        "attacker_net_value_usd": 0.0,
                        "levers": "{}",
                    }
                )
    return pd.DataFrame(rows)


LEAKS = {"fixed": {0: 10.0, 1: 2.0}, "best_response": {0: 10.0, 1: 9.0}}
COSTS = {0.0: 1.0e6, 1.0e5: 5.0e6}


def test_the_choice_minimises_cost_plus_the_value_of_the_leak():
    """A table whose optimum is known: against the naive attacker the cheap defence wins at a low
    value and the strong one at a high value; against the best response the strong defence leaks
    little less than the cheap one, so the cheap one wins at both and the naive choice costs
    the difference."""
    from sim.experiments.stackelberg import means

    got = choose(means(synthetic(LEAKS, COSTS), "choose"), [1.0e5, 1.0e6])
    low, high = got.iloc[0], got.iloc[1]
    assert low["vs_naive"] == (0.0, "balanced") == low["vs_best_response"]
    assert high["vs_naive"] == (1.0e5, "balanced")  # 5M + 2.5M < 1M + 10.5M
    assert high["vs_best_response"] == (0.0, "balanced")  # 1M + 10.5M < 5M + 9.5M
    assert high["cost_of_assuming_naive_usd"] == pytest.approx((5e6 + 9.5e6) - (1e6 + 10.5e6))


def test_the_report_is_on_held_out_replicates_with_paired_intervals():
    """The loss reported is the report replicates' (2 and 3: leak + 2.5 on average), and the cost
    of assuming the attacker naive is the same in every pair, so its interval has no width."""
    runs = synthetic(LEAKS, COSTS)
    study = Study(runs=runs, full=runs.iloc[0:0], settings={"values": [1.0e6]})
    row = choice_table(study).iloc[0]
    assert row["best vs best response"] == "$0/day balanced"
    assert row["its loss vs best response (report reps, reduced)"].startswith("$13.50M")
    assert row["cost of assuming naive (paired, reduced)"] == "$3.00M [3.00, 3.00]"


def test_the_study_writes_its_tables_and_checks_the_choice_at_full_scale(tmp_path):
    result = run(
        [*SMALL, "world.days=6", f"output.results_dir={tmp_path}"],
        budgets=[300000, 0],
        mixes=["balanced"],
        values=[1e5, 1e7],
        choose_replicates=[0],
        report_replicates=[1, 2],
        reduced=["world.legit_sample_share=0.005"],
        reduced_search=TINY_SEARCH,
        n_jobs=1,
    )
    runs = result.runs
    assert set(runs["role"]) == {"choose", "report"}
    assert set(runs.loc[runs["role"] == "report", "replicate"]) == {1, 2}
    assert set(result.full["replicate"]) == {1, 2}
    # The ladder: the $300k best response was warm-started from the $0 one.
    assert "attacker.search.warm_start_budgets=[0,300000]" in result.settings["reduced"]
    folder = write_study(result, tmp_path)
    for name in (
        "summary.md",
        "candidates.csv",
        "runs.csv",
        "choices.csv",
        "frontier.csv",
        "frontier.png",
        "full_scale.csv",
        "manifest.json",
    ):
        assert (folder / name).is_file(), name
    from test_figures import assert_citable

    assert_citable(folder, json.loads((folder / "manifest.json").read_text())["config_hash"])
    assert len(pd.read_csv(folder / "candidates.csv")) == 4
    assert len(pd.read_csv(folder / "choices.csv")) == 2
    front = pd.read_csv(folder / "frontier.csv")
    assert set(front["attacker"]) == {"fixed", "best_response"} and front["pareto"].any()
    assert not list(folder.parent.glob(".tmp-*"))
    text = (folder / "summary.md").read_text()
    assert "at full scale" in text and "paired" in text
    meta = json.loads((folder / "manifest.json").read_text())
    assert meta["study"] == "stackelberg" and len(meta["config_hash"]) == 64 and "git" in meta
    assert meta["choose_replicates"] == [0] and meta["report_replicates"] == [1, 2]


def test_the_command_rejects_bad_options_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["stackelberg", "--budgets", "0,abc"]) == 2
    assert "--budgets" in capsys.readouterr().err
    assert main(["stackelberg", "--bogus"]) == 2
    assert "--report-replicates" in capsys.readouterr().err
    assert main(["stackelberg", "--report-replicates", "0"]) == 2
    assert "--report-replicates" in capsys.readouterr().err
    assert main(["stackelberg", "--mixes", "nope"]) == 2
    assert "mix" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_bayes_thresholds_are_refused(tmp_path):
    from sim.validation import ConfigError

    with pytest.raises(ConfigError, match="bayes"):
        run(
            [*SMALL, "detection=bayes", f"output.results_dir={tmp_path}"],
            budgets=[0],
            mixes=["balanced"],
            values=[1e6],
            choose_replicates=[0],
            report_replicates=[1],
            reduced=[],
        )


def test_every_split_of_a_zero_budget_is_one_world_simulated_once(tmp_path, capsys):
    result = run(
        [*SMALL, "world.days=6", f"output.results_dir={tmp_path}"],
        budgets=[0],
        mixes=["balanced", "review_heavy"],
        values=[1e6],
        choose_replicates=[0],
        report_replicates=[1],
        reduced=[],
        reduced_search=TINY_SEARCH,
        full_check=False,
        n_jobs=1,
    )
    assert "(1 distinct worlds)" in capsys.readouterr().out
    c = result.runs
    assert len(c) == 8 and set(c["mix"]) == {"balanced", "review_heavy"}
    a, b = (c[c["mix"] == m].drop(columns="mix").reset_index(drop=True) for m in c["mix"].unique())
    pd.testing.assert_frame_equal(a, b)


def test_your_search_settings_reach_the_best_response_runs_only(tmp_path, capsys):
    from sim.validation import ConfigError

    result = run(
        [
            *SMALL,
            "world.days=6",
            f"output.results_dir={tmp_path}",
            "attacker.search.trials=3",
            "attacker.search.n_jobs=1",
        ],
        budgets=[0],
        mixes=["balanced"],
        values=[1e6],
        choose_replicates=[0],
        report_replicates=[1],
        full_check=False,
        n_jobs=1,
    )
    out = capsys.readouterr().out
    assert "replace the study's reduced" in out and "attacker.search.trials=30" in out
    assert "world.legit_sample_share=0.1" in out  # SMALL sets it: the user's value stays
    assert "attacker.search.trials=3" in result.settings["reduced"]
    with pytest.raises(ConfigError, match="sets the attacker"):
        run([*SMALL, "attacker=adaptive"], [0], ["balanced"], [1e6], [0], [1])
    with pytest.raises(ConfigError, match="disjoint"):
        run(SMALL, [0], ["balanced"], [1e6], [0, 1], [1])
