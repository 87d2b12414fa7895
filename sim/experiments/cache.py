"""Result cache: one summary per (resolved config, seed, replicate, model version).

Kept outside the timestamped folders (``<results_dir>/cache/``) so that rerunning a finished sweep
recomputes nothing and an interrupted one resumes with only the missing points. The model version
is ``sim.MODEL_VERSION`` plus a hash of the model and experiment sources, so editing the model
never serves a stale result (editing a figure or a table recomputes nothing). Entries are
written through a temporary name with a checksum of their text; an entry that cannot be read, or
whose text no longer matches its checksum, is recomputed and reported (stderr and
``<cache>/recomputed.log``). Failed points are never cached.
"""

from __future__ import annotations

import contextlib
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
    root = Path(cfg.output.results_dir) / "cache"
    path = root / key[:2] / f"{key}.json"
    if path.is_file():
        summary, why = read_entry(path, key)
        if summary is not None:
            return summary, True
        report_damaged(root, path, why)
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

    write_entry(path, key, clean(summary))
    return summary, False


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def write_entry(path: Path, key: str, summary: dict[str, Any]) -> None:
    """Store ``summary`` under ``key`` with a checksum of its text, through a temporary name
    (two processes writing one entry each write it whole; the last rename wins)."""
    body = json.dumps(summary, sort_keys=True, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"key": key, "sha256": _digest(body), "summary": body}))
    os.replace(tmp, path)


def read_entry(path: Path, key: str) -> tuple[dict[str, Any] | None, str]:
    """The entry's summary, or None and why it cannot be trusted (unreadable, not JSON, another
    key's, or its text no longer matching its checksum: a decodable but corrupted entry)."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"unreadable ({type(e).__name__})"
    if not isinstance(entry, dict) or not isinstance(entry.get("summary"), str):
        return None, "not a cache entry"
    if entry.get("key") != key:
        return None, "holds another key"
    if entry.get("sha256") != _digest(entry["summary"]):
        return None, "checksum mismatch"
    try:
        return json.loads(entry["summary"]), ""
    except json.JSONDecodeError:
        return None, "summary not JSON"


def report_damaged(root: Path, path: Path, why: str) -> None:
    """Say that an entry is recomputed, on stderr and in ``<cache>/recomputed.log``."""
    import sys
    import time

    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {path.relative_to(root)} {why}: recomputed"
    print(f"distillsim: cache entry {line}", file=sys.stderr)
    with contextlib.suppress(OSError), open(root / "recomputed.log", "a") as f:
        f.write(line + "\n")
