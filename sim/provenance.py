"""Provenance: config hash, package versions and git revision of a run."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

import sim

PACKAGES = [
    "mesa",
    "simpy",
    "hydra-core",
    "omegaconf",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "matplotlib",
]


def config_hash(tree: DictConfig | dict) -> str:
    """SHA-256 of the resolved config as canonical JSON (output settings excluded)."""
    data = OmegaConf.to_container(tree, resolve=True) if isinstance(tree, DictConfig) else tree
    data = {k: v for k, v in data.items() if k != "output"}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def versions() -> dict[str, str]:
    out = {
        "python": platform.python_version(),
        "distillsim": sim.__version__,
        "model_version": sim.MODEL_VERSION,
    }
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def git_revision() -> dict[str, Any]:
    """Commit of the source tree this package runs from, and whether it had local changes."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            != ""
        )
        return {"revision": rev, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def manifest(
    tree: DictConfig,
    seed: int,
    scenario: str,
    overrides: list[str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "seed": int(seed),
        "config_hash": config_hash(tree),
        "overrides": list(overrides),
        "command": " ".join(sys.argv),
        "created_utc": datetime.now(UTC).isoformat(),
        "versions": versions(),
        "git": git_revision(),
        **(extra or {}),
    }
