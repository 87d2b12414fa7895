"""The attacker's best response: search the campaign levers that maximise its net value (MODEL §2).

An optuna study (a seeded multivariate TPE, CMA-ES or random sampler) proposes levers
(:class:`sim.attackers.best_response.Levers`); each proposal is scored as the operators' mean net
value (value of capability − cash − expected penalty, summed over operators) over the same
training replicates — common random numbers, so two proposals differ by their levers and not by
their luck. The first trial is the fixed policy (neutral levers). Training replicates are
``train_offset + i``, disjoint from the replicates a sweep or a run reports on, so what is
reported is held out. Every scored point goes through the result cache
(:mod:`sim.experiments.cache`), and so does the search's outcome: the same world and seed get the
same levers at no cost, whichever launcher asks.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.attackers.best_response import Levers, Search
from sim.parameters import Config


@dataclass
class BestResponse:
    """The chosen levers and how the search got there."""

    levers: dict[str, Any]
    #: Mean net value on the training replicates (and each replicate's), chosen and fixed policy.
    train_net_value_usd: float
    train_net_values_usd: list[float]
    fixed_train_net_value_usd: float
    #: One row per trial: its number, levers, mean net value and the best so far.
    trials: list[dict[str, Any]] = field(default_factory=list)
    #: Chosen levers within 2% of a bound of the search space (the bound may bind).
    at_bounds: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "levers": self.levers,
            "train_net_value_usd": self.train_net_value_usd,
            "train_net_values_usd": self.train_net_values_usd,
            "fixed_train_net_value_usd": self.fixed_train_net_value_usd,
            "trials": self.trials,
            "at_bounds": self.at_bounds,
            "search_seconds": round(self.seconds, 3),
            "from_cache": self.cached,
        }


def with_levers(cfg: Config, levers: dict[str, Any]) -> Config:
    """``cfg`` playing ``levers`` (no search)."""
    s = cfg.attacker
    base = dataclasses.asdict(s.levers)
    base.update(levers)
    new = dataclasses.replace(
        s, levers=Levers(**base), search=dataclasses.replace(s.search, enabled=False)
    )
    return dataclasses.replace(cfg, attacker=new)


def neutral(cfg: Config, search: Search) -> dict[str, Any]:
    """The levers at which the operators play the fixed policy (the first trial)."""
    ops = list(cfg.operators.values())
    out: dict[str, Any] = {
        "go": True,
        "demand_scale": 1.0,
        "cadence_scale": 1.0,
        "length_share": 1.0,
        "replace_share": 1.0,
        # Levers that replace a value take the first operator's (the same for every shipped one).
        "cluster_size": int(min(ops[0].cluster_size, search.max_cluster_size)),
        "obfuscation": float(min(ops[0].obfuscation, search.max_obfuscation)),
        "traffic_mixing": float(min(ops[0].traffic_mixing, search.max_traffic_mixing)),
    }
    for name in search.suppliers:
        out[f"supplier_weights.{name}"] = 1.0
    return out


def _suggest(trial, search: Search) -> dict[str, Any]:
    lo = 1.0 / search.max_scale
    moved = set(search.levers)
    out: dict[str, Any] = {}
    if "go" in moved:
        out["go"] = trial.suggest_categorical("go", [True, False])
    for name in ("demand_scale", "cadence_scale"):
        if name in moved:
            out[name] = trial.suggest_float(name, lo, search.max_scale, log=True)
    if "cluster_size" in moved:
        out["cluster_size"] = trial.suggest_int(
            "cluster_size", 1, search.max_cluster_size, log=True
        )
    if "obfuscation" in moved:
        out["obfuscation"] = trial.suggest_float("obfuscation", 0.0, search.max_obfuscation)
    if "traffic_mixing" in moved:
        out["traffic_mixing"] = trial.suggest_float(
            "traffic_mixing", 0.0, search.max_traffic_mixing
        )
    if "length_share" in moved:
        out["length_share"] = trial.suggest_float("length_share", search.min_length_share, 1.0)
    if "replace_share" in moved:
        out["replace_share"] = trial.suggest_float("replace_share", 0.0, 1.0)
    if "supplier_weights" in moved:
        for name in search.suppliers:
            key = f"supplier_weights.{name}"
            out[key] = trial.suggest_float(key, lo, search.max_scale, log=True)
    return out


def _as_levers(flat: dict[str, Any]) -> dict[str, Any]:
    """Optuna's flat parameters as :class:`Levers` fields (supplier weights nested)."""
    out: dict[str, Any] = {}
    weights = {}
    for k, v in flat.items():
        if k.startswith("supplier_weights."):
            weights[k.split(".", 1)[1]] = float(v)
        else:
            out[k] = v
    if weights:
        out["supplier_weights"] = weights
    return out


