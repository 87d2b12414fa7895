"""A study's throughput and memory at full scale (issue #11's targets), measured, not asserted.

Usage, from the repository root once ``make test`` has created .venv:

    .venv/bin/python benchmarks/study.py [--study morris] [--samples 10] [--budgets 0,100000]
                                         [--backend joblib] [key=value ...]

Runs ``distillsim study`` in-process on full-scale ``alibaba_2026`` with a fresh result cache
(a temporary folder), sampling the process tree's resident memory every second, and prints a
Markdown row: runs, wall time, runs per minute, peak RSS of the driver and workers, and the RSS
of the first and last tenth of the study, in total, of the driver and of the largest worker
(flat memory: they are close). ``--trace F`` writes the per-second trace as CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))


def tree_rss_mib() -> tuple[float, float, float]:
    """RSS of this process, of its children (joblib's workers) together and of the largest, MiB."""
    import psutil

    me = psutil.Process()
    driver = me.memory_info().rss
    kids = []
    for p in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            kids.append(p.memory_info().rss)
    return driver / 2**20, sum(kids) / 2**20, max(kids, default=0) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--study", default="morris")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--budgets", default="0,100000")
    ap.add_argument("--backend", default="joblib")
    ap.add_argument("--trace", help="write the memory trace (seconds, driver, workers MiB) as CSV")
    args, overrides = ap.parse_known_args()

    from sim.experiments.studies import run

    with tempfile.TemporaryDirectory() as tmp:
        ov = [
            f"study={args.study}",
            f"study.samples={args.samples}",
            f"study.budgets=[{args.budgets}]",
            f"study.backend={args.backend}",
            f"output.results_dir={tmp}",
            *overrides,
        ]
        trace: list[tuple[float, float, float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                trace.append((time.perf_counter() - t0, *tree_rss_mib()))
                stop.wait(1.0)

        t0 = time.perf_counter()
        t = threading.Thread(target=sample, daemon=True)
        t.start()
        result = run(ov, progress=True)
        wall = time.perf_counter() - t0
        stop.set()
        t.join()
    runs = len(result.samples)
    if args.trace:
        with open(args.trace, "w") as f:
            f.write("seconds,driver_mib,workers_mib,largest_worker_mib\n")
            f.writelines(",".join(f"{v:.1f}" for v in row) + "\n" for row in trace)
    rss = [d + w for _, d, w, _ in trace]
    drv = [d for _, d, _, _ in trace]
    big = [b for *_, b in trace]
    tenth = max(1, len(rss) // 10)

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    print(
        "| study | runs | wall s | runs/min | peak RSS MiB | RSS first 10% | RSS last 10% "
        "| driver first/last 10% | largest worker first/last 10% |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.study} x{args.samples} ({args.backend}) | {runs} | {wall:.1f} | "
        f"{runs / wall * 60:.0f} | {max(rss):.0f} | {mean(rss[:tenth]):.0f} | "
        f"{mean(rss[-tenth:]):.0f} | {mean(drv[:tenth]):.0f}/{mean(drv[-tenth:]):.0f} | "
        f"{mean(big[:tenth]):.0f}/{mean(big[-tenth:]):.0f} |"
    )


if __name__ == "__main__":
    main()
