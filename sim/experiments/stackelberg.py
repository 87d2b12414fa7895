"""The defender's Stackelberg choice: the defence that is best once the attacker best-responds.

For each candidate defence (a detection budget B and a split of it, ``mix``) the attacker's best
response is searched (:mod:`sim.experiments.best_response`), and both it and the naive (``fixed``)
attacker are played on the study's replicates. The defender's loss for a value V it puts on a
capability point is its total cost plus V × the capability points leaked; since V enters nothing
else in the shipped worlds (fixed-FPR thresholds), one set of runs serves every V.

Protocol (MODEL §2):

- **Reduced world.** Every candidate is played on a reduced world (a thinned legitimate
  population, whose review semantics are faithful). Each mix's best responses are searched up
  the budget ladder, each warm-started from the next lower budget's choice.
- **Choose, then report.** The defence per V is chosen on the *choice* replicates and reported
  on disjoint *report* replicates (the attacker's searches train on a third set), so the figures
  reported are not the ones the choice was fitted to.
- **Full scale.** Every chosen defence is played again at full scale against a full-scale best
  response (warm-started from the reduced world's) and the fixed attacker, on the report
  replicates. Differences between defences are paired replicate by replicate.

This module runs the worlds and returns their figures; :mod:`sim.analysis.stackelberg` turns them
into the choice tables and the frontier figure.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: What a reduced world changes (overridable): 10% of the legitimate accounts simulated (each
#: stands for 10), and a shorter best-response search on 2 training replicates.
REDUCED = ["world.legit_sample_share=0.1"]
REDUCED_SEARCH = ["attacker.search.trials=30", "attacker.search.train_replicates=2"]
ATTACKERS = ("fixed", "best_response")


@dataclass(frozen=True)
class Candidate:
    budget: float
    mix: str


@dataclass
class Study:
    """What the study's worlds produced (one row per defence × attacker × replicate)."""

    runs: pd.DataFrame
    #: The chosen defences at full scale (same columns), on the report replicates.
    full: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


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
    seeds: list[dict] | None = None,
) -> list[dict[str, Any]]:
    """One defence against one attacker: a row per replicate (cached)."""
    from sim.experiments.best_response import search, with_levers
    from sim.experiments.cache import cached_summary

    loaded = _load(overrides, candidate, mode, list(search_overrides))
    cfg, scenario = loaded.cfg, loaded.scenario
    levers: dict[str, Any] = {}
    if mode == "best_response":
        levers = search(cfg, scenario, seeds=seeds).levers
        cfg = with_levers(cfg, levers)
    rows = []
    for r in replicates:
        s = cached_summary(dataclasses.replace(cfg, replicate=r), scenario)[0]
        rows.append(
            {
                "budget_usd_per_day": candidate.budget,
                "mix": candidate.mix,
                "attacker": mode,
                "replicate": r,
                "capability_extracted": s["capability_extracted"],
                # Capability points: 100 × the capability of every operator (the leak's basis).
                "capability_points": 100.0
                * sum(o["capability_extracted"] for o in s["operators"].values()),
                "defender_total_cost_usd": s["defender_total_cost_usd"],
                "attacker_net_value_usd": s["attacker_net_value_usd"],
                "levers": json.dumps(levers, sort_keys=True),
            }
        )
    return rows


def _user_settings(overrides: list[str], reduced: list[str], reduced_search: list[str]):
    """Split the user's overrides into world keys and search keys; theirs replace the study's."""
    from sim.validation import ConfigError

    if any(o.split("=")[0].lstrip("+~") == "attacker" for o in overrides):
        raise ConfigError(
            "attacker", "the study sets the attacker itself (fixed and best_response)"
        )
    search_user = [o for o in overrides if o.lstrip("+~").startswith("attacker.")]
    world = [o for o in overrides if o not in search_user]
    keys = {o.split("=")[0].lstrip("+~") for o in world + search_user}
    mine = [o for o in reduced + reduced_search if o.split("=")[0] in keys]
    if mine:
        print(f"[stackelberg] your settings replace the study's reduced {', '.join(mine)}")
    reduced = [o for o in reduced if o not in mine]
    reduced_search = [*[o for o in reduced_search if o not in mine], *search_user]
    return world, search_user, reduced, reduced_search


