"""The run folder: written under a temporary name and renamed only when complete.

``results/runs/<scenario>/<YYYY-mm-dd_HH-MM-SS_ffffff>/`` holds ``config.yaml`` (resolved),
``summary.json``, ``timeseries.parquet``, ``ledger.parquet``, ``operators_by_window.parquet``,
``manifest.json`` and the PNG figures.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim import plots
from sim.configuration import Loaded
from sim.evaluators import RunResult
from sim.provenance import manifest


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> null, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def dump_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(_clean(obj), indent=2, allow_nan=False) + "\n")


def run_folder(results_dir: Path, scenario: str) -> Path:
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
    return results_dir / "runs" / scenario / stamp


def write_run(loaded: Loaded, result: RunResult, results_dir: Path | None = None) -> Path:
    """Write the run folder atomically and return its final path."""
    cfg = loaded.cfg
    root = Path(results_dir or cfg.output.results_dir)
    final = run_folder(root, loaded.scenario)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    try:
        tmp.mkdir()
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(loaded.resolved))
        dump_json(result.summary, tmp / "summary.json")
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.ledger.to_parquet(tmp / "ledger.parquet", index=False)
        result.by_window.to_parquet(tmp / "operators_by_window.parquet", index=False)
        figures = []
        if cfg.output.plots:
            paths = plots.run_figures(
                result.timeseries,
                result.domains,
                tmp,
                loaded.scenario,
                releases_days=[r / 24.0 for r in cfg.teacher.releases_hours],
                budget_usd_per_day=cfg.detection.budget_usd_per_day,
            )
            figures = [p.name for p in paths]
        dump_json(
            manifest(
                loaded.resolved,
                cfg.seed,
                loaded.scenario,
                loaded.overrides,
                {"wall_seconds": round(result.seconds, 3), "figures": figures},
            ),
            tmp / "manifest.json",
        )
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
