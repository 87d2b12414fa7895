"""Evaluators: run one configuration to its results, in-process (EMA-Workbench naming).

:func:`evaluate` is what every launcher calls; it returns plain data so results can travel between
processes. The model, and its imports, are loaded lazily so validation stays fast.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.parameters import Config
from sim.rng import Streams, root_sequence


@dataclass
class RunResult:
    """Everything one run produced."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    ledger: pd.DataFrame
    by_window: pd.DataFrame
    domains: list[str]
    seconds: float
    model: Any = None


def _progress_enabled(cfg: Config) -> bool:
    mode = cfg.output.progress
    return mode == "on" or (mode == "auto" and sys.stderr.isatty())


def evaluate(
    cfg: Config,
    scenario: str | None = None,
    replicate: int | None = None,
    keep_model: bool = False,
    progress: bool | None = None,
    summary_only: bool = False,
) -> RunResult:
    """Simulate ``cfg`` and compute its outcomes (only the summary with ``summary_only``)."""
    from sim.model import DistillationModel
    from sim.outcomes import summarize, timeseries

    t0 = time.perf_counter()
    streams = Streams(root_sequence(cfg.seed, replicate))
    show = _progress_enabled(cfg) if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(
            total=int(cfg.world.days), unit="day", desc="simulating", file=sys.stderr, leave=False
        )

    def tick(m) -> None:
        bar.n = int(m.time_h // 24)
        bar.refresh()

    model = DistillationModel(cfg, streams, on_window=tick if bar else None)
    model.run()
    if bar is not None:
        bar.close()
    name = scenario or cfg.scenario.name
    summary = summarize(model, name)
    if replicate is not None:
        summary["replicate"] = int(replicate)
    if summary_only:
        ts = ledger = by_window = pd.DataFrame()
    else:
        ts = timeseries(model)
        ledger = model.ledger.frame()
        agent_type = type(model.operator_list[0])
        by_window = model.datacollector.get_agenttype_vars_dataframe(agent_type).reset_index()
    domains = list(model.domains)
    if not keep_model:
        model.release()  # frees the world's arrays now (sweeps run hundreds of worlds)
        model = None
    seconds = time.perf_counter() - t0
    summary["wall_seconds"] = round(seconds, 4)
    return RunResult(
        summary, ts, ledger, by_window, domains, seconds, model if keep_model else None
    )
