"""Benchmarks: speed, memory, scaling and sweep throughput of the full-scale world.

Usage, from the repository root once ``make test`` (or ``make demo``) has created .venv:

    .venv/bin/python benchmarks/run.py              # everything (~20-30 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick      # without the per-exchange reference and sweeps

Prints a table and writes it as JSON under results/benchmarks/. Every time is a median over
``--reps`` repetitions after a warm-up, on this machine, in one process (the sweep uses the
launchers). Nothing here is asserted: the test suite holds no wall-clock limits.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

FULL = ["scenario=alibaba_2026", "output.progress=off"]
TIERS = {"consumer": 700_000, "developer": 230_000, "enterprise": 60_000, "power_users": 10_000}


def scaled(k: float, days: int = 45) -> list[str]:
    """Overrides for the Alibaba world with k times the accounts (both sides) over ``days``."""
    from sim.configuration import load

    base = load(FULL).cfg.operators["qwen"].demand_per_day
    ov = [f"legit.tiers.{t}.accounts={int(round(n * k))}" for t, n in TIERS.items()]
    return [*FULL, *ov, f"operators.qwen.demand_per_day={base * k}", f"world.days={days}"]


def time_model(overrides: list[str], reps: int, cls=None, warmup: bool = True) -> dict:
    """Median seconds to build and run the model (seeds 0..reps-1), and its key outputs."""
    from sim.configuration import load
    from sim.model import DistillationModel
    from sim.outcomes import summarize

    cls = cls or DistillationModel
    cfg = load(overrides).cfg
    if warmup:
        cls(cfg).run().release()
    keys = (
        "exchanges_harvested",
        "accounts_created",
        "accounts_banned",
        "review_cases",
        "capability_extracted",
    )
    times, outs = [], []
    for s in range(reps):
        c = dataclasses.replace(cfg, seed=s)
        gc.collect()  # start each run from a clean heap, as a fresh call would (not timed)
        t0 = time.perf_counter()
        m = cls(c)
        m.run()
        times.append(time.perf_counter() - t0)
        summ = summarize(m, "bench")
        outs.append({k: summ[k] for k in keys} | {"legit_exchanges": float(m.legit_h.sum())})
        m.release()  # Mesa 3.3 keeps every model alive otherwise (mesa#3179)
        del m
    mean = {k: float(np.mean([o[k] for o in outs])) for k in outs[0]}
    return {"median_s": statistics.median(times), "runs_s": times, "outputs": mean}


def time_evaluate(overrides: list[str], reps: int) -> float:
    """Median seconds of :func:`sim.experiments.evaluators.evaluate` (summary only): the world,
    its undefended twin (``analysis.undefended_reference``) and their summaries, as a sweep
    point pays them."""
    from sim.configuration import load
    from sim.experiments.evaluators import evaluate

    cfg = load(overrides).cfg
    evaluate(cfg, progress=False, summary_only=True)
    times = []
    for s in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        evaluate(dataclasses.replace(cfg, seed=s), progress=False, summary_only=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def whole_command(reps: int) -> dict:
    """`distillsim run` at full scale (figures included): median wall time and peak RSS.

    Runs first, while this process is small: a forked child's peak RSS counts the parent's
    pages until it execs. /usr/bin/time reports the peak where it exists.
    """
    exe = str(Path(sys.executable).parent / "distillsim")
    gnu_time = Path("/usr/bin/time")
    times, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(reps + 1):
            cmd = [exe, "run", *FULL, f"output.results_dir={tmp}"]
            if gnu_time.exists():
                cmd = [str(gnu_time), "-f", "%M", *cmd]
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(p.pid, 0)
            elapsed = time.perf_counter() - t0
            err = p.stderr.read().decode()
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(err)
            times.append(elapsed)
            kib = int(err.strip().splitlines()[-1]) if gnu_time.exists() else usage.ru_maxrss
            peaks.append(kib / 1024.0)
    return {
        "median_s": statistics.median(times[1:]),
        "runs_s": times[1:],
        "peak_rss_mib": max(peaks),
    }


def slope(ks: list[float], ts: list[float]) -> float:
    """Fitted log-log slope of time against size."""
    return float(np.polyfit(np.log(ks), np.log(ts), 1)[0])


def sweep_throughput(n_basic: int) -> dict:
    """Runs per minute of a 200-run full-scale sweep (joblib, all cores) and of the basic one."""
    exe = str(Path(sys.executable).parent / "distillsim")
    budgets = "0,1000,3000,5000,10000,30000,100000,300000,1000000,4000000"  # spend_curve's grid
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for launcher, grid in (
            (
                "joblib",
                [
                    f"detection.budget_usd_per_day={budgets}",
                    "attacker=fixed,adaptive",
                    "replicate=range(0,10)",
                ],
            ),
            (
                "basic",
                [
                    f"detection.budget_usd_per_day={budgets}",
                    "attacker=fixed",
                    f"replicate=range(0,{max(1, n_basic // 10)})",
                ],
            ),
        ):
            t0 = time.perf_counter()
            p = subprocess.run(
                [
                    exe,
                    "sweep",
                    "scenario=alibaba_2026",
                    *grid,
                    f"hydra/launcher={launcher}",
                    f"output.results_dir={tmp}/{launcher}",
                ],
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - t0
            if p.returncode != 0:
                raise RuntimeError(p.stderr)
            import pandas as pd

            runs = len(pd.read_parquet(Path(p.stdout.strip().splitlines()[-1]) / "runs.parquet"))
            out[launcher] = {
                "runs": runs,
                "seconds": elapsed,
                "runs_per_minute": runs / elapsed * 60,
            }
    return out


SECTIONS = ["full", "speed", "scaling", "reference", "sweeps"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="skip the reference and the sweeps")
    ap.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run: {', '.join(SECTIONS)}",
    )
    args = ap.parse_args()
    only = set(args.only.split(","))
    if args.quick:
        only -= {"reference", "sweeps"}
    res: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "when": datetime.now().isoformat(timespec="seconds"),
    }
    rows = []
    out = ROOT.parent / "results" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"benchmark_{datetime.now():%Y%m%d_%H%M%S}.json"

    def save() -> None:  # after every section, so a long run keeps what it measured
        path.write_text(json.dumps(res, indent=2, default=float) + "\n")

    if "full" in only:
        cmd = whole_command(args.reps)  # first: this process is still small
        res["whole_command"] = cmd
        full = time_model(FULL, args.reps)
        res["full_scale"] = full
        rows.append(("full scale, simulation in-process (median)", f"{full['median_s']:.3f} s"))
        res["evaluate_with_twin_s"] = time_evaluate(FULL, args.reps)
        rows.append(
            (
                "full scale + its B = 0 twin + summaries, in-process (median)",
                f"{res['evaluate_with_twin_s']:.3f} s",
            )
        )
        rows.append(("full scale, whole `distillsim run` (median)", f"{cmd['median_s']:.3f} s"))
        rows.append(("full scale, peak resident memory", f"{cmd['peak_rss_mib']:.0f} MiB"))
        save()
    if "speed" in only:
        res["speed"] = {}
        for speed in ("hourly", "streaming"):
            t = time_model([*FULL, f"speed={speed}"], max(3, args.reps // 2))
            res["speed"][speed] = t
            rows.append(
                (
                    f"full scale, speed={speed} (scans inside the window), in-process (median)",
                    f"{t['median_s']:.3f} s",
                )
            )
        save()
    if "scaling" in only:
        reps = max(3, args.reps // 2)
        acc = {k: time_model(scaled(k), reps)["median_s"] for k in (1, 2, 4)}
        days = {d: time_model(scaled(1, d), reps)["median_s"] for d in (45, 90, 180)}
        res["scaling"] = {
            "accounts": acc,
            "days": days,
            "slope_accounts": slope(list(acc), list(acc.values())),
            "slope_days": slope(list(days), list(days.values())),
        }
        rows.append(
            (
                "time at x1/x2/x4 accounts",
                " / ".join(f"{v:.2f} s" for v in acc.values())
                + f" (log-log slope {res['scaling']['slope_accounts']:.2f})",
            )
        )
        rows.append(
            (
                "time at 45/90/180 days",
                " / ".join(f"{v:.2f} s" for v in days.values())
                + f" (log-log slope {res['scaling']['slope_days']:.2f})",
            )
        )
        save()
    if "reference" in only:
        from reference import PerExchangeModel

        tenth = scaled(0.1)
        fast = time_model(tenth, args.reps)
        ref = time_model(tenth, 1, cls=PerExchangeModel, warmup=False)
        res["reference"] = {
            "vectorised": fast,
            "per_exchange": ref,
            "ratio": ref["median_s"] / fast["median_s"],
        }
        rows.append(
            (
                "1/10 scale: vectorised vs per-exchange",
                f"{fast['median_s']:.3f} s vs {ref['median_s']:.0f} s = "
                f"{res['reference']['ratio']:,.0f}x faster",
            )
        )
        for k in fast["outputs"]:
            rows.append(
                (
                    f"  {k} (vectorised mean / reference)",
                    f"{fast['outputs'][k]:,.4g} / {ref['outputs'][k]:,.4g}",
                )
            )
        save()
    if "sweeps" in only:
        sw = sweep_throughput(20)
        res["sweeps"] = sw
        for launcher, v in sw.items():
            rows.append(
                (
                    f"sweep, {launcher} launcher ({v['runs']} full-scale runs)",
                    f"{v['seconds']:.0f} s, {v['runs_per_minute']:.0f} runs/min",
                )
            )
        save()
    w = max((len(r[0]) for r in rows), default=0)
    for k, v in rows:
        print(f"{k.ljust(w)}  {v}")
    print(path)


if __name__ == "__main__":
    main()
