"""What each CLI command does, from overrides to the results folder."""

from __future__ import annotations

import sys

from sim.configuration import load


def run(overrides: list[str]) -> int:
    """``distillsim run``: validate, simulate, write the run folder, print the summary and path."""
    loaded = load(
        overrides, command_line=True
    )  # every bad input fails here, before anything is written
    from sim.evaluators import evaluate
    from sim.outputs import write_run
    from sim.terminal import format_summary

    result = evaluate(loaded.cfg, loaded.scenario)
    folder = write_run(loaded, result)
    print(format_summary(result.summary))
    print(f"simulated in {result.seconds:.2f} s; results in:", file=sys.stderr)
    print(folder)
    return 0
