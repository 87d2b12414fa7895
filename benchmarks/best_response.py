"""The best response against a coarse grid, and one search's time and trajectory, at full scale.

Usage, from the repository root once ``make test`` has created .venv:

    .venv/bin/python benchmarks/best_response.py [--budget 100000] [--results DIR]

Scores a 4 × 3 × 3 grid over demand × cadence × cluster scale (the other levers neutral) on the
search's own training replicates, full-scale ``alibaba_2026``, and compares its best with the
search's choice (searched if not in the cache under ``--results``). Prints a Markdown table;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=100000.0)
    ap.add_argument("--results", default="results")
    ap.add_argument("--attacker", default="best_response_ladder")
    args = ap.parse_args()

    from joblib import Parallel, delayed

    from sim.configuration import load
    from sim.experiments.best_response import net_values, search

    cfg = load(
        [
            "scenario=alibaba_2026",
            f"attacker={args.attacker}",
            f"detection.budget_usd_per_day={args.budget:g}",
            f"output.results_dir={args.results}",
            "output.progress=off",
        ]
    ).cfg
    s = cfg.attacker.search
    reps = [s.train_offset + i for i in range(s.train_replicates)]
    t0 = time.perf_counter()
    found = search(cfg, "alibaba_2026")
    t_search = time.perf_counter() - t0
    grid = list(itertools.product([1.0, 2.0, 4.0, 8.0], [0.5, 1.0, 2.0], [0.02, 0.2, 1.0]))
    t0 = time.perf_counter()
    scores = Parallel(n_jobs=-1)(
        delayed(net_values)(
            cfg,
            {"demand_scale": d, "cadence_scale": c, "cluster_scale": k},
            reps,
            "alibaba_2026",
        )
        for d, c, k in grid
    )
    t_grid = time.perf_counter() - t0
    means = [float(np.mean(v)) for v in scores]
    best = int(np.argmax(means))
    d, c, k = grid[best]
    print(
        f"| B | search ({len(found.trials)} trials) | best of the {len(grid)}-point grid "
        "(demand ×, cadence ×, cluster ×) | fixed policy |"
    )
    print("|---|---|---|---|")
    print(
        f"| ${args.budget:,.0f}/day | ${found.train_net_value_usd / 1e6:,.2f}M "
        f"({'cache' if found.cached else f'{t_search:.0f} s'}) | "
        f"${means[best] / 1e6:,.2f}M at ({d:g}, {c:g}, {k:g}) ({t_grid:.0f} s) | "
        f"${found.fixed_train_net_value_usd / 1e6:,.2f}M |"
    )
    print()
    print("trajectory (best so far, $M, every 5th trial):")
    print(", ".join(f"{t['best_so_far_usd'] / 1e6:.2f}" for t in found.trials[::5]))


if __name__ == "__main__":
    main()
