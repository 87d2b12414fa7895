"""Sweeps: Hydra multiruns of the model, cached per point and aggregated when they end.

``distillsim sweep [sweep=<name>] [overrides…]`` validates every value of every swept key first
(nothing is written for a bad input), then runs a Hydra multirun into
``results/sweeps/<sweep>/<timestamp>.partial/`` (renamed to ``<timestamp>/`` once aggregated)
with the configured launcher (joblib on all cores by
default; ``hydra/launcher=ray`` for a cluster). Each point is one job (:func:`run_point`): it looks
its result up in the cache (:mod:`sim.experiments.cache`) or simulates it, and returns its
summary, so results travel back to the driver even where jobs share no disk. The sweeper
(``hydra_plugins/distillsim_sweeper``) is Hydra's basic sweeper run in batches — it reports progress
and time left after each batch — and hands the jobs' returns to :func:`sim.analysis.runs.aggregate`
when the multirun ends.
"""

from __future__ import annotations

import itertools
import math
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from sim.experiments.faults import kill_if_injected
from sim.experiments.storage import WriteFailed
from sim.validation import ConfigError

#: Suffix of a sweep folder until its sweep has finished and been aggregated.
PARTIAL = ".partial"
#: Swept keys whose values cannot make another key's value invalid.
INDEPENDENT_KEYS = frozenset({"replicate", "seed", "detection.budget_usd_per_day"})
#: Above this many combinations of the other swept keys, only single values are checked up front.
MAX_CHECKED_COMBINATIONS = 50


# --------------------------------------------------------------------------- one point
def _scalar(v: Any) -> Any:
    return v if isinstance(v, int | float | str | bool) or v is None else str(v)


def _literal(override: str) -> Any:
    """The value of ``key=value`` as Hydra types it (true -> bool, 3 -> int, [1,2] -> list)."""
    try:
        return _scalar(OverridesParser.create().parse_override(override).value())
    except Exception:
        return override.split("=", 1)[1]


def _swept_values(overrides: list[str], cfg=None) -> dict[str, Any]:
    """Typed value of every key the job's overrides set (group choices by option name).

    Without ``cfg`` (the job's config did not validate) the values stay as typed on the command
    line, so that a failed point still carries its coordinates.
    """
    from sim.configuration import GROUPS
    from sim.experiments.calibration import get_path

    out: dict[str, Any] = {}
    for ov in overrides:
        if "=" not in ov or ov.startswith(("hydra", "~")):
            continue
        key, value = ov.split("=", 1)
        key = key.lstrip("+")
        if key in GROUPS or key in ("scenario", "policy", "mix", "sweep"):
            out[key] = value
            continue
        if cfg is None:
            out[key] = _literal(ov)
            continue
        try:
            out[key] = _scalar(get_path(cfg, key))
        except (AttributeError, KeyError, TypeError):
            out[key] = value
    return out


