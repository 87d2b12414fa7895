"""Studies: many sampled worlds, run for throughput (``distillsim study study=<name>``).

A study is not a grid. It composes the config once (per option: a policy, a package, a mix),
draws a design in the unit cube (:mod:`sim.experiments.samplers`), maps it through the priors
(:mod:`sim.experiments.priors`) and plays every sampled world at every budget and replicate by
setting the dataclass directly — no Hydra composition per sample. Points go through the result
cache (an interrupted study resumes with only the missing points), in batches of sampled worlds per
task on joblib (loky) locally or Ray on a cluster; a failed point is a row with its error, never a
lost study. Replicate r uses the same random streams in every world and at every budget (common
random numbers), so differences between budgets and options are paired.

Rows come back in a fixed order, so the same study and seed give the same ``samples.parquet``
whichever backend ran it. The analysis (indices, bands, boxes, rankings) is in ``sim.analysis``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments import samplers
from sim.experiments.faults import kill_if_injected
from sim.experiments.priors import Priors
from sim.parameters import Config, StudyConfig
from sim.validation import ConfigError

#: Columns of samples.parquet that are not factors or outputs.
INDEX = ["sample", "world", "option", "budget", "replicate"]
BASELINE = -1  # the sample index of the baseline world (the scenario's own values)


# --------------------------------------------------------------------------- settings
def parse_settings(s: StudyConfig | None) -> StudyConfig:
    """Check what the schema cannot (types and ranges are the schema's): errors name
    ``study.<key>``."""
    if s is None:
        raise ConfigError(
            "study", f"missing: pick one with study=<name>; allowed: {', '.join(_study_names())}"
        )
    if s.kind == "sobol" and s.samples & (s.samples - 1):
        raise ConfigError("study.samples", f"Sobol' needs a power of two (got {s.samples})")
    if not s.budgets or any(not math.isfinite(b) or b < 0 for b in s.budgets):
        raise ConfigError("study.budgets", f"must list budgets >= 0 (got {s.budgets})")
    if len(set(s.budgets)) != len(s.budgets):
        raise ConfigError("study.budgets", f"a budget is listed twice ({s.budgets})")
    from sim.fields import SUMMARY

    for o in s.outputs:
        if o not in SUMMARY:
            raise ConfigError(
                "study.outputs", f"unknown output {o!r}; see docs/OUTPUTS.md for the figures"
            )
    for i, q in enumerate(s.questions):
        if not q.name:
            q.name = f"q{i}"
        for b in (q.budget, q.against_budget):
            if b is not None and b not in s.budgets:
                raise ConfigError(
                    f"study.questions[{i}]",
                    f"budget {b:g} is not among study.budgets ({_numbers(s.budgets)})",
                )
        for o in (q.option, q.against_option):
            if o is not None and o not in (s.options or {"base": []}):
                raise ConfigError(
                    f"study.questions[{i}]",
                    f"option {o!r} is not among study.options ({', '.join(s.options or ['base'])})",
                )
        if q.output not in SUMMARY:
            raise ConfigError(f"study.questions[{i}].output", f"unknown output {q.output!r}")
    if s.robust.output not in SUMMARY:
        raise ConfigError("study.robust.output", f"unknown output {s.robust.output!r}")
    if s.kind == "stackelberg":
        from sim.configuration import group_options

        for m in s.stackelberg.mixes:
            if m not in group_options("mix"):
                raise ConfigError(
                    "study.stackelberg.mixes",
                    f"unknown mix {m!r}; allowed: {', '.join(group_options('mix'))}",
                )
    if s.kind == "discovery" and not s.questions:
        raise ConfigError("study.questions", "a discovery study needs at least one question")
    if s.kind == "robust" and len(s.options) < 2:
        raise ConfigError("study.options", "a robust study ranks at least two options")
    return s


def _numbers(xs: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in xs)


def _study_names() -> list[str]:
    from sim.configuration import group_options

    return group_options("study")


# --------------------------------------------------------------------------- the design
@dataclass
class Design:
    """The worlds a study plays: unit-cube rows, their factor values, and which rows are which."""

    unit: np.ndarray  # (n, k) in [0, 1]
    values: np.ndarray  # (n, k) factor values
    baseline_unit: np.ndarray  # (k,) where the scenario's own values sit in the unit cube
    #: kind-specific: "morris" | "saltelli" | "lhs" | "sobol"
    kind: str


def baseline_position(priors: Priors) -> np.ndarray:
    """The unit-cube coordinates of the scenario's own values (a scale factor's own value is 1),
    clipped to the prior's bounds."""
    out = []
    for f in priors.factors:
        if not f.resolved:  # a factor that drives no key (a test function's): the median
            out.append(0.5)
            continue
        own = 1.0 if f.apply == "scale" else float(np.mean(list(f.resolved.values())))
        grid = np.linspace(0.0, 1.0, 2001)
        vals = f.ppf(grid)
        out.append(float(np.interp(np.clip(own, vals[0], vals[-1]), vals, grid)))
    return np.array(out)


