"""The run folder: written under a temporary name and renamed only when complete.

``results/runs/<scenario>/<YYYY-mm-dd_HH-MM-SS_ffffff>/`` holds ``config.yaml`` (resolved),
``summary.json``, ``timeseries.parquet``, ``ledger.parquet``, ``operators_by_window.parquet``,
``manifest.json`` and the figures (PNG, SVG and a caption each).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from sim.analysis import run_figures as plots
from sim.analysis.style import Provenance
from sim.configuration import Loaded
from sim.experiments.evaluators import RunResult
from sim.experiments.storage import atomic_folder, dump_json, stamp
from sim.provenance import manifest


def run_folder(results_dir: Path, scenario: str) -> Path:
    return results_dir / "runs" / scenario / stamp()


def write_run(loaded: Loaded, result: RunResult, results_dir: Path | None = None) -> Path:
    """Write the run folder atomically and return its final path."""
    cfg = loaded.cfg
    root = Path(results_dir or cfg.output.results_dir)
    final = run_folder(root, loaded.scenario)
    with atomic_folder(final) as tmp:
        (tmp / "config.yaml").write_text(OmegaConf.to_yaml(loaded.resolved))
        dump_json(result.summary, tmp / "summary.json")
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.ledger.to_parquet(tmp / "ledger.parquet", index=False)
        result.by_window.to_parquet(tmp / "operators_by_window.parquet", index=False)
        meta = manifest(
            loaded.resolved,
            cfg.seed,
            loaded.scenario,
            loaded.overrides,
            {"wall_seconds": round(result.seconds, 3), "figures": []},
        )
        # A world of several providers has a figure of its own (its tables carry a provider
        # column the one-provider figures do not read).
        if cfg.output.plots and cfg.providers:
            path = tmp / "providers.png"
            plots.world_run_figure(
                result.timeseries,
                result.summary,
                path,
                loaded.scenario,
                releases_days=[r / 24.0 for r in cfg.teacher.releases_hours],
                provenance=Provenance.from_meta(meta, "run"),
            )
            meta["figures"] = [path.name]
        if cfg.output.plots and not cfg.providers:
            paths = plots.run_figures(
                result.timeseries,
                result.domains,
                tmp,
                loaded.scenario,
                releases_days=[r / 24.0 for r in cfg.teacher.releases_hours],
                budget_usd_per_day=cfg.detection.budget_usd_per_day,
                provenance=Provenance.from_meta(meta, "run"),  # the footer cites the manifest
            )
            meta["figures"] = [p.name for p in paths]
        dump_json(meta, tmp / "manifest.json")
    return final
