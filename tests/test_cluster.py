"""Ray: a local instance, and a two-node cluster on loopback, give the same results as the
local launchers, for sweeps (Hydra's Ray launcher) and studies (study.backend=ray).

The cluster is started as a user would (``ray start --head``, then ``ray start --address``
with ``RAY_AUTH_MODE=token``, Ray's default token authentication), in the same xdist group so
no other test's Ray is running when it stops.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_sweeps import GRID, TINY, _figures, _sweep

pytestmark = pytest.mark.xdist_group("ray")
RAY = str(Path(sys.executable).with_name("ray"))
STUDY = [
    "study=curve",
    "study.samples=3",
    "study.budgets=[0,20000]",
    "study.baseline_replicates=1",
    *TINY,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("basic")
    return _sweep(tmp, "sweep=spend_curve", *TINY, *GRID, "hydra/launcher=basic")


@pytest.fixture(scope="module")
def sequential_study(tmp_path_factory):
    from sim.experiments.studies import run

    tmp = tmp_path_factory.mktemp("seq")
    return run([*STUDY, "study.backend=sequential", f"output.results_dir={tmp}"]).samples


@pytest.fixture(scope="module")
def cluster():
    """A head and a second node on 127.0.0.1, one CPU each; stopped afterwards."""
    import ray

    ray.shutdown()
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    try:
        subprocess.run(
            [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
            check=True,
            env=env,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [RAY, "start", f"--address=127.0.0.1:{port}", *common],
            check=True,
            env=env,
            capture_output=True,
            timeout=120,
        )
        yield f"127.0.0.1:{port}"
    finally:
        ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_local_ray_launcher_gives_the_same_figures(basic, tmp_path, monkeypatch):
    """A sweep without an address starts a Ray of its own, even where RAY_ADDRESS names a
    cluster (here one that does not exist)."""
    import ray

    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")
    try:
        folder = _sweep(
            tmp_path,
            "sweep=spend_curve",
            *TINY,
            *GRID,
            "hydra/launcher=ray",
            "+hydra.launcher.ray.init.num_cpus=2",
        )
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(_figures(basic), _figures(folder))


def test_two_node_cluster_sweep_and_study_match_the_local_results(
    cluster, basic, sequential_study, tmp_path, monkeypatch
):
    import ray

    from sim.experiments.studies import run

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)  # the driver turns token mode on itself
    try:
        folder = _sweep(
            tmp_path,
            "sweep=spend_curve",
            *TINY,
            *GRID,
            "hydra/launcher=ray",
            f"hydra.launcher.ray.init.address={cluster}",
        )
        assert len(ray.nodes()) == 2 and ray.cluster_resources()["CPU"] == 2
        pd.testing.assert_frame_equal(_figures(basic), _figures(folder))
        on_ray = run(
            [
                *STUDY,
                "study.backend=ray",
                f"study.ray_address={cluster}",
                "study.batch=1",
                f"output.results_dir={tmp_path}/study",
            ]
        ).samples
    finally:
        ray.shutdown()
    assert not on_ray["cached"].any()
    cols = [c for c in on_ray if c not in ("cached", "seconds", "wall_seconds")]
    pd.testing.assert_frame_equal(sequential_study[cols], on_ray[cols])
