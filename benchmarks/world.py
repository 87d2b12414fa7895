"""Worlds of several labs (MODEL §12) at full scale, in-process: measured, not asserted.

Usage, from the repository root once ``make test`` has created .venv:

    .venv/bin/python benchmarks/world.py [--reps 3] [--days 45,90,180,365] [--skip-scenario]

Times build + run of :class:`sim.world.World` (no summary, no undefended twin), median of
``--reps`` seeds after one warm-up run, for

* ``alibaba_2026`` as shipped (one operator, 45 days, 1,000,000 legitimate accounts a lab) with
  the first 1, 2 and 3 providers of ``frontier_labs_2026`` (Anthropic; + OpenAI; + Google), the
  labs sharing indicators from hour 0 (the Frontier Model Forum's exchange predates 22 Apr 2026).
  Anthropic's February release and its post-February KYC date are dropped (they fall outside this
  window; KYC is in force from hour 0, as in alibaba_2026). One provider is today's model.
* the three-provider world of that kind at each horizon of ``--days`` (Qwen from hour 0 to the
  horizon): the growth of time with the horizon, as a log-log slope;
* ``frontier_labs_2026`` as shipped (three labs, four operators, 164 days, sharing from day 103).

Prints Markdown rows and writes nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omegaconf import OmegaConf  # noqa: E402

from sim.configuration import load  # noqa: E402
from sim.parameters import Config  # noqa: E402
from sim.validation import validate  # noqa: E402
from sim.world import World  # noqa: E402

QUIET = ["output.progress=off", "output.plots=false"]
LABS = ["anthropic", "openai", "google"]


def alibaba_world(n_providers: int, days: int = 45) -> Config:
    """``alibaba_2026`` with frontier_labs_2026's first ``n_providers`` labs."""
    tree = OmegaConf.to_container(
        load(["scenario=alibaba_2026", f"world.days={days}", *QUIET]).tree
    )
    frontier = load(["scenario=frontier_labs_2026", *QUIET]).tree
    names = LABS[:n_providers]
    provs = OmegaConf.to_container(frontier.providers)
    provs = {n: provs[n] for n in names}
    a = provs["anthropic"]["set"]
    a["teacher.releases_hours"] = []
    a["policies.kyc.effective_hour"] = 0
    tree["providers"] = provs
    tree["policies"]["intel_sharing"]["enabled"] = False  # the named labs' sharing stands for it
    tree["sharing"]["participants"] = names if n_providers > 1 else []
    tree["sharing"]["start_hour"] = 0
    return validate(OmegaConf.create(tree))


def time_world(cfg: Config, reps: int) -> float:
    """Median seconds of build + run over ``reps`` seeds, after one warm-up."""
    times = []
    for s in range(reps + 1):
        t = time.perf_counter()
        w = World(dataclasses.replace(cfg, seed=s)).run()
        dt = time.perf_counter() - t
        w.release()
        if s:
            times.append(dt)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--days", default="45,90,180,365")
    ap.add_argument("--skip-scenario", action="store_true")
    args = ap.parse_args()
    t_all = time.perf_counter()
    print("| world | providers | days | median s |")
    print("|---|---|---|---|")
    by_n = {}
    for n in (1, 2, 3):
        by_n[n] = t = time_world(alibaba_world(n), args.reps)
        print(f"| alibaba_2026 + labs | {n} | 45 | {t:.2f} |", flush=True)
    days = [int(d) for d in args.days.split(",") if d]
    times = []
    for d in days:
        t = by_n[3] if d == 45 else time_world(alibaba_world(3, d), args.reps)
        times.append(t)
        print(f"| alibaba_2026 + labs | 3 | {d} | {t:.2f} |", flush=True)
    if len(days) > 1:
        x = [math.log(d) for d in days]
        y = [math.log(t) for t in times]
        mx, my = statistics.mean(x), statistics.mean(y)
        slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sum(
            (a - mx) ** 2 for a in x
        )
        print(f"\nlog-log slope of time against horizon days: {slope:.2f}")
    if not args.skip_scenario:
        cfg = load(["scenario=frontier_labs_2026", *QUIET]).cfg
        t = time_world(cfg, args.reps)
        print(f"\n| frontier_labs_2026 as shipped | 3 | {cfg.world.days} | {t:.2f} |")
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s (reps {args.reps})")


if __name__ == "__main__":
    main()
