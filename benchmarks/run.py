"""Benchmarks: time and memory of the full-scale world.

Usage (from the repository root, after `make test` or `make demo` created .venv):

    .venv/bin/python benchmarks/run.py [--reps 5]

Prints a table and writes it as JSON under results/benchmarks/. Measures, on this machine:
the simulation call in-process (median of --reps after one warm-up), the whole `distillsim run`
command, and the peak resident memory of that command.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL = ["scenario=alibaba_2026", "output.plots=false", "output.progress=off"]


def in_process(reps: int) -> dict:
    from sim.configuration import load
    from sim.evaluators import evaluate
    from sim.model import DistillationModel
    from sim.rng import Streams, root_sequence

    cfg = load(FULL).cfg
    evaluate(cfg, progress=False)  # warm-up
    sim_times, total_times = [], []
    for i in range(reps):
        t0 = time.perf_counter()
        model = DistillationModel(cfg, Streams(root_sequence(i)))
        model.run()
        t1 = time.perf_counter()
        evaluate(cfg, progress=False)
        t2 = time.perf_counter()
        sim_times.append(t1 - t0)
        total_times.append(t2 - t1)
    return {
        "simulation_median_s": statistics.median(sim_times),
        "simulation_runs_s": sim_times,
        "simulation_plus_outcomes_median_s": statistics.median(total_times),
    }


def whole_command(reps: int, out: Path) -> dict:
    exe = str(Path(sys.executable).parent / "distillsim")
    times, peaks = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        p = subprocess.run(
            [exe, "run", *FULL, f"output.results_dir={out}"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return {
        "command_median_s": statistics.median(times),
        "command_runs_s": times,
        "peak_rss_mib": max(peaks),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    out = ROOT / "results" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    res = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "when": datetime.now().isoformat(timespec="seconds"),
        "reps": args.reps,
    }
    res |= in_process(args.reps)
    res |= whole_command(args.reps, out / "runs")
    path = out / f"benchmark_{datetime.now():%Y%m%d_%H%M%S}.json"
    path.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{'full-scale simulation, in-process (median)':<48} {res['simulation_median_s']:.3f} s")
    print(
        f"{'  + outcomes (summary, time series)':<48} "
        f"{res['simulation_plus_outcomes_median_s']:.3f} s"
    )
    print(f"{'whole `distillsim run` command (median)':<48} {res['command_median_s']:.3f} s")
    print(f"{'peak resident memory of the command':<48} {res['peak_rss_mib']:.0f} MiB")
    print(path)


if __name__ == "__main__":
    main()
