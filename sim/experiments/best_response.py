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
    #: The neighbouring budget whose chosen levers were the second trial (None: not warm-started).
    warm_start_budget_usd_per_day: float | None = None
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
            "warm_start_budget_usd_per_day": self.warm_start_budget_usd_per_day,
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


def neutral(search: Search) -> dict[str, Any]:
    """The levers at which every operator plays the fixed policy (the first trial)."""
    out: dict[str, Any] = {
        "go": True,
        "demand_scale": 1.0,
        "cadence_scale": 1.0,
        "cluster_scale": 1.0,
        "obfuscation_shift": 0.0,
        "mixing_shift": 0.0,
        "length_share": 1.0,
        "replace_share": 1.0,
    }
    for name in search.suppliers:
        out[f"supplier_weights.{name}"] = 1.0
    return out


def _space(search: Search) -> dict[str, Any]:
    """Each searched lever's optuna distribution: the search space's bounds (MODEL §2)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    lo = 1.0 / search.max_scale
    space: dict[str, Any] = {
        "go": CategoricalDistribution([True, False]),
        "demand_scale": FloatDistribution(
            1.0 / search.max_demand_scale, search.max_demand_scale, log=True
        ),
        "cadence_scale": FloatDistribution(lo, search.max_scale, log=True),
        "cluster_scale": FloatDistribution(
            search.min_cluster_scale, search.max_cluster_scale, log=True
        ),
        "obfuscation_shift": FloatDistribution(-search.max_obfuscation, search.max_obfuscation),
        "mixing_shift": FloatDistribution(-search.max_traffic_mixing, search.max_traffic_mixing),
        "length_share": FloatDistribution(search.min_length_share, 1.0),
        "replace_share": FloatDistribution(0.0, 1.0),
    }
    for name in search.suppliers:
        space[f"supplier_weights.{name}"] = FloatDistribution(lo, search.max_scale, log=True)
    return {k: d for k, d in space.items() if k.split(".")[0] in search.levers}


def _inside(flat: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """``flat`` restricted to the searched levers and clipped into their bounds."""
    out = {}
    for k, d in space.items():
        if k in flat:
            v = flat[k]
            out[k] = v if isinstance(v, bool) else float(min(max(v, d.low), d.high))
    return out


def _flat(levers: dict[str, Any]) -> dict[str, Any]:
    """:class:`Levers` fields as optuna's flat parameters (supplier weights one by one)."""
    out = {k: v for k, v in levers.items() if k != "supplier_weights"}
    for name, w in (levers.get("supplier_weights") or {}).items():
        out[f"supplier_weights.{name}"] = w
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


def _key(cfg: Config, scenario: str, seeds: list[dict]) -> str:
    import optuna

    from sim.experiments.cache import cache_key

    # The search depends on the world, the seed, its own settings, the levers it starts from and
    # the optimiser's version, not on the run's replicate.
    start = json.dumps(seeds, sort_keys=True, default=str)
    tag = f"best_response|optuna {optuna.__version__}|{start}|{scenario}"
    return cache_key(dataclasses.replace(cfg, replicate=None), tag)


def _at_budget(cfg: Config, budget: float) -> Config:
    return dataclasses.replace(
        cfg, detection=dataclasses.replace(cfg.detection, budget_usd_per_day=float(budget))
    )


def warm_start_budget(cfg: Config) -> float | None:
    """The neighbouring budget whose best response seeds this one's, if any."""
    below = [
        b for b in cfg.attacker.search.warm_start_budgets if b < cfg.detection.budget_usd_per_day
    ]
    return max(below) if below else None


def search(
    cfg: Config, scenario: str, progress: bool = False, seeds: list[dict] | None = None
) -> BestResponse:
    """The operators' best response to ``cfg``'s defence (from the cache if searched before).

    The first trials are the fixed policy, the neighbouring budget's choice (with
    ``search.warm_start_budgets``) and any ``seeds`` (levers found elsewhere, e.g. on a reduced
    world).
    """
    seeds = list(seeds or [])
    key = _key(cfg, scenario, seeds)
    path = Path(cfg.output.results_dir) / "cache" / "best_response" / f"{key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    cached = _read(path)
    if cached is not None:
        return cached
    # The neighbour first, outside this search's lock: locks are taken in falling budget order,
    # so two processes walking the same ladder never wait on each other in a cycle.
    warm = []
    b = warm_start_budget(cfg)
    if b is not None:
        warm.append(search(_at_budget(cfg, b), scenario, progress).levers)
    # Sweep points that share a world (replicates of one budget) wait for one search, not repeat it.
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read(path)
        if cached is not None:
            return cached
        result = _search(cfg, scenario, progress, [*warm, *seeds], bool(warm))
        from sim.experiments.storage import clean

        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        data = dataclasses.asdict(result)
        data.pop("cached")
        tmp.write_text(json.dumps(clean(data), allow_nan=False))
        os.replace(tmp, path)
    return result


