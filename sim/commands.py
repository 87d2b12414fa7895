"""What each CLI command does, from overrides to the results folder."""

from __future__ import annotations

import sys

from sim.configuration import load


def run(overrides: list[str]) -> int:
    """``distillsim run``: validate, simulate, write the run folder, print the summary and path."""
    from sim.validation import ConfigError

    for ov in overrides:
        key = ov.split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra.") or key.startswith("hydra/"):
            # Hydra's own settings would be silently ignored here: a run is not a Hydra job.
            raise ConfigError(
                key,
                "Hydra settings apply to sweeps only; a run is written to "
                "<output.results_dir>/runs/<scenario>/<time>/ (set output.results_dir=...)",
            )
    loaded = load(overrides, command_line=True)  # every bad input fails here, before any output
    from sim.evaluators import evaluate
    from sim.outputs import write_run
    from sim.terminal import format_summary

    result = evaluate(loaded.cfg, loaded.scenario)
    folder = write_run(loaded, result)
    print(format_summary(result.summary))
    print(f"simulated in {result.seconds:.2f} s; results in:", file=sys.stderr)
    print(folder)
    return 0


def report(args: list[str]) -> int:
    """``distillsim report <sweep-folder>``: rebuild a sweep's outputs from runs.parquet."""
    from pathlib import Path

    from sim.analysis import report as build
    from sim.validation import ConfigError

    if len(args) != 1:
        raise ConfigError("report", "expected one argument: a sweep folder")
    folder = Path(args[0])
    if folder.name.endswith(".partial"):
        raise ConfigError(
            "report",
            f"{folder} is an interrupted sweep: run its sweep command again to finish it "
            "(finished points come from the cache)",
        )
    if not (folder / "runs.parquet").is_file() or not (folder / "sweep.json").is_file():
        raise ConfigError("report", f"{folder} has no runs.parquet and sweep.json")
    build(folder)
    print(folder)
    return 0
