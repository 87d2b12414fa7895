"""A study's throughput and memory at full scale (issue #11's targets), measured, not asserted.

Usage, from the repository root once ``make test`` has created .venv:

    .venv/bin/python benchmarks/study.py [--study morris] [--samples 10] [--budgets 0,100000]
                                         [--backend joblib] [--trace F] [--runs F]
                                         [--trim] [key=value ...]

Runs a study in-process on full-scale ``alibaba_2026`` with a fresh result cache (a temporary
folder) and prints two Markdown tables:

* the process tree, sampled every second: runs, wall time, runs per minute, peak RSS of the
  driver and workers together, and the RSS of the first and last tenth of the study's time, in
  total, of the driver and of the largest worker. A worker's first seconds are its imports and
  numba's kernel load (≈150 → 400 MiB), and a sample mid-run holds the live world, so these
  columns say little about a leak;
* each worker, from inside it, per run (its evaluator is wrapped; the study is otherwise the
  shipped one; Linux only, from ``/proc``): the worker's RSS after each run and the peak during
  the run (``VmHWM``, reset through ``/proc/self/clear_refs`` before each run), over its first
  and last tenth of runs in the order it ran them, the maximum, and the slope of the RSS after a
  run (least squares, kB a run). A flat study has first ≈ last and a slope near zero.
  ``--runs F`` writes these per-run figures as CSV.

``--trim`` calls glibc's ``malloc_trim(0)`` in the worker after each run, before its RSS is read:
the difference from a run without it is the freed heap glibc keeps for the next world (≈115 MiB
at $100k a day), not live data. It costs ≈5% of a run's CPU (the next world faults those pages in
again), so the package does not do it (benchmarks/README.md, "Memory over a long study").
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
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


def _status_mib() -> dict[str, float]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon"):
                out[key] = int(value.split()[0]) / 1024
    return out


class MemoryProbe:
    """The study's evaluator, with the worker's memory added to each row (runs in the worker)."""

    def __init__(self, inner, trim: bool):
        self.inner = inner
        self.trim = trim

    def __call__(self, x, point):
        with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM: the peak below is this run's
        out, cached = self.inner(x, point)
        if self.trim:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        st = _status_mib()
        return {
            **out,
            "mem_pid": os.getpid(),
            "mem_done": time.time(),
            "mem_rss_after": st["VmRSS"],
            "mem_anon_after": st.get("RssAnon", float("nan")),
            "mem_rss_peak": st["VmHWM"],
        }, cached


def per_worker(df) -> list[str]:
    """Markdown rows: each worker's RSS after a run and peak per run, first/last tenth, slope."""
    import numpy as np

    rows = []
    for pid, g in df.dropna(subset=["mem_pid"]).sort_values("mem_done").groupby("mem_pid"):
        n = max(1, len(g) // 10)
        after, peak = g["mem_rss_after"].to_numpy(), g["mem_rss_peak"].to_numpy()
        slope = np.polyfit(np.arange(len(after)), after, 1)[0] * 1024 if len(after) > 1 else 0.0
        rows.append(
            f"| {int(pid)} | {len(g)} | {after[:n].mean():.0f} / {after[-n:].mean():.0f} | "
            f"{after.max():.0f} | {slope:+.1f} | {peak[:n].mean():.0f} / {peak[-n:].mean():.0f} | "
            f"{peak.max():.0f} |"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--study", default="morris")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--budgets", default="0,100000")
    ap.add_argument("--backend", default="joblib")
    ap.add_argument("--trace", help="write the memory trace (seconds, driver, workers MiB) as CSV")
    ap.add_argument("--runs", help="write each run's worker memory (pid, RSS after, peak) as CSV")
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) after each run (glibc)")
    args, overrides = ap.parse_known_args()

    from sim.experiments import studies

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
        loaded, s, priors, bases, options = studies.load_study(ov)
        evaluator = MemoryProbe(
            studies.WorldEvaluator(bases, priors, loaded.scenario), trim=args.trim
        )
        result = studies.play(s, priors, evaluator, loaded.scenario, options, progress=True)
        wall = time.perf_counter() - t0
        stop.set()
        t.join()
    df = result.samples
    runs = len(df)
    if args.trace:
        with open(args.trace, "w") as f:
            f.write("seconds,driver_mib,workers_mib,largest_worker_mib\n")
            f.writelines(",".join(f"{v:.1f}" for v in row) + "\n" for row in trace)
    if args.runs:
        mem = [c for c in df if c.startswith("mem_")]
        cols = ["sample", "budget", "replicate", "seconds", *mem]
        df[cols].sort_values("mem_done").to_csv(args.runs, index=False)
    rss = [d + w for _, d, w, _ in trace]
    drv = [d for _, d, _, _ in trace]
    big = [b for *_, b in trace]
    tenth = max(1, len(rss) // 10)

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    trim = "malloc_trim after each run" if args.trim else "no trim"
    print(f"\n{args.study} x{args.samples}, budgets {args.budgets}, {trim}\n")
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
    print(
        "\n| worker | runs | RSS after a run, first / last 10% MiB | max | slope kB/run "
        "| peak in a run, first / last 10% | max |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(per_worker(df)))


if __name__ == "__main__":
    main()