def _read(path: Path) -> BestResponse | None:
    if not path.is_file():
        return None
    try:
        return BestResponse(**json.loads(path.read_text()), cached=True)
    except (OSError, json.JSONDecodeError, TypeError):
        return None  # a damaged or older entry is searched again


def _sampler(search_cfg: Search):
    import optuna

    seed = int(search_cfg.seed)
    if search_cfg.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if search_cfg.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True)


def _score(cfg: Config, scenario: str, batch: list[dict], reps: list[int], n_jobs: int):
    """Each proposal's net values on ``reps``: (proposal, replicate) pairs in parallel."""
    pairs = [(i, r) for i in range(len(batch)) for r in reps]
    if n_jobs == 1 or len(pairs) == 1:
        flat = [net_values(cfg, batch[i], [r], scenario)[0] for i, r in pairs]
    else:
        from joblib import Parallel, delayed

        flat = [
            v[0]
            for v in Parallel(n_jobs=n_jobs, backend="loky")(
                delayed(net_values)(cfg, batch[i], [r], scenario) for i, r in pairs
            )
        ]
    n = len(reps)
    return [flat[i * n : (i + 1) * n] for i in range(len(batch))]


def _search(
    cfg: Config, scenario: str, progress: bool, starts: list[dict], warm: bool
) -> BestResponse:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = cfg.attacker.search
    reps = [s.train_offset + i for i in range(s.train_replicates)]
    space = _space(s)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(direction="maximize", sampler=_sampler(s))
        study.enqueue_trial(_inside(neutral(s), space))
        for levers in starts:
            study.enqueue_trial(_inside(_flat(levers), space), skip_if_exists=True)
        values: dict[int, list[float]] = {}
        while len(study.trials) < s.trials:
            trials = [study.ask(space) for _ in range(min(s.batch, s.trials - len(study.trials)))]
            scored = _score(cfg, scenario, [_as_levers(t.params) for t in trials], reps, s.n_jobs)
            for t, v in zip(trials, scored, strict=True):
                values[t.number] = v
                study.tell(t, float(np.mean(v)))
            if progress:
                print(
                    f"\r[best response] B=${cfg.detection.budget_usd_per_day:,.0f}/day: trial "
                    f"{len(study.trials)}/{s.trials}, best net value "
                    f"${study.best_value / 1e6:,.2f}M",
                    end="",
                    file=sys.stderr,
                )
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
        at_bounds=_at_bounds(chosen.params, space, cfg),
        levers=_as_levers(chosen.params),
        train_net_value_usd=float(chosen.value),
        train_net_values_usd=values[chosen.number],
        fixed_train_net_value_usd=float(study.trials[0].value),
        warm_start_budget_usd_per_day=warm_start_budget(cfg) if warm else None,
        trials=rows,
        seconds=time.perf_counter() - t0,
    )


def _at_bounds(params: dict[str, Any], space: dict[str, Any], cfg: Config) -> list[str]:
    """Levers the search pushed to within 2% (in log terms for scales) of a bound of the search
    space. Natural limits are not bounds: the whole campaign, every loss replaced or none, lone
    accounts, no obfuscation or mixing."""
    from sim.attackers.best_response import Levers, apply_levers

    s = cfg.attacker.search
    ops = list(cfg.operators.values())
    played = [
        apply_levers(
            o,
            Levers(
                **_as_levers(
                    {
                        k: v
                        for k, v in params.items()
                        if k in ("cluster_scale", "obfuscation_shift", "mixing_shift")
                    }
                )
            ),
            0.0,
            s,
        )
        for o in ops
    ]
    out = []
    for k, v in params.items():
        d = space[k]
        if isinstance(v, bool) or k in ("replace_share",):
            continue
        if k == "obfuscation_shift":
            near = any(p.obfuscation >= 0.98 * s.max_obfuscation > 0 for p in played)
        elif k == "mixing_shift":
            near = any(p.traffic_mixing >= 0.98 * s.max_traffic_mixing > 0 for p in played)
        elif k == "cluster_scale":
            near = v >= d.high / 1.02 or any(p.cluster_size >= s.max_cluster_size for p in played)
        elif k == "length_share":
            near = v - d.low < 0.02 * (d.high - d.low)
        else:  # demand, cadence, supplier weights: both ends of a log range
            near = min(math.log(v / d.low), math.log(d.high / v)) < 0.02 * math.log(d.high / d.low)
        if near:
            out.append(k)
    return out
