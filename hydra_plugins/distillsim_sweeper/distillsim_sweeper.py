"""Hydra sweeper plugin of distillsim: the basic sweeper in batches, aggregated at the end.

Hydra only instantiates plugins that live in the ``hydra_plugins`` namespace; the work itself is in
:mod:`sim.experiments.sweeps` (the task) and :mod:`sim.analysis` (the aggregation).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf


@dataclass
class SweeperConf:
    """Hydra config of :class:`DistillsimSweeper` (``hydra/sweeper=distillsim``)."""

    _target_: str = "hydra_plugins.distillsim_sweeper.distillsim_sweeper.DistillsimSweeper"
    #: Points per launch; None: 16 per core (progress is reported after each batch; each launch
    #: waits for its slowest point, so larger batches keep the cores busier: 64 full-scale
    #: points took 39 s in batches of 32 and 44 s in batches of 8 on 2 cores).
    max_batch_size: int | None = None
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(
    group="hydra/sweeper", name="distillsim", node=SweeperConf, provider="distillsim"
)


class DistillsimSweeper(BasicSweeper):
    """Hydra's basic sweeper, in batches with progress, aggregating the job returns at the end."""

    def validate_batch_is_legal(self, batch) -> None:
        # distillsim composed and validated every swept value before the multirun started.
        return None

    def sweep(self, arguments: list[str]) -> Any:
        if self.max_batch_size is None:
            self.max_batch_size = 16 * (os.cpu_count() or 1)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        self.overrides = self.split_arguments(overrides, self.max_batch_size)
        total = sum(len(b) for b in self.overrides)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns = []
        done, t0, idx = 0, time.perf_counter(), 0
        lost: list[tuple[list[str], BaseException]] = []
        while not self.is_done():
            batch = self.get_job_batch()
            try:
                results = self.launcher.launch(batch, initial_job_idx=idx)
            except Exception as exc:  # a worker died (killed, out of memory): its batch is lost
                results = self._one_by_one(batch, idx, exc, lost)
            idx += len(batch)
            returns.append(results)
            done += len(batch)
            elapsed = time.perf_counter() - t0
            left = elapsed / done * (total - done)
            print(
                f"[sweep] {done}/{total} points, {elapsed:,.0f} s elapsed, ~{left:,.0f} s left",
                file=sys.stderr,
                flush=True,
            )
        rows = []
        for batch in returns:
            for r in batch:
                try:
                    rows.append(r.return_value)
                except Exception as exc:  # a job that failed before its task could catch it
                    rows.append(_failed_row(list(r.overrides or []), repr(exc)))
        for overrides, exc in lost:
            rows.append(_failed_row(overrides, f"the worker running this point died: {exc!r}"))
        from sim.analysis.runs import aggregate
        from sim.experiments.storage import WriteFailed

        try:
            aggregate(sweep_dir, rows, sweep_config=self.config)
        except OSError as exc:  # a full disk: one line from the command, not Hydra's traceback
            raise WriteFailed(exc) from exc
        cached = sum(bool(r.get("cached")) for r in rows)
        failed = sum(r.get("error") is not None for r in rows)
        print(
            f"[sweep] {len(rows)} points: {cached} from the cache, {failed} failed",
            file=sys.stderr,
            flush=True,
        )
        return returns

    def _one_by_one(self, batch, idx: int, exc: BaseException, lost: list) -> list:
        """Rerun a lost batch a point at a time: its finished points come from the cache, and a
        point that kills its worker again is recorded as failed while the others finish."""
        print(
            f"[sweep] a batch of {len(batch)} points was lost ({type(exc).__name__}): "
            "rerunning its points one at a time (finished ones come from the cache)",
            file=sys.stderr,
            flush=True,
        )
        results = []
        for j, job in enumerate(batch):
            try:
                results.extend(self.launcher.launch([job], initial_job_idx=idx + j))
            except Exception as again:
                lost.append(([str(o) for o in job], again))
        return results


def _failed_row(overrides: list[str], error: str) -> dict[str, Any]:
    """The row of a point that returned nothing: its coordinates and why."""
    from sim.experiments.sweeps import _swept_values

    return {
        "job": None,
        "overrides": overrides,
        "swept": _swept_values(overrides),
        "summary": None,
        "error": error,
    }
