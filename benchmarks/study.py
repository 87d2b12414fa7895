"""A study's throughput and memory at full scale (issue #11's targets), measured, not asserted.

Usage, from the repository root once ``make test`` has created .venv:

    .venv/bin/python benchmarks/study.py [--study morris] [--samples 10] [--budgets 0,100000]
                                         [--backend joblib] [key=value ...]

Runs ``distillsim study`` in-process on full-scale ``alibaba_2026`` with a fresh result cache
(a temporary folder), sampling the process tree's resident memory every second, and prints a
Markdown row: runs, wall time, runs per minute, peak RSS of the driver and workers, and the RSS
of the first and last tenth of the study (flat memory: they are close).
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


def tree_rss_mib() -> float:
    """Resident memory of this process and its children (joblib's workers), MiB."""
    import psutil

    me = psutil.Process()
    total = 0
    for p in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--study", default="morris")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--budgets", default="0,100000")
    ap.add_argument("--backend", default="joblib")
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
        trace: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                trace.append((time.perf_counter(), tree_rss_mib()))
                stop.wait(1.0)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        t0 = time.perf_counter()
        result = run(ov, progress=True)
        wall = time.perf_counter() - t0
        stop.set()
        t.join()
    runs = len(result.samples)
    rss = [r for _, r in trace]
    tenth = max(1, len(rss) // 10)
    print("| study | runs | wall s | runs/min | peak RSS MiB | RSS first 10% | RSS last 10% |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.study} x{args.samples} ({args.backend}) | {runs} | {wall:.1f} | "
        f"{runs / wall * 60:.0f} | {max(rss):.0f} | {sum(rss[:tenth]) / tenth:.0f} | "
        f"{sum(rss[-tenth:]) / tenth:.0f} |"
    )


if __name__ == "__main__":
    main()