def net_values(cfg: Config, levers: dict[str, Any], replicates: list[int], scenario: str):
    """The operators' summed net value on each replicate, playing ``levers`` (cached)."""
    from sim.experiments.cache import cached_summary

    base = with_levers(cfg, levers)
    base = dataclasses.replace(
        base, analysis=dataclasses.replace(base.analysis, undefended_reference=False)
    )
    out = []
    for r in replicates:
        s, _ = cached_summary(dataclasses.replace(base, replicate=r), scenario)
        out.append(float(sum(op["net_value_usd"] for op in s["operators"].values())))
    return out


def _key(cfg: Config, scenario: str) -> str:
    from sim.experiments.cache import cache_key

    # The search depends on the world, the seed and its own settings, not on the run's replicate.
    return cache_key(dataclasses.replace(cfg, replicate=None), f"best_response|{scenario}")


def search(cfg: Config, scenario: str, progress: bool = False) -> BestResponse:
    """The operators' best response to ``cfg``'s defence (from the cache if searched before)."""
    key = _key(cfg, scenario)
    path = Path(cfg.output.results_dir) / "cache" / "best_response" / f"{key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Sweep points that share a world (replicates of one budget) wait for one search, not repeat it.
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            try:
                data = json.loads(path.read_text())
                return BestResponse(**data, cached=True)
            except (OSError, json.JSONDecodeError, TypeError):
                pass  # a damaged entry is searched again
        result = _search(cfg, scenario, progress)
        from sim.experiments.storage import clean

        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        data = dataclasses.asdict(result)
        data.pop("cached")
        tmp.write_text(json.dumps(clean(data), allow_nan=False))
        os.replace(tmp, path)
    return result


def _sampler(search_cfg: Search):
    import optuna

    seed = int(search_cfg.seed)
    if search_cfg.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if search_cfg.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True)


def _search(cfg: Config, scenario: str, progress: bool) -> BestResponse:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = cfg.attacker.search
    reps = [s.train_offset + i for i in range(s.train_replicates)]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(direction="maximize", sampler=_sampler(s))
    start = neutral(cfg, s)
    study.enqueue_trial({k: v for k, v in start.items() if k.split(".")[0] in s.levers})
    values: dict[int, list[float]] = {}

    def objective(trial) -> float:
        levers = _as_levers(_suggest(trial, s))
        v = net_values(cfg, levers, reps, scenario)
        values[trial.number] = v
        if progress:
            best = max(study.best_value if trial.number else -math.inf, float(np.mean(v)))
            print(
                f"\r[best response] trial {trial.number + 1}/{s.trials}, "
                f"best net value ${best / 1e6:,.2f}M",
                end="",
                file=sys.stderr,
            )
        return float(np.mean(v))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(objective, n_trials=s.trials)
    if progress:
        print(file=sys.stderr)
    rows, best = [], -math.inf
    for t in study.trials:
        best = max(best, t.value)
        rows.append(
            {
                "trial": t.number,
                "levers": _as_levers(t.params),
                "net_value_usd": t.value,
                "best_so_far_usd": best,
            }
        )
    chosen = study.best_trial
    return BestResponse(
        at_bounds=_at_bounds(chosen.params, s),
        levers=_as_levers(chosen.params),
        train_net_value_usd=float(chosen.value),
        train_net_values_usd=values[chosen.number],
        fixed_train_net_value_usd=float(study.trials[0].value),
        trials=rows,
        seconds=time.perf_counter() - t0,
    )


def _at_bounds(params: dict[str, Any], s: Search) -> list[str]:
    """Levers the search pushed to within 2% (in log terms for scales) of a bound."""
    lo = 1.0 / s.max_scale
    span = math.log(s.max_scale / lo)
    out = []
    for k, v in params.items():
        if isinstance(v, bool):
            continue
        if k in ("demand_scale", "cadence_scale") or k.startswith("supplier_weights."):
            near = min(math.log(v / lo), math.log(s.max_scale / v)) < 0.02 * span
        elif k == "cluster_size":
            near = v <= 1 or v >= s.max_cluster_size
        else:
            # The whole campaign and every loss replaced are natural limits, not bounds.
            top = {
                "obfuscation": s.max_obfuscation,
                "traffic_mixing": s.max_traffic_mixing,
                "length_share": math.inf,
                "replace_share": math.inf,
            }[k]
            bottom = s.min_length_share if k == "length_share" else 0.0
            width = (min(top, 1.0) - bottom) or 1.0
            near = min(v - bottom, top - v) < 0.02 * width
        if near:
            out.append(k)
    return out