def make_design(s: StudyConfig, priors: Priors) -> Design:
    names = priors.names
    if s.kind == "morris":
        kind, unit = "morris", samplers.morris(names, s.samples, s.levels, s.design_seed)
    elif s.kind == "sobol":
        kind, unit = "saltelli", samplers.saltelli(names, s.samples, s.design_seed, s.second_order)
    else:
        kind, unit = s.design, samplers.design(s.design, names, s.samples, s.design_seed)
    return Design(unit, priors.values(unit), baseline_position(priors), kind)


# --------------------------------------------------------------------------- evaluation
@dataclass
class Point:
    """One run of a study: a world (its row, or BASELINE), an option, a budget, a replicate."""

    sample: int
    option: str
    budget: float
    replicate: int


class WorldEvaluator:
    """Plays a sampled world: the option's base config, the priors' values, budget, replicate.

    Picklable (it travels to workers once per task); each point goes through the result cache.
    """

    def __init__(self, bases: dict[str, Config], priors: Priors, scenario: str):
        self.bases = bases
        self.priors = priors
        self.scenario = scenario

    def config(self, x: np.ndarray | None, point: Point) -> Config:
        base = self.bases[point.option]
        cfg = self.priors.apply(base, x) if x is not None else dataclasses.replace(base)
        cfg.detection = dataclasses.replace(cfg.detection, budget_usd_per_day=float(point.budget))
        cfg.replicate = int(point.replicate)
        cfg.output = dataclasses.replace(cfg.output, plots=False, progress="off")
        return cfg

    def __call__(self, x: np.ndarray | None, point: Point) -> tuple[dict[str, Any], bool]:
        from sim.experiments.cache import cached_summary

        summary, cached = cached_summary(self.config(x, point), self.scenario)
        return {k: _scalar(summary.get(k)) for k in scalar_fields(summary)}, cached


def _scalar(v: Any) -> Any:
    return float("nan") if v is None else v


def scalar_fields(summary: dict[str, Any]) -> list[str]:
    """The summary's top-level numeric figures (what samples.parquet keeps of each run)."""
    return [
        k
        for k, v in summary.items()
        if v is None or (isinstance(v, int | float) and not isinstance(v, bool))
        if k not in ("seed", "replicate", "days")
    ]


#: An evaluator: (factor values or None for the baseline world, point) -> (outputs, cached).
Evaluator = Callable[[np.ndarray | None, Point], tuple[dict[str, Any], bool]]


def points_of(s: StudyConfig, n: int) -> list[list[Point]]:
    """Per world (baseline first if asked), its points: every option, budget (B = 0 first, so
    the undefended twin of the others is in the cache already) and replicate."""
    options = list(s.options) or ["base"]
    budgets = sorted(s.budgets)
    worlds: list[list[Point]] = []
    if s.baseline_replicates:
        worlds.append(
            [
                Point(BASELINE, o, b, r)
                for o in options
                for r in range(s.baseline_replicates)
                for b in budgets
            ]
        )
    for i in range(n):
        worlds.append(
            [Point(i, o, b, r) for o in options for r in range(s.replicates) for b in budgets]
        )
    return worlds


def _play(
    evaluator: Evaluator,
    values: np.ndarray,
    worlds: list[list[Point]],
    sink: list[dict] | None = None,
) -> list[dict]:
    """A task: every point of some worlds. A failure is a row with its error; an interrupt
    propagates, with the rows finished so far already in ``sink`` (in-process only)."""
    rows = [] if sink is None else sink
    kill_if_injected(
        "DISTILLSIM_KILL_SAMPLE",
        lambda target: any(str(w[0].sample) == target for w in worlds if w),
    )
    for pts in worlds:
        for p in pts:
            x = None if p.sample == BASELINE else values[p.sample]
            row: dict[str, Any] = {
                "sample": p.sample,
                "option": p.option,
                "budget": p.budget,
                "replicate": p.replicate,
            }
            t0 = time.perf_counter()
            try:
                out, cached = evaluator(x, p)
                row.update(out)
                row["cached"] = bool(cached)
                row["error"] = None
            except Exception:
                row["cached"] = False
                row["error"] = traceback.format_exc(limit=6)
            row["seconds"] = time.perf_counter() - t0
            rows.append(row)
    return rows


