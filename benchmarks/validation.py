"""Validation report: the model against published figures it was not fitted to (docs/VALIDATION.md).

    .venv/bin/python benchmarks/validation.py            # both sections, ~5 min on 2 cores
    .venv/bin/python benchmarks/validation.py --only seat

Writes its sections between ``<!-- <name>:begin -->`` and ``<!-- <name>:end -->`` markers in
docs/VALIDATION.md (the rest of the page is prose), and the raw numbers as JSON under
``results/validation/``. Not a test: it reports what the model gives, inside a published band or
not, and says why when not.

- ``seat``: SEAT (Zhang, Chen & Wagner, AISec 2021) reports that per-account detection raises an
  adaptive attacker's account-creation cost 3.8-16x. The mimic: the calibrated ``alibaba_2026``
  world with only per-account detectors (volume, and content on each account's own windows; no
  linkage detector to pool clusters, no cluster sweeps, no learning from confirmations), an
  adaptive operator, accounts at a flat price (no market); the multiplier is accounts bought
  (= their cost) with detection over accounts bought at B = 0, per budget and horizon (SEAT's
  attacker completes an extraction; a campaign's multiplier grows with its length).
- ``out_of_sample``: fit one 2026 campaign and predict the other, refitting only the operators'
  own demand (the shared per-account cadence comes from the other campaign's fit); the error of
  the figure left unfitted (accounts attributed) is the prediction error.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.configuration import load  # noqa: E402
from sim.experiments.calibration import fit, simulate_targets  # noqa: E402
from sim.experiments.evaluators import evaluate  # noqa: E402

PAGE = ROOT / "docs" / "VALIDATION.md"
QUIET = ["output.plots=false", "output.progress=off", "analysis.undefended_reference=false"]
SEAT_BAND = (3.8, 16.0)
SEAT_WORLD = [
    "scenario=alibaba_2026",
    *QUIET,
    "attacker=adaptive",
    "attacker.go_no_go=false",  # SEAT's attacker extracts whatever it costs
    "market.enabled=false",
    "learning.enabled=false",
    "policies.intel_sharing.enabled=false",
    "detection.shares.volume=0.3",
    "detection.shares.content=0.35",
    "detection.shares.linkage=0",
    "detection.shares.review=0.35",
    "enforcement.sweep_signals={}",
    "enforcement.retrospective_find_prob=0",
]


def seat(seeds: list[int], budgets: list[float], days: list[int]) -> tuple[str, dict]:
    rows = []
    for d, b in [(d, b) for d in days for b in [0.0, *budgets]]:
        runs = [
            evaluate(
                load(
                    [
                        *SEAT_WORLD,
                        f"detection.budget_usd_per_day={b:g}",
                        f"world.days={d}",
                        f"seed={s}",
                    ]
                ).cfg,
                progress=False,
            ).summary
            for s in seeds
        ]
        rows.append(
            {
                "days": d,
                "budget": b,
                "accounts": float(np.mean([r["accounts_created"] for r in runs])),
                "account_spend": float(np.mean([r["account_spend_usd"] for r in runs])),
                "harvested": float(np.mean([r["exchanges_harvested"] for r in runs])),
                "capability": float(np.mean([r["capability_extracted"] for r in runs])),
                "alive_at_end": float(np.mean([r["accounts_alive_at_end_share"] for r in runs])),
            }
        )
        print(f"  seat B={b:,.0f}: {rows[-1]}", file=sys.stderr)
    lines = [
        f"Generated {date.today().isoformat()} by `benchmarks/validation.py --only seat` "
        f"(seeds {seeds}).",
        "",
        "| days | B ($/day) | accounts bought | multiplier vs B = 0 | SEAT band | exchanges "
        "harvested (vs B = 0) | accounts alive at the end | capability |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = next(x for x in rows if x["days"] == r["days"] and x["budget"] == 0)
        mult = r["account_spend"] / base["account_spend"]
        inside = "inside" if SEAT_BAND[0] <= mult <= SEAT_BAND[1] else "outside"
        lines.append(
            f"| {r['days']} | {r['budget']:,.0f} | {r['accounts']:,.0f} | {mult:.2f}× | "
            f"{'—' if r['budget'] == 0 else inside} | {r['harvested'] / base['harvested']:.1%} | "
            f"{r['alive_at_end']:.0%} | {r['capability']:.3f} |"
        )
    return "\n".join(lines) + "\n", {"rows": rows, "band": SEAT_BAND}


def _restricted(name: str, cadence: float, seeds: list[int]):
    """Scenario ``name`` with its cadence set to ``cadence`` and only its demands fitted, to the
    exchanges targets; accounts attributed is left out to be predicted."""
    loaded = load([f"scenario={name}", *QUIET])
    cfg = loaded.cfg
    spec = cfg.scenario.calibration
    keep = [f for f in spec.fitted if f.key.endswith("demand_per_day")]
    cad = [f for f in spec.fitted if f.key.endswith("tolerated_cadence_per_day")]
    for f in cad:
        for k in [f.key, *f.tied]:
            op = k.split(".")[1]
            cfg.operators[op].tolerated_cadence_per_day = cadence
    spec.fitted = keep
    predicted = [t for t in spec.targets if t.metric == "accounts_attributed"]
    spec.targets = [t for t in spec.targets if t.metric != "accounts_attributed"]
    return dataclasses.replace(loaded, cfg=cfg), predicted


def out_of_sample(seeds: list[int]) -> tuple[str, dict]:
    a = load(["scenario=alibaba_2026"]).cfg
    f = load(["scenario=feb2026_three_labs"]).cfg
    cad = {
        "alibaba_2026": a.operators["qwen"].tolerated_cadence_per_day,
        "feb2026_three_labs": f.operators["moonshot"].tolerated_cadence_per_day,
    }
    other = {"alibaba_2026": "feb2026_three_labs", "feb2026_three_labs": "alibaba_2026"}
    out, lines = {}, []
    for name in ("alibaba_2026", "feb2026_three_labs"):
        loaded, predicted = _restricted(name, cad[other[name]], seeds)
        result = fit(loaded, seeds, max_evaluations=30, log=io.StringIO())
        cfg = loaded.cfg
        for fp, v in zip(cfg.scenario.calibration.fitted, result.fitted, strict=True):
            op = fp.key.split(".")[1]
            cfg.operators[op].demand_per_day = float(v)
        metrics = [t.metric for t in predicted]
        mean, _, _ = simulate_targets(cfg, metrics, seeds, name)
        for t in predicted:
            err = mean[t.metric] / t.value - 1
            out[name] = {
                "cadence_from": other[name],
                "cadence": cad[other[name]],
                "own_fitted_cadence": cad[name],
                "fit_max_abs_rel_error": result.max_abs_rel_error,
                "predicted": mean[t.metric],
                "disclosed": t.value,
                "error": err,
            }
            lines.append(
                f"| `{name}` | {other[name]}'s {cad[other[name]]:.1f}/day (own fit: "
                f"{cad[name]:.1f}) | {result.max_abs_rel_error:.1%} | {t.value:,.0f} | "
                f"{mean[t.metric]:,.0f} | {err:+.1%} |"
            )
        print(f"  out of sample {name}: {out[name]}", file=sys.stderr)
    head = [
        f"Generated {date.today().isoformat()} by `benchmarks/validation.py --only out_of_sample` "
        f"(seeds {seeds}).",
        "",
        "| predicted scenario | cadence taken from | demand fit: worst exchanges error | accounts "
        "attributed, disclosed | predicted | prediction error |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join(head + lines) + "\n", out


def write_section(name: str, text: str) -> None:
    page = PAGE.read_text()
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    i, j = page.index(begin) + len(begin), page.index(end)
    PAGE.write_text(page[:i] + "\n" + text + page[j:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["seat", "out_of_sample"], action="append")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    which = args.only or ["seat", "out_of_sample"]
    seeds = list(range(args.seeds))
    results = {}
    t0 = time.perf_counter()
    if "seat" in which:
        text, results["seat"] = seat(seeds, [10_000, 30_000, 100_000, 1_000_000], [45, 90])
        write_section("seat", text)
    if "out_of_sample" in which:
        text, results["out_of_sample"] = out_of_sample(seeds)
        write_section("out_of_sample", text)
    folder = ROOT / "results" / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S")
    (folder / f"validation_{stamp}.json").write_text(json.dumps(results, indent=2))
    print(f"{time.perf_counter() - t0:.0f} s; {PAGE} and {folder}/validation_{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
