"""The defender's Stackelberg choice: the defence that is best once the attacker best-responds.

For each candidate defence (a detection budget B and a split of it, ``mix``), the attacker's best
response to it is searched (:mod:`sim.experiments.best_response`) and both it and the naive
(``fixed``) attacker are scored on held-out replicates. The defender's loss for a value V it puts
on a capability point is its total cost plus V × the capability points leaked; since V enters
nothing else in the shipped worlds (fixed-FPR thresholds), one set of runs serves every V. For
each V the study reports the defence that minimises the loss against the best response, the one
that does against the naive attacker, and what assuming the naive attacker costs against the best
response. The search runs on a reduced world (a thinned legitimate population, whose review
semantics are faithful, and a shorter best-response search); the chosen defences are evaluated
again at full scale and the gap is reported.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: What a reduced world changes (overridable): 10% of the legitimate accounts simulated (each
#: stands for 10), and a shorter best-response search.
REDUCED = ["world.legit_sample_share=0.1"]
REDUCED_SEARCH = ["attacker.search.trials=20", "attacker.search.train_replicates=2"]


@dataclass
class Candidate:
    budget: float
    mix: str


def _load(overrides: list[str], candidate: Candidate, mode: str, search: list[str]):
    from sim.configuration import load

    ov = [
        *overrides,
        f"attacker={mode}",
        *(search if mode == "best_response" else []),
        f"detection.budget_usd_per_day={candidate.budget:g}",
        f"mix={candidate.mix}",
        "analysis.undefended_reference=false",
        "output.progress=off",
        "output.plots=false",
    ]
    return load(ov)


def score(
    overrides: list[str],
    candidate: Candidate,
    replicates: list[int],
    mode: str,
    search_overrides: list[str] = (),
) -> dict[str, Any]:
    """Mean outcomes of one defence against one attacker over ``replicates`` (cached)."""
    from sim.experiments.best_response import search, with_levers
    from sim.experiments.cache import cached_summary

    loaded = _load(overrides, candidate, mode, list(search_overrides))
    cfg, scenario = loaded.cfg, loaded.scenario
    levers: dict[str, Any] = {}
    if mode == "best_response":
        found = search(cfg, scenario)
        levers = found.levers
        cfg = with_levers(cfg, levers)
    rows = [cached_summary(dataclasses.replace(cfg, replicate=r), scenario)[0] for r in replicates]
    # Capability points leaked: 100 × the capability of every operator (the leak's own basis).
    points = [100.0 * sum(o["capability_extracted"] for o in r["operators"].values()) for r in rows]
    return {
        "budget_usd_per_day": candidate.budget,
        "mix": candidate.mix,
        "attacker": mode,
        "capability_extracted": float(np.mean([r["capability_extracted"] for r in rows])),
        "capability_points": float(np.mean(points)),
        "defender_total_cost_usd": float(np.mean([r["defender_total_cost_usd"] for r in rows])),
        "attacker_net_value_usd": float(np.mean([r["attacker_net_value_usd"] for r in rows])),
        "levers": levers,
    }


def choose(table: pd.DataFrame, values: list[float]) -> pd.DataFrame:
    """Per defender value V: the defence minimising cost + V × points against each attacker, and
    what the naive choice costs against the best response."""
    out = []
    for v in values:
        loss = table["defender_total_cost_usd"] + v * table["capability_points"]
        t = table.assign(loss=loss)
        br = t[t["attacker"] == "best_response"].set_index(["budget_usd_per_day", "mix"])
        naive = t[t["attacker"] == "fixed"].set_index(["budget_usd_per_day", "mix"])
        best_br, best_naive = br["loss"].idxmin(), naive["loss"].idxmin()
        out.append(
            {
                "value_usd_per_point": v,
                "best_vs_best_response": f"${best_br[0]:,.0f}/day {best_br[1]}",
                "loss_vs_best_response_usd": float(br.loc[best_br, "loss"]),
                "best_vs_naive": f"${best_naive[0]:,.0f}/day {best_naive[1]}",
                "loss_vs_naive_usd": float(naive.loc[best_naive, "loss"]),
                "naive_choice_against_best_response_usd": float(br.loc[best_naive, "loss"]),
                "cost_of_assuming_naive_usd": float(br.loc[best_naive, "loss"] - br["loss"].min()),
                "_best_br": best_br,
                "_best_naive": best_naive,
            }
        )
    return pd.DataFrame(out)


def full_choice(full: pd.DataFrame, values: list[float]) -> pd.DataFrame:
    """Per V, the defence with the least loss among those re-checked at full scale (against the
    full-scale best response): where it differs from the reduced world's choice, that choice
    rested on the reduced world."""
    out = []
    for v in values:
        loss = full["defender_cost_full_usd"] + v * full["points_full"]
        k = int(loss.idxmin())
        out.append(
            {
                "value_usd_per_point": v,
                "best_at_full_scale": f"${full.loc[k, 'budget_usd_per_day']:,.0f}/day "
                f"{full.loc[k, 'mix']}",
                "loss_usd": float(loss[k]),
            }
        )
    return pd.DataFrame(out)


def _md(df: pd.DataFrame) -> str:
    """A Markdown table with budgets in $/day, money in $M and other numbers to 4 figures."""
    from sim.analysis.report import md_table

    def cell(c: str, v: Any) -> str:
        if not isinstance(v, float):
            return str(v)
        if c.startswith("budget"):
            return f"${v:,.0f}"
        return f"${v / 1e6:,.2f}M" if "usd" in c else f"{v:,.4g}"

    return md_table(pd.DataFrame({c: [cell(c, v) for v in df[c]] for c in df.columns}))


def stackelberg(
    overrides: list[str],
    budgets: list[float],
    mixes: list[str],
    values: list[float],
    replicates: list[int],
    reduced: list[str] | None = None,
    reduced_search: list[str] | None = None,
    full_check: bool = True,
    n_jobs: int = -1,
    out_dir: Path | None = None,
) -> Path:
    """Run the study and write ``results/studies/stackelberg/<timestamp>/``; returns it."""
    from joblib import Parallel, delayed

    from sim.configuration import load
    from sim.validation import ConfigError

    reduced = REDUCED if reduced is None else reduced
    reduced_search = REDUCED_SEARCH if reduced_search is None else reduced_search
    if any(o.split("=")[0].lstrip("+~") == "attacker" for o in overrides):
        raise ConfigError(
            "attacker", "the study sets the attacker itself (fixed and best_response)"
        )
    # Settings of the best response's search go to its runs only (the user's win); a world key
    # the user sets is theirs in the reduced world too.
    search_user = [o for o in overrides if o.lstrip("+~").startswith("attacker.")]
    overrides = [o for o in overrides if o not in search_user]
    keys = {o.split("=")[0].lstrip("+~") for o in overrides + search_user}
    mine = [o for o in reduced + reduced_search if o.split("=")[0] in keys]
    if mine:
        print(f"[stackelberg] your settings replace the study's reduced {', '.join(mine)}")
    reduced = [o for o in reduced if o not in mine]
    reduced_search = [*[o for o in reduced_search if o not in mine], *search_user]
    # Validate every candidate's configuration before any work.
    for b in budgets:
        for m in mixes:
            _load([*overrides, *reduced], Candidate(float(b), m), "best_response", reduced_search)
    base = load([*overrides, *reduced])
    if base.cfg.detection.threshold.method == "bayes":
        raise ConfigError(
            "detection.threshold.method",
            "bayes puts the defender's value on a capability point into its thresholds, so one "
            "set of runs cannot serve every value; use fpr or capacity (or run once per value)",
        )
    root = Path(out_dir or base.cfg.output.results_dir) / "studies" / "stackelberg"
    final = root / datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
    cands = [Candidate(float(b), m) for b in budgets for m in mixes]
    # With B = 0 nothing is spent, so every split is the same world: simulate it once.
    same = {(c.budget, c.mix): (c.budget, c.mix if c.budget > 0 else mixes[0]) for c in cands}
    worlds = sorted(set(same.values()), key=lambda k: (k[0], mixes.index(k[1])))
    jobs = [(Candidate(b, m), mode) for b, m in worlds for mode in ("fixed", "best_response")]
    print(
        f"[stackelberg] {len(cands)} defences ({len(worlds)} distinct worlds) x 2 attackers on "
        "the reduced world",
        flush=True,
    )
    scored = Parallel(n_jobs=n_jobs, verbose=0)(
        delayed(score)([*overrides, *reduced], c, replicates, mode, reduced_search)
        for c, mode in jobs
    )
    by_world = {(c.budget, c.mix, mode): r for (c, mode), r in zip(jobs, scored, strict=True)}
    rows = [
        {**by_world[(*same[(c.budget, c.mix)], mode)], "mix": c.mix}
        for c in cands
        for mode in ("fixed", "best_response")
    ]
    table = pd.DataFrame(rows)
    choice = choose(table, values)
    check = []
    if full_check:
        chosen = sorted({k for col in ("_best_br", "_best_naive") for k in choice[col]})
        print(f"[stackelberg] {len(chosen)} chosen defences at full scale", flush=True)
        full = Parallel(n_jobs=n_jobs, verbose=0)(
            delayed(score)(overrides, Candidate(b, m), replicates, "best_response", search_user)
            for b, m in chosen
        )
        for (b, m), f in zip(chosen, full, strict=True):
            red = table[
                (table["budget_usd_per_day"] == b)
                & (table["mix"] == m)
                & (table["attacker"] == "best_response")
            ].iloc[0]
            check.append(
                {
                    "budget_usd_per_day": b,
                    "mix": m,
                    "capability_reduced": red["capability_extracted"],
                    "capability_full": f["capability_extracted"],
                    "defender_cost_reduced_usd": red["defender_total_cost_usd"],
                    "defender_cost_full_usd": f["defender_total_cost_usd"],
                    "attacker_net_reduced_usd": red["attacker_net_value_usd"],
                    "attacker_net_full_usd": f["attacker_net_value_usd"],
                    "points_full": f["capability_points"],
                }
            )
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        from sim.experiments.storage import dump_json
        from sim.provenance import manifest

        dump_json(
            manifest(
                base.resolved,
                base.cfg.seed,
                base.scenario,
                [*overrides, *reduced, *reduced_search],
                {
                    "study": "stackelberg",
                    "budgets": [float(b) for b in budgets],
                    "mixes": list(mixes),
                    "values": [float(v) for v in values],
                    "replicates": list(replicates),
                    "reduced": [*reduced, *reduced_search],
                },
            ),
            tmp / "manifest.json",
        )
        table.drop(columns="levers").to_csv(tmp / "candidates.csv", index=False)
        table.to_json(tmp / "candidates.json", orient="records", indent=1)
        shown = choice.drop(columns=["_best_br", "_best_naive"])
        shown.to_csv(tmp / "choices.csv", index=False)
        lines = [
            "# Stackelberg study",
            "",
            f"World: {' '.join(overrides) or 'defaults'}; reduced: "
            f"{' '.join([*reduced, *reduced_search])}; "
            f"held-out replicates {replicates}.",
            "",
            "## The defence per defender value (loss = defender total cost + V x capability "
            "points leaked)",
            "",
            _md(shown),
            "",
            "## Every candidate (reduced world)",
            "",
            _md(table.drop(columns="levers")),
            "",
        ]
        if check:
            full = pd.DataFrame(check)
            full.to_csv(tmp / "full_scale_check.csv", index=False)
            lines += [
                "## The chosen defences at full scale, against their best response",
                "",
                _md(full),
                "",
                "## The choice again, among these defences, on the full-scale figures",
                "",
                _md(full_choice(full, values)),
                "",
            ]
        (tmp / "summary.md").write_text("\n".join(lines))
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
