"""Calibration: fit a scenario's listed parameters to its disclosed targets (MODEL §9).

Method: least squares on log residuals, ``r_j = log(mean simulated metric_j / target_j)``, over
log-parameters, with scipy's trust-region reflective solver inside the listed bounds and a
two-point finite-difference Jacobian (10% steps). Each evaluation averages the same seeds (common
random numbers), so the objective is a deterministic function of the parameters. The fitted
values, the date and the seeds are recorded; figures that were not fitted are reported as they
come out. Targets are the *attributed* figures (lower bounds), never inputs or caps.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from sim.configuration import SCENARIO_DIR, Loaded, load
from sim.parameters import Config
from sim.validation import ConfigError

#: Figures reported beside the fit though nothing was fitted to them.
UNFITTED = [
    "exchanges_harvested",
    "accounts_created",
    "accounts_banned",
    "capability_extracted",
    "days_to_50pct_of_final_capability",
    "first_detection_hours",
    "mean_account_lifetime_hours",
    "attacker_spend_usd",
    "detection_spend_usd",
    "legit_accounts_banned",
]


#: Per operator: the revealed-preference diagnostic (its marginal value of an exchange at the
#: horizon against what an exchange cost it).
REVEALED = ["marginal_value_per_exchange_usd", "cost_per_exchange_usd"]


def unfitted_figures(cfg: Config) -> list[str]:
    """The figures reported beside a fit: :data:`UNFITTED` and each operator's diagnostic."""
    return UNFITTED + [f"operators.{op}.{k}" for op in cfg.operators for k in REVEALED]


def get_path(obj: Any, path: str) -> Any:
    """Read a dotted path through dataclasses and dicts. A dict key may itself hold dots (a
    world's flat ``provider.<name>.<figure>``): the longest key that matches is read first."""
    parts = path.split(".")
    i = 0
    while i < len(parts):
        if isinstance(obj, dict):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in obj:
                    obj, i = obj[key], j
                    break
            else:
                raise KeyError(parts[i])
        else:
            obj, i = getattr(obj, parts[i]), i + 1
    return obj


def _get_or_none(obj: Any, path: str) -> Any:
    """``get_path``, or None where the summary has no such figure (a world of several providers
    reports no one-lab diagnostic)."""
    try:
        return get_path(obj, path)
    except (KeyError, AttributeError):
        return None


def set_path(obj: Any, path: str, value: Any) -> None:
    """Set a dotted path through dataclasses and dicts."""
    *head, last = path.split(".")
    for part in head:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    if isinstance(obj, dict):
        obj[last] = value
    else:
        setattr(obj, last, value)


def with_values(cfg: Config, spec, values: np.ndarray) -> Config:
    """A copy of ``cfg`` with the fitted (and tied) keys set to ``values``."""
    out = copy.deepcopy(cfg)
    for f, v in zip(spec.fitted, values, strict=True):
        for key in [f.key, *f.tied]:
            set_path(out, key, float(v))
    return out


@dataclass
class FitResult:
    """What a calibration found."""

    scenario: str
    keys: list[str]
    initial: list[float]
    fitted: list[float]
    targets: dict[str, float]
    simulated: dict[str, float]
    per_seed: list[dict[str, float]]
    unfitted: dict[str, float | None]
    seeds: list[int]
    evaluations: int
    seconds: float
    method: str
    converged: bool
    tolerances: dict[str, float] = field(default_factory=dict)

    @property
    def rel_errors(self) -> dict[str, float]:
        return {k: self.simulated[k] / v - 1.0 for k, v in self.targets.items()}

    @property
    def max_abs_rel_error(self) -> float:
        return max(abs(e) for e in self.rel_errors.values())


STEP = 0.1
METHOD = (
    "scipy.optimize.least_squares (trf) on log(simulated/target) over log-parameters, "
    "forward-difference Jacobian with 10% steps, common random numbers over the listed seeds"
)


def simulate_targets(
    cfg: Config, metrics: list[str], seeds: list[int], scenario: str
) -> tuple[dict[str, float], list[dict], dict[str, float | None]]:
    """Mean of each metric over ``seeds`` (and the per-seed values, and unfitted figures)."""
    from sim.experiments.evaluators import evaluate

    rows, unfit = [], []
    for s in seeds:
        # The targets need no undefended twin: skip it (half the cost of an evaluation).
        c = dataclasses.replace(
            cfg,
            seed=int(s),
            analysis=dataclasses.replace(cfg.analysis, undefended_reference=False),
        )
        summ = evaluate(c, scenario, progress=False, summary_only=True).summary
        rows.append({m: float(get_path(summ, m) or 0.0) for m in metrics})
        names = unfitted_figures(cfg)
        unfit.append({m: _get_or_none(summ, m) for m in names})
    mean = {m: float(np.mean([r[m] for r in rows])) for m in metrics}
    unf = {}
    for m in names:
        vals = [u[m] for u in unfit if u[m] is not None]
        unf[m] = float(np.mean(vals)) if vals else None
    return mean, rows, unf