def run(
    overrides: list[str],
    budgets: list[float],
    mixes: list[str],
    values: list[float],
    choose_replicates: list[int],
    report_replicates: list[int],
    reduced: list[str] | None = None,
    reduced_search: list[str] | None = None,
    full_check: bool = True,
    n_jobs: int = -1,
) -> Study:
    """Play every candidate on the reduced world, choose per value, re-check at full scale."""
    from joblib import Parallel, delayed

    from sim.configuration import load
    from sim.validation import ConfigError

    reduced = REDUCED if reduced is None else reduced
    reduced_search = REDUCED_SEARCH if reduced_search is None else reduced_search
    if set(choose_replicates) & set(report_replicates):
        raise ConfigError("replicates", "choice and report replicates must be disjoint")
    world, search_user, reduced, reduced_search = _user_settings(overrides, reduced, reduced_search)
    budgets = sorted(float(b) for b in budgets)
    ladder = f"attacker.search.warm_start_budgets=[{','.join(f'{b:g}' for b in budgets)}]"
    reduced_search = [ladder, *reduced_search]
    # Every candidate's configuration is checked before any work.
    for b in budgets:
        for m in mixes:
            _load([*world, *reduced], Candidate(b, m), "best_response", reduced_search)
    base = load([*world, *reduced])
    if base.cfg.detection.threshold.method == "bayes":
        raise ConfigError(
            "detection.threshold.method",
            "bayes puts the defender's value on a capability point into its thresholds, so one "
            "set of runs cannot serve every value; use fpr or capacity (or run once per value)",
        )
    cands = [Candidate(b, m) for b in budgets for m in mixes]
    # With B = 0 nothing is spent, so every split is the same world: simulate it once.
    same = {c: Candidate(c.budget, c.mix if c.budget > 0 else mixes[0]) for c in cands}
    worlds = sorted(set(same.values()), key=lambda c: (mixes.index(c.mix), c.budget))
    reps = [*choose_replicates, *report_replicates]
    print(
        f"[stackelberg] {len(cands)} defences ({len(worlds)} distinct worlds) x 2 attackers on "
        f"the reduced world, replicates {reps}",
        flush=True,
    )
    # Each mix's ladder is one job (its searches run in budget order, each warm-starting the next).
    jobs = [(m, "best_response") for m in mixes] + [(m, "fixed") for m in mixes]
    per_job = Parallel(n_jobs=n_jobs, verbose=0)(
        delayed(_ladder)(
            [*world, *reduced], [c for c in worlds if c.mix == m], reps, mode, reduced_search
        )
        for m, mode in jobs
    )
    by_world = {
        (row["budget_usd_per_day"], row["mix"], row["attacker"], row["replicate"]): row
        for rows in per_job
        for row in rows
    }
    rows = [
        {**by_world[(same[c].budget, same[c].mix, mode, r)], "mix": c.mix}
        for c in cands
        for mode in ATTACKERS
        for r in reps
    ]
    runs = pd.DataFrame(rows)
    runs["role"] = runs["replicate"].map(lambda r: "choose" if r in choose_replicates else "report")
    full = pd.DataFrame(columns=runs.columns)
    if full_check:
        chosen = chosen_defences(runs, values)
        print(f"[stackelberg] {len(chosen)} chosen defences at full scale", flush=True)
        seeds = {
            (b, m): json.loads(
                runs[
                    (runs["budget_usd_per_day"] == b)
                    & (runs["mix"] == m)
                    & (runs["attacker"] == "best_response")
                ]["levers"].iloc[0]
            )
            for b, m in chosen
        }
        out = Parallel(n_jobs=n_jobs, verbose=0)(
            delayed(score)(
                world,
                Candidate(b, m),
                report_replicates,
                mode,
                search_user,
                [seeds[(b, m)]] if mode == "best_response" else None,
            )
            for b, m in chosen
            for mode in ATTACKERS
        )
        full = pd.DataFrame([row for rows in out for row in rows])
        full["role"] = "report"
    settings = {
        "overrides": world,
        "search_overrides": search_user,
        "reduced": [*reduced, *reduced_search],
        "budgets": budgets,
        "mixes": list(mixes),
        "values": [float(v) for v in values],
        "choose_replicates": list(choose_replicates),
        "report_replicates": list(report_replicates),
        "base": base,
    }
    return Study(runs=runs, full=full, settings=settings)


def _ladder(overrides, worlds, replicates, mode, search_overrides) -> list[dict[str, Any]]:
    """One mix's candidates in budget order (the best responses warm-start up the ladder)."""
    return [
        row
        for c in sorted(worlds, key=lambda c: c.budget)
        for row in score(overrides, c, replicates, mode, search_overrides)
    ]


def means(runs: pd.DataFrame, role: str) -> pd.DataFrame:
    """Each defence × attacker's mean figures over the replicates of ``role``."""
    cols = [
        "capability_extracted",
        "capability_points",
        "defender_total_cost_usd",
        "attacker_net_value_usd",
    ]
    sub = runs[runs["role"] == role]
    return (
        sub.groupby(["budget_usd_per_day", "mix", "attacker"], sort=False)[cols]
        .mean()
        .reset_index()
    )


def choose(table: pd.DataFrame, values: list[float]) -> pd.DataFrame:
    """Per defender value V: the defence minimising cost + V × points against each attacker
    (``table``: one row of means per defence × attacker), and what the naive choice costs
    against the best response."""
    out = []
    for v in values:
        t = table.assign(loss=table["defender_total_cost_usd"] + v * table["capability_points"])
        br = t[t["attacker"] == "best_response"].set_index(["budget_usd_per_day", "mix"])
        naive = t[t["attacker"] == "fixed"].set_index(["budget_usd_per_day", "mix"])
        best_br, best_naive = br["loss"].idxmin(), naive["loss"].idxmin()
        out.append(
            {
                "value_usd_per_point": v,
                "vs_best_response": best_br,
                "vs_naive": best_naive,
                "loss_vs_best_response_usd": float(br.loc[best_br, "loss"]),
                "loss_vs_naive_usd": float(naive.loc[best_naive, "loss"]),
                "cost_of_assuming_naive_usd": float(br.loc[best_naive, "loss"] - br["loss"].min()),
            }
        )
    return pd.DataFrame(out)


def chosen_defences(runs: pd.DataFrame, values: list[float]) -> list[tuple[float, str]]:
    """The defences chosen on the choice replicates for some V, against either attacker."""
    got = choose(means(runs, "choose"), values)
    return sorted({k for col in ("vs_best_response", "vs_naive") for k in got[col]})
