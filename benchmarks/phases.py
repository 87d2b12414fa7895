"""One full-scale run in-process, by phase: median of seeds 1-5 after a warm-up (seed 0).

    .venv/bin/python benchmarks/phases.py [--tree DIR] [--budget 100000] [--reps 1] [key=value ...]

``--tree`` times another checkout's ``sim`` (e.g. the main branch's) with this interpreter, for
before/after pairs; run the two interleaved, several times, when the machine is shared. Prints the
wall and CPU (process) time of whole runs and the CPU time of each phase per run (a phase's
methods are wrapped, so nested phases overlap: close_window includes triage). CPU time is the
steadier measure on a shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--budget", type=float, default=100000)
    ap.add_argument("--reps", type=int, default=1, help="passes over seeds 1-5")
    args, overrides = ap.parse_known_args()
    sys.path.insert(0, args.tree)

    from sim import defender, model, review
    from sim.attackers import base
    from sim.configuration import load

    spent: dict[str, float] = {}

    def wrap(cls, name: str, label: str) -> None:
        f = getattr(cls, name)
        spent[label] = 0.0

        def timed(*a, **k):
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[label] += time.process_time() - t

        setattr(cls, name, timed)

    M = model.DistillationModel
    wrap(M, "__init__", "build the world")
    wrap(review.ReviewQueue, "run_until", "review queue (SimPy events, reviews, decisions)")
    wrap(M, "_harvest", "harvest")
    wrap(M, "_close_window", "close_window (scans, triage, policies)")
    wrap(defender.Defender, "triage", "  of it triage")
    wrap(base.Operator, "top_up", "top_up (operators' orders, market)")
    cfg = load(
        [
            "scenario=alibaba_2026",
            "output.progress=off",
            f"detection.budget_usd_per_day={args.budget:g}",
            *overrides,
        ]
    ).cfg
    m = M(dataclasses.replace(cfg, seed=0))
    m.run()
    m.release()
    spent.update(dict.fromkeys(spent, 0.0))
    wall, cpu = [], []
    for _ in range(args.reps):
        for seed in range(1, 6):
            t, c = time.perf_counter(), time.process_time()
            m = M(dataclasses.replace(cfg, seed=seed))
            m.run()
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            m.release()
    n = len(cpu)
    print(f"{args.tree}  B = {args.budget:g}/day, {n} runs")
    w, c = statistics.median(wall), statistics.median(cpu)
    print(f"  whole run: wall median {w:.3f} s, CPU median {c:.3f} s")
    for label, s in spent.items():
        print(f"  {label:48s} {s / n:.3f} s")


if __name__ == "__main__":
    main()