def fit(
    loaded: Loaded, seeds: list[int], max_evaluations: int = 60, log: Any = sys.stderr
) -> FitResult:
    """Fit the scenario's listed parameters to its targets."""
    from scipy.optimize import least_squares

    cfg = loaded.cfg
    spec = cfg.scenario.calibration
    if not spec.fitted or not spec.targets:
        raise ConfigError(
            "scenario.calibration", "this scenario lists no fitted parameters or targets"
        )
    metrics = [t.metric for t in spec.targets]
    target = np.array([t.value for t in spec.targets], dtype=float)
    if (target <= 0).any():
        raise ConfigError("scenario.calibration.targets", "target values must be > 0")
    x0 = np.array([float(get_path(cfg, f.key)) for f in spec.fitted])
    lo = np.array([f.bounds[0] for f in spec.fitted], dtype=float)
    hi = np.array([f.bounds[1] for f in spec.fitted], dtype=float)
    scale = np.clip(x0, lo * (1 + 1e-9), hi * (1 - 1e-9))
    cache: dict[tuple, tuple] = {}
    t_start = time.perf_counter()

    def run_at(z: np.ndarray):
        key = tuple(np.round(z, 10))
        if key not in cache:
            values = scale * np.exp(z)
            mean, rows, unf = simulate_targets(
                with_values(cfg, spec, values), metrics, seeds, loaded.scenario
            )
            cache[key] = (values, mean, rows, unf)
            err = max(abs(mean[m] / t - 1) for m, t in zip(metrics, target, strict=True))
            print(
                f"  eval {len(cache):>3}: "
                + ", ".join(
                    f"{f.key.split('.')[-1]}={v:.4g}"
                    for f, v in zip(spec.fitted, values, strict=True)
                )
                + f" -> max |rel err| {err:.3%}",
                file=log,
                flush=True,
            )
        return cache[key]

    def residuals(z: np.ndarray) -> np.ndarray:
        _, mean, _, _ = run_at(z)
        sim = np.array([max(mean[m], 1e-9) for m in metrics])
        return np.log(sim / target)

    zlo, zhi = np.log(lo / scale), np.log(hi / scale)

    def jacobian(z: np.ndarray) -> np.ndarray:
        # Forward differences with a 10% step in each parameter (backward at an upper bound).
        r0 = residuals(z)
        J = np.empty((r0.size, z.size))
        for i in range(z.size):
            h = STEP if z[i] + STEP <= zhi[i] else -STEP
            zi = z.copy()
            zi[i] += h
            J[:, i] = (residuals(zi) - r0) / h
        return J

    res = least_squares(
        residuals,
        np.zeros(len(x0)),
        jac=jacobian,
        bounds=(zlo, zhi),
        method="trf",
        x_scale=1.0,
        xtol=1e-3,
        ftol=1e-4,
        max_nfev=max_evaluations,
    )
    # Report what the values as stored (6 significant digits) give: a change in the 7th digit
    # can move the realised figures by ~1% (the fleet size shifts every later draw), so the
    # optimum's own evaluation would not be reproducible from the scenario file.
    stored = np.array([float(f"{v:.6g}") for v in scale * np.exp(res.x)])
    values, mean, rows, unf = run_at(np.log(stored / scale))
    tol = {t.metric: t.tolerance for t in spec.targets}
    return FitResult(
        scenario=loaded.scenario,
        keys=[f.key for f in spec.fitted],
        initial=x0.tolist(),
        fitted=values.tolist(),
        targets=dict(zip(metrics, target.tolist(), strict=True)),
        simulated=mean,
        per_seed=rows,
        unfitted=unf,
        seeds=list(seeds),
        evaluations=len(cache),
        seconds=time.perf_counter() - t_start,
        method=METHOD,
        converged=bool(res.success),
        tolerances=tol,
    )