def _chunks(worlds: list[list[Point]], batch: int) -> list[list[list[Point]]]:
    return [worlds[i : i + batch] for i in range(0, len(worlds), batch)]


def _run_joblib(evaluator, values, tasks, n_jobs) -> Iterator[list[dict]]:
    """Tasks on loky workers. A worker that dies (killed, out of memory) breaks the pool and
    loses every task in flight: those are rerun a world at a time (finished points come from the
    cache), and a world that kills its worker again becomes failed rows."""
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import BrokenProcessPool

    par = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    done: set[tuple] = set()
    try:
        for part in par(delayed(_play)(evaluator, values, t) for t in tasks):
            done.update(_point_key(r) for r in part)
            yield part
        return
    except BrokenProcessPool as exc:
        print(
            f"[study] a worker died ({type(exc).__name__}): rerunning its worlds one at a time "
            "(finished points come from the cache)",
            file=sys.stderr,
            flush=True,
        )
    for world in (w for t in tasks for w in t):
        todo = [p for p in world if _point_key(p) not in done]
        if not todo:
            continue
        try:
            # n_jobs=2 so that the one task runs in a worker (n_jobs=1 would run it here).
            par = Parallel(n_jobs=2, backend="loky")
            part = par([delayed(_play)(evaluator, values, [todo])])[0]
        except BrokenProcessPool as again:
            part = _lost_rows(todo, again)
        yield part


def _point_key(p: Point | dict) -> tuple:
    if isinstance(p, dict):
        return (p["sample"], p["option"], p["budget"], p["replicate"])
    return (p.sample, p.option, p.budget, p.replicate)


def _run_ray(evaluator, values, tasks, address: str | None) -> Iterator[list[dict]]:
    """Tasks on a Ray cluster. Ray reruns a task whose worker died (``max_retries``); a task that
    still fails has its worlds rerun one at a time, and a world that fails again becomes failed
    rows, so one bad world costs only its own points."""
    import ray
    from ray.exceptions import RayError

    from sim.experiments.cluster import connect

    connect(address)
    play = ray.remote(_play)
    ev, vals = ray.put(evaluator), ray.put(values)
    pending = {play.remote(ev, vals, t): t for t in tasks}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        task = pending.pop(done[0])
        try:
            yield ray.get(done[0])
            continue
        except RayError as exc:
            print(
                f"[study] a Ray task failed ({type(exc).__name__}): rerunning its worlds one at "
                "a time (finished points come from the cache)",
                file=sys.stderr,
                flush=True,
            )
        for world in task:
            try:
                yield ray.get(play.options(max_retries=1).remote(ev, vals, [world]))
            except RayError as again:
                yield _lost_rows(world, again)


def _lost_rows(world: list[Point], exc: BaseException) -> list[dict]:
    """The rows of a world whose worker died twice: its coordinates and why."""
    return [
        {
            "sample": p.sample,
            "option": p.option,
            "budget": p.budget,
            "replicate": p.replicate,
            "cached": False,
            "error": f"the worker running this world died: {exc!r}",
            "seconds": math.nan,
        }
        for p in world
    ]


def evaluate_design(
    evaluator: Evaluator,
    values: np.ndarray,
    worlds: list[list[Point]],
    backend: str = "sequential",
    n_jobs: int = -1,
    batch: int = 2,
    ray_address: str | None = None,
    progress: bool = False,
    rows_out: list[dict] | None = None,
) -> list[dict]:
    """Every point of ``worlds``, in the order given whichever backend plays them.

    ``rows_out`` receives rows as tasks finish, so an interrupted study can keep what it has.
    """
    tasks = _chunks(worlds, batch)
    rows = rows_out if rows_out is not None else []
    total = sum(len(w) for w in worlds)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="run", desc="study", file=sys.stderr, smoothing=0.05)
    if backend == "sequential" or (backend == "joblib" and n_jobs == 1):
        # In-process, rows land in ``rows`` as each point finishes (nothing lost to an interrupt).
        def local() -> Iterator[list[dict]]:
            for t in tasks:
                before = len(rows)
                _play(evaluator, values, t, sink=rows)
                yield rows[before:]

        stream: Iterator[list[dict]] = local()
    elif backend == "joblib":
        stream = _run_joblib(evaluator, values, tasks, n_jobs)
    else:
        stream = _run_ray(evaluator, values, tasks, ray_address)
    in_process = backend == "sequential" or (backend == "joblib" and n_jobs == 1)
    for part in stream:
        if not in_process:
            rows.extend(part)
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()
    order = {
        (p.sample, p.option, p.budget, p.replicate): i
        for i, p in enumerate(p for w in worlds for p in w)
    }
    rows.sort(key=lambda r: order[(r["sample"], r["option"], r["budget"], r["replicate"])])
    return rows