def run_point(cfg: DictConfig) -> dict[str, Any]:
    """Hydra task: one sweep point, from cache or simulated. Never raises (errors are data)."""
    from hydra.core.hydra_config import HydraConfig

    from sim.experiments.cache import cached_summary
    from sim.experiments.storage import dump_json
    from sim.validation import validate

    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    row: dict[str, Any] = {
        "job": int(hc.job.num),
        "overrides": overrides,
        "swept": _swept_values(overrides),
        "summary": None,
        "error": None,
    }
    kill_if_injected("DISTILLSIM_KILL_POINT", lambda target: target in overrides)
    try:
        c = validate(cfg, checked=True)  # every swept value was validated up front
        c.output.plots = False
        c.output.progress = "off"
        row["swept"] = _swept_values(overrides, c)
        scenario = str(hc.runtime.choices.get("scenario", c.scenario.name))
        summary, cached = cached_summary(c, scenario)
        row["summary"] = summary
        row["cached"] = cached
        out = Path(hc.runtime.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        dump_json(summary, out / "summary.json")
    except Exception:
        row["error"] = traceback.format_exc(limit=8)
    return row


# --------------------------------------------------------------------------- the command
def _parse(argv: list[str]) -> tuple[str, list[str]]:
    name, rest = "spend_curve", []
    for a in argv:
        if a.startswith("sweep="):
            name = a.split("=", 1)[1]
        else:
            rest.append(a)
    return name, rest


def expand(overrides: list[str], params: dict[str, str]) -> dict[str, list[str]]:
    """Every swept key with its values (the sweep file's params, then the command line's)."""
    parser = OverridesParser.create()
    swept: dict[str, list[str]] = {}
    items = [f"{k}={v}" for k, v in params.items()] + overrides
    try:
        parsed = parser.parse_overrides(items)
    except Exception as exc:
        raise ConfigError(
            "sweep", f"cannot parse the overrides: {str(exc).splitlines()[0]}"
        ) from None
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            if not o.is_discrete_sweep():
                raise ConfigError(key, "only lists, range() and choice() can be swept here")
            swept[key] = list(o.sweep_string_iterator())
        elif key in swept:
            del swept[key]  # a plain value on the command line replaces a swept one
    return swept


def split_overrides(
    overrides: list[str], params: dict[str, str]
) -> tuple[dict[str, list[str]], list[str]]:
    """The swept keys with their values, and the overrides that set one value for every run."""
    swept = expand(overrides, params)
    bare = {k.lstrip("+~") for k in swept}
    return swept, [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in bare]


def prevalidate(name: str, overrides: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Compose and validate every swept value before anything is written."""
    from sim.configuration import compose_tree, group_options, load
    from sim.validation import translate

    if name not in group_options("sweep"):
        raise ConfigError(
            "sweep", f"unknown sweep {name!r}; allowed: {', '.join(group_options('sweep'))}"
        )
    params_tree = compose_tree([f"sweep={name}"], return_hydra_config=True)
    params = {str(k): str(v) for k, v in (params_tree.hydra.sweeper.params or {}).items()}
    swept, plain = split_overrides(overrides, params)
    for key, values in swept.items():
        if not values:
            raise ConfigError(key, "the swept range is empty")
    first = [f"{k}={v[0]}" for k, v in swept.items()]
    base = [f"sweep={name}", *plain]
    # Every value on its own, then every combination of the keys whose validity can depend on
    # one another (replicates, seeds and the budget cannot), so a pair such as start_hour=600
    # with end_hour=500 fails here rather than as one failed point in the middle of the sweep.
    linked = {k: v for k, v in swept.items() if k not in INDEPENDENT_KEYS and len(v) > 1}
    n_combos = math.prod(len(v) for v in linked.values()) if len(linked) > 1 else 0
    check_combos = 0 < n_combos <= MAX_CHECKED_COMBINATIONS
    if n_combos > MAX_CHECKED_COMBINATIONS:
        print(
            f"[sweep] {n_combos} combinations of {', '.join(linked)}: each value is checked, "
            "combinations are not (a bad pair fails as one point)",
            file=sys.stderr,
        )

    try:
        load([*base, *first], command_line=False)
        for key, values in swept.items():
            others = [f for f in first if not f.startswith(f"{key}=")]
            for v in values[1:]:
                load([*base, *others, f"{key}={v}"])
        fixed = [f for f in first if f.split("=", 1)[0] not in linked]
        if check_combos:
            print(
                f"[sweep] checking {n_combos} combinations of {', '.join(linked)}", file=sys.stderr
            )
        for combo in itertools.product(*linked.values()) if check_combos else ():
            pairs = [f"{k}={v}" for k, v in zip(linked, combo, strict=True)]
            try:
                load([*base, *fixed, *pairs])
            except ConfigError as exc:
                where = " ".join(pairs)
                raise ConfigError(exc.key, f"{exc.message} (with {where})") from None
    except ConfigError:
        raise
    except Exception as exc:
        raise translate(exc) from None
    return swept, plain


def sweep_command(argv: list[str]) -> int:
    """``distillsim sweep``: validate, run the multirun, print the sweep folder last."""
    import hydra
    from hydra.core.global_hydra import GlobalHydra

    from sim.configuration import CONFIG_DIR, register_configs
    from sim.experiments.cluster import connect, launcher_init
    from sim.validation import check_overrides

    name, overrides = _parse(argv)
    check_overrides([o for o in overrides if "," not in o.split("=", 1)[-1]], allow_repeats=False)
    swept, _plain = prevalidate(name, overrides)
    n = math.prod(len(v) for v in swept.values()) if swept else 1
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
    results = _results_dir(overrides)
    folder = results / "sweeps" / name / stamp
    print(f"[sweep] {name}: {n} points into {folder}", file=sys.stderr)
    register_configs()
    # Absolute paths: jobs on other processes or machines may not share the working directory.
    absolute = [o for o in overrides if not o.startswith("output.results_dir=")]
    absolute.append(f"output.results_dir={results.resolve()}")
    # Written under <stamp>.partial and renamed once aggregated, so an interrupted sweep never
    # looks finished; its finished points are in the cache and a rerun reuses them.
    partial = folder.with_name(folder.name + PARTIAL)
    args = ["--multirun", f"sweep={name}", *absolute, f"hydra.sweep.dir={partial.resolve()}"]
    ray_init = launcher_init(overrides)
    if ray_init is not None:
        # Connected here, so Hydra's launcher finds Ray running and passes none of its defaults
        # (an object-store size an existing cluster refuses; no token mode).
        connect(ray_init.pop("address", None), **ray_init)
    saved = sys.argv
    sys.argv = ["distillsim-sweep", *args]
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    try:
        hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(
            run_point
        )()
    except KeyboardInterrupt:
        print(
            f"[sweep] interrupted: the points finished so far are cached; run the same command "
            f"again to finish (they are not recomputed). Incomplete folder: {partial}",
            file=sys.stderr,
        )
        raise
    except WriteFailed as failed:
        print(
            f"[sweep] could not write the results; the points finished are cached and the "
            f"same command finishes the sweep once there is room. Incomplete folder: {partial}",
            file=sys.stderr,
        )
        raise failed.error from None
    finally:
        sys.argv = saved
    partial.rename(folder)
    print(folder)
    return 0


def _results_dir(overrides: list[str]) -> Path:
    for o in overrides:
        if o.startswith("output.results_dir="):
            return Path(o.split("=", 1)[1])
    return Path("results")