def table(result: FitResult, loaded: Loaded) -> str:
    """The calibration table in Markdown: targets, fitted parameters, unfitted figures."""
    spec = loaded.cfg.scenario.calibration
    lines = [
        f"### Calibration of `{result.scenario}`",
        "",
        f"Fitted {date.today().isoformat()} over seeds {result.seeds} "
        f"({result.evaluations} evaluations, {result.seconds:.0f} s). Method: {result.method}.",
        "",
        "| target (attributed) | disclosed | simulated (mean) | error | tolerance | source |",
        "|---|---|---|---|---|---|",
    ]
    for t in spec.targets:
        sim = result.simulated[t.metric]
        lines.append(
            f"| `{t.metric}` | {t.value:,.0f} | {sim:,.0f} | {sim / t.value - 1:+.1%} | "
            f"±{t.tolerance:.0%} | {t.source} |"
        )
    lines += ["", "| fitted parameter | start | fitted | note |", "|---|---|---|---|"]
    for f, a, b in zip(spec.fitted, result.initial, result.fitted, strict=True):
        tied = f" (also {', '.join(f.tied)})" if f.tied else ""
        lines.append(f"| `{f.key}`{tied} | {a:,.4g} | {b:,.4g} | {f.note} |")
    lines += ["", "| not fitted (reported as it comes out, mean over seeds) | value |", "|---|---|"]
    for k, v in result.unfitted.items():
        lines.append(f"| `{k}` | {'n/a' if v is None else f'{v:,.4g}'} |")
    return "\n".join(lines) + "\n"


def write_back(result: FitResult, scenario: str, path: Path | None = None) -> Path:
    """Write the fitted values and the fit record into the scenario file, keeping comments."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedSeq

    path = path or SCENARIO_DIR / f"{scenario}.yaml"
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    doc = yaml.load(path.read_text())
    spec = doc["scenario"]["calibration"]
    for f, v in zip(spec["fitted"], result.fitted, strict=True):
        for key in [f["key"], *(f.get("tied") or [])]:
            node = doc
            *head, last = key.split(".")
            for part in head:
                node = node[part]
            node[last] = float(f"{v:.6g}")
    rec = spec["fit"]
    rec["date"] = date.today().isoformat()
    seeds = CommentedSeq(int(x) for x in result.seeds)
    seeds.fa.set_flow_style()
    rec["seeds"] = seeds
    rec["method"] = result.method
    rec["evaluations"] = int(result.evaluations)
    rec["max_abs_rel_error"] = float(f"{result.max_abs_rel_error:.4g}")
    with path.open("w") as fh:
        yaml.dump(doc, fh)
    return path


def calibrate_command(argv: list[str]) -> int:
    """``distillsim calibrate scenario=<name> [--seeds N] [--write]``."""
    from sim.experiments.storage import atomic_folder, dump_json, stamp

    write = "--write" in argv
    seeds_arg = "5"
    rest = []
    it = iter(argv)
    for a in it:
        if a == "--write":
            continue
        if a == "--seeds":
            seeds_arg = next(it, "")
            continue
        if a.startswith("--seeds="):
            seeds_arg = a.split("=", 1)[1]
            continue
        if a.startswith("--"):
            raise ConfigError(a, "unknown option; allowed: --seeds N, --write")
        rest.append(a)
    if not seeds_arg.isdigit() or int(seeds_arg) < 1:
        raise ConfigError("--seeds", f"must be a whole number >= 1 (got {seeds_arg!r})")
    seeds_n = int(seeds_arg)
    loaded = load(rest, command_line=True)
    seeds = list(range(seeds_n))
    print(f"calibrating {loaded.scenario} over seeds {seeds} ...", file=sys.stderr)
    result = fit(loaded, seeds)
    text = table(result, loaded)
    folder = Path(loaded.cfg.output.results_dir) / "calibration" / loaded.scenario / stamp()
    with atomic_folder(folder) as tmp:
        (tmp / "calibration.md").write_text(text)
        dump_json(
            {
                **dataclasses.asdict(result),
                "max_abs_rel_error": result.max_abs_rel_error,
                "tree": OmegaConf.to_container(loaded.tree),
            },
            tmp / "calibration.json",
        )
    print(text)
    if write:
        path = write_back(result, loaded.scenario)
        print(f"fitted values written to {path}", file=sys.stderr)
    ok = all(abs(e) <= result.tolerances[k] for k, e in result.rel_errors.items())
    if not ok:
        print("warning: some targets are outside their tolerance", file=sys.stderr)
    print(folder)
    return 0 if ok else 1
