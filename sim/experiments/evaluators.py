"""Evaluators: run one configuration to its results, in-process (EMA-Workbench naming).

:func:`evaluate` is what every launcher calls; it returns plain data so results can travel between
processes. The model, and its imports, are loaded lazily so validation stays fast.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
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


def _day_bar(cfg: Config, show: bool):
    """A progress bar over the simulated days and the per-window callback that moves it
    (both None when not shown)."""
    if not show:
        return None, None
    from tqdm import tqdm

    bar = tqdm(
        total=int(cfg.world.days), unit="day", desc="simulating", file=sys.stderr, leave=False
    )

    def tick(m) -> None:
        bar.n = int(m.time_h // 24)
        bar.refresh()

    return bar, tick


def undefended(cfg: Config) -> Config:
    """The same world and seed with B = 0: the reference for times relative to no defence."""
    return dataclasses.replace(
        cfg, detection=dataclasses.replace(cfg.detection, budget_usd_per_day=0.0)
    )


def needs_reference(cfg: Config) -> bool:
    return bool(cfg.analysis.undefended_reference) and cfg.detection.budget_usd_per_day > 0


def evaluate(
    cfg: Config,
    scenario: str | None = None,
    replicate: int | None = None,
    keep_model: bool = False,
    progress: bool | None = None,
    summary_only: bool = False,
    reference: Callable[[Config], dict[str, Any]] | None = None,
) -> RunResult:
    """Simulate ``cfg`` and compute its outcomes (only the summary with ``summary_only``).

    With ``attacker=best_response`` the operators' levers are searched first
    (:mod:`sim.experiments.best_response`, cached) and the run plays them.

    With ``analysis.undefended_reference`` and B > 0, the undefended twin (:func:`undefended`)
    is simulated first — or taken from ``reference`` (a sweep's cache) — for the times relative
    to the undefended capability. At B = 0 a run is its own twin.
    """
    from sim.model import DistillationModel
    from sim.outcomes import summarize, timeseries

    t0 = time.perf_counter()
    show = _progress_enabled(cfg) if progress is None else progress
    if len(cfg.providers) == 1:
        # One provider is today's model on that provider's config (the undefended twin too).
        from sim.providers import provider_configs

        cfg = next(iter(provider_configs(cfg).values()))
    if cfg.providers:
        return _evaluate_world(cfg, scenario, replicate, keep_model, show, summary_only, t0)
    best = None
    if cfg.attacker.mode == "best_response" and cfg.attacker.search.enabled:
        # The operators' levers are searched on training replicates first, then played here.
        from sim.experiments.best_response import search, with_levers

        best = search(cfg, scenario or cfg.scenario.name, progress=show)
        cfg = with_levers(cfg, best.levers)
    ref: dict[str, Any] | None = None
    if needs_reference(cfg):
        twin = undefended(cfg)
        if reference is not None:
            ref = reference(twin)
        else:
            ref = evaluate(twin, scenario, replicate, progress=False, summary_only=True).summary
    streams = Streams(root_sequence(cfg.seed, replicate))
    bar, tick = _day_bar(cfg, show)
    model = DistillationModel(cfg, streams, on_window=tick)
    model.run()
    if bar is not None:
        bar.close()
    name = scenario or cfg.scenario.name
    if ref is None and cfg.analysis.undefended_reference:
        ref = "self"  # B = 0: its own twin
    summary = summarize(model, name, reference=ref)
    if replicate is not None:
        summary["replicate"] = int(replicate)
    if best is not None:
        summary["best_response"] = best.summary()
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


def _evaluate_world(
    cfg: Config,
    scenario: str | None,
    replicate: int | None,
    keep_model: bool,
    show: bool,
    summary_only: bool,
    t0: float,
) -> RunResult:
    """:func:`evaluate` for a world of several providers (:class:`sim.world.World`, MODEL §12).

    The tables carry a ``provider`` column. No undefended twin yet: the times relative to no
    defence are not reported for a world of several providers.
    """
    from sim.outcomes import timeseries
    from sim.world import World

    streams = Streams(root_sequence(cfg.seed, replicate))
    bar, tick = _day_bar(cfg, show)
    world = World(cfg, streams, on_window=tick)
    world.run()
    if bar is not None:
        bar.close()
    summary = world.summary(scenario or cfg.scenario.name)
    if replicate is not None:
        summary["replicate"] = int(replicate)
    if summary_only:
        ts = ledger = by_window = pd.DataFrame()
    else:
        parts: dict[str, list[pd.DataFrame]] = {"ts": [], "ledger": [], "by_window": []}
        for name, m in zip(world.names, world.models, strict=True):
            agent_type = type(m.operator_list[0])
            frames = {
                "ts": timeseries(m),
                "ledger": m.ledger.frame(),
                "by_window": m.datacollector.get_agenttype_vars_dataframe(agent_type).reset_index(),
            }
            for k, f in frames.items():
                parts[k].append(f.assign(provider=name))
        ts, ledger, by_window = (
            pd.concat(parts[k], ignore_index=True) for k in ("ts", "ledger", "by_window")
        )
    domains = list(world.models[0].domains)
    if not keep_model:
        world.release()
        world = None
    seconds = time.perf_counter() - t0
    summary["wall_seconds"] = round(seconds, 4)
    return RunResult(summary, ts, ledger, by_window, domains, seconds, world)
