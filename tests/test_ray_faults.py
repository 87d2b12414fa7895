"""Ray and killed workers: a point or world whose worker keeps dying is a failed row.

In the same xdist group as ``test_cluster.py`` (one worker runs them one after the other: its
cluster fixture ends with ``ray stop --force``), and in subprocesses, so the fault-injection
variables never reach the test process itself.
"""

from __future__ import annotations

import pytest
from test_cluster import STUDY
from test_hardening import _command
from test_sweeps import TINY

pytestmark = pytest.mark.xdist_group("ray")
KILL = {
    "DISTILLSIM_KILL_POINT": "detection.budget_usd_per_day=20000",
    "DISTILLSIM_KILL_SAMPLE": "2",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def test_on_ray_a_point_that_always_kills_its_worker_is_a_failed_row(tmp_path):
    """Ray retries the task, then the sweeper reruns the batch a point at a time: only the
    killing point fails, with its coordinates."""
    args = ["sweep", "sweep=spend_curve", *TINY, "detection.budget_usd_per_day=0,20000"]
    args += ["attacker=fixed", "replicate=range(0,1)", "hydra/launcher=ray"]
    args += ["+hydra.launcher.ray.init.num_cpus=2", "output.progress=off"]
    df, _ = _command(tmp_path, args, KILL, "runs.parquet")
    bad = df[df["error"].notna()]
    assert len(df) == 2 and set(bad["detection.budget_usd_per_day"]) == {20000}
    assert bad["error"].str.contains("worker running this point died").all()


def test_on_ray_a_world_that_always_kills_its_worker_is_a_failed_row(tmp_path):
    """Ray retries the task, then its worlds are rerun one at a time: only the killing world's
    points fail."""
    args = ["study", *STUDY, "study.backend=ray", "study.batch=2", "output.progress=off"]
    df, err = _command(tmp_path, args, KILL, "samples.parquet")
    assert "a Ray task failed" in err
    lost = df[df["error"].notna()]
    assert len(df) == 8 and set(lost["sample"]) == {2} and len(lost) == 2
    assert lost["error"].str.contains("worker running this world died").all()