def frame(rows: list[dict], design: Design, priors: Priors) -> pd.DataFrame:
    """samples.parquet: one row per world x option x budget x replicate, inputs and outputs."""
    df = pd.DataFrame(rows)
    n = len(design.values)
    idx = df["sample"].to_numpy()
    base_values = priors.values(design.baseline_unit[None, :])[0]
    for j, name in enumerate(priors.names):
        col = np.where(idx == BASELINE, base_values[j], design.values[np.clip(idx, 0, n - 1), j])
        df.insert(4 + j, name, col)
    df.insert(1, "world", np.where(idx == BASELINE, "baseline", "sampled"))
    return df


# --------------------------------------------------------------------------- the study
@dataclass
class StudyResult:
    """What a study produced: settings, priors, design and every run."""

    settings: StudyConfig
    priors: Priors
    design: Design
    samples: pd.DataFrame
    scenario: str
    seconds: float
    overrides: list[str]
    base: Any = None  # the Loaded base config (for the manifest)
    options: dict[str, list[str]] = field(default_factory=dict)


def load_study(overrides: list[str]):
    """Compose once: the base world, the settings, the priors, and one config per option."""
    from sim.configuration import load
    from sim.experiments.priors import parse

    if not any(o.split("=", 1)[0].lstrip("+~") == "uncertainty" for o in overrides):
        overrides = [*overrides, "uncertainty=default"]
    loaded = load(overrides, command_line=True)
    s = parse_settings(loaded.cfg.study)
    priors = parse(loaded.cfg.uncertainty, loaded.cfg, only=s.factors or None)
    clash = set(priors.names) & (set(INDEX) | {"cached", "error", "seconds"} | set(s.outputs))
    if clash:
        raise ConfigError(
            "uncertainty.factors", f"factor name {sorted(clash)[0]!r} is a column of the results"
        )
    bases: dict[str, Config] = {}
    options = dict(s.options) or {"base": []}
    for name, extra in options.items():
        if not isinstance(extra, list | tuple):
            raise ConfigError(f"study.options.{name}", "must be a list of overrides")
        cfg = loaded.cfg if not extra else load([*overrides, *extra]).cfg
        bases[name] = _world_only(cfg)
    return loaded, s, priors, bases, options


def _world_only(cfg: Config) -> Config:
    # An absolute cache folder: workers on other processes or machines have their own cwd.
    out = dataclasses.replace(cfg.output, results_dir=str(Path(cfg.output.results_dir).resolve()))
    return dataclasses.replace(cfg, study=None, uncertainty=None, output=out)


def play(
    s: StudyConfig,
    priors: Priors,
    evaluator: Evaluator,
    scenario: str = "",
    options: dict[str, list[str]] | None = None,
    progress: bool = False,
    rows_out: list[dict] | None = None,
) -> StudyResult:
    """Draw the design and play every world through ``evaluator`` (any function of the factor
    values and the point: the study's own plays the model, a test can play a known function)."""
    design = make_design(s, priors)
    worlds = points_of(s, len(design.values))
    t0 = time.perf_counter()
    rows = evaluate_design(
        evaluator,
        design.values,
        worlds,
        backend=s.backend,
        n_jobs=s.n_jobs,
        batch=s.batch,
        ray_address=s.ray_address,
        progress=progress,
        rows_out=rows_out,
    )
    return StudyResult(
        settings=s,
        priors=priors,
        design=design,
        samples=frame(rows, design, priors),
        scenario=scenario,
        seconds=time.perf_counter() - t0,
        overrides=[],
        options=options or {"base": []},
    )


def run(
    overrides: list[str],
    progress: bool | None = None,
    rows_out: list[dict] | None = None,
    prepared=None,
) -> StudyResult:
    """Run the study the overrides select (everything validated before any run)."""
    loaded, s, priors, bases, options = prepared or load_study(overrides)
    evaluator = WorldEvaluator(bases, priors, loaded.scenario)
    show = sys.stderr.isatty() if progress is None else progress
    result = play(s, priors, evaluator, loaded.scenario, options, show, rows_out)
    result.overrides = list(overrides)
    result.base = loaded
    return result
