"""Result cache: one summary per (resolved config, seed, replicate, model version).

Kept outside the timestamped folders (``<results_dir>/cache/``) so that rerunning a finished sweep
recomputes nothing and an interrupted one resumes with only the missing points. The model version
is ``sim.MODEL_VERSION`` plus a hash of the model and experiment sources, so editing the model
never serves a stale result (editing a figure or a table recomputes nothing). Entries are
written through a temporary name; failed points are never cached.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import sim
from sim.parameters import Config

#: Sources that turn summaries into tables, figures and text, or parse the command line: editing
#: them cannot change a run's summary, so they are not part of the model version.
NOT_THE_MODEL = ("analysis/", "cli.py", "commands.py", "outputs.py", "terminal.py")


@functools.cache
def model_version() -> str:
    """MODEL_VERSION and a digest of every source file that can change a run's summary (the
    model and the experiment layer; not :data:`NOT_THE_MODEL`)."""
    return f"{sim.MODEL_VERSION}-{source_digest(Path(sim.__file__).resolve().parent)}"


def source_digest(root: Path) -> str:
    """Digest of the package's model and experiment sources under ``root``."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        if p.relative_to(root).as_posix().startswith(NOT_THE_MODEL):
            continue
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


#: Config sections that label or steer an experiment but do not change the world simulated.
NOT_THE_WORLD = ("output", "sweep", "study", "uncertainty")


def cache_key(cfg: Config, scenario: str) -> str:
    """Key of a run: its resolved config (seed and replicate included; not the output settings,
    nor the sweep or study that asks, so two of them share the points they have in common) and
    the model version."""
    data = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_THE_WORLD}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{blob}|{scenario}|{model_version()}".encode()).hexdigest()


def cached_summary(cfg: Config, scenario: str) -> tuple[dict[str, Any], bool]:
    """The run's summary from the cache, or simulated and stored. Returns (summary, was_cached)."""
    from sim.experiments.evaluators import evaluate

    key = cache_key(cfg, scenario)
    path = Path(cfg.output.results_dir) / "cache" / key[:2] / f"{key}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text()), True
        except (OSError, json.JSONDecodeError):
            pass  # a damaged entry is recomputed
    summary = evaluate(
        cfg,
        scenario,
        replicate=cfg.replicate,
        progress=False,
        summary_only=True,
        # The undefended twin is a point of its own (often one of the sweep's): cached too.
        reference=lambda twin: cached_summary(twin, scenario)[0],
    ).summary
    from sim.experiments.storage import clean

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(clean(summary), allow_nan=False))
    os.replace(tmp, path)
    return summary, False
