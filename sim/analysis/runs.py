"""A sweep's runs table: ``runs.parquet`` (one row per run) and ``sweep.json`` (provenance).

:func:`aggregate` writes both and then the report (:mod:`sim.analysis.report`), which derives
everything else from those two files alone.
"""

from __future__ import annotations

import functools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

B = "detection_budget_usd_per_day"
BUDGET_KEY = "detection.budget_usd_per_day"
CURVE_METRICS = [
    "capability_extracted",
    "delay_days_50pct_vs_undefended",
    "delay_days_80pct_vs_undefended",
    "days_to_50pct_of_undefended",
    "days_to_50pct_of_final_capability",
    "capability_days",
    "defender_total_cost_usd",
    "detection_spend_usd",
    "detection_unspent_usd",
    "attacker_traffic_net_usd",
    "defender_cost_with_leak_usd",
    "attacker_net_value_usd",
    "attacker_spend_usd",
    "legit_accounts_banned",
    "legit_accounts_acted_on",
    "false_positive_cost_usd",
    "legit_user_cost_usd",
    "legit_user_cost_false_actions_usd",
    "legit_user_cost_kyc_friction_usd",
    "legit_user_cost_rate_limits_usd",
    "legit_user_cost_poisoned_output_usd",
    "teacher_lead_months_erased",
    "exchanges_harvested",
    "attribution_hours",
    "attribution_probability",
    "first_detection_hours",
]

#: Times to an event that may never happen in a run (None there): their means are over the runs
#: that reached it, so the tables carry the share of runs that did (``<metric>_reached``).
EVENT_METRICS = [
    "days_to_50pct_of_undefended",
    "days_to_50pct_of_final_capability",
    "attribution_hours",
    "first_detection_hours",
]

#: What the headline capability is, by ``analysis.headline`` (an operator's name otherwise).
HEADLINE_LABELS = {"max": "largest operator's", "total": "summed over operators"}


def headline_label(df: pd.DataFrame) -> str:
    """How the tables and figures name the headline capability of these runs."""
    if "headline" not in df or df["headline"].dropna().empty:
        return ""
    modes = sorted({str(v) for v in df["headline"].dropna()})
    ops = {
        c.split(".")[1] for c in df if c.startswith("op.") and c.endswith(".capability_extracted")
    }
    if len(ops) <= 1 and modes == ["max"]:
        return ""  # one operator: nothing to choose
    return ", ".join(HEADLINE_LABELS.get(m, f"operator {m}") for m in modes)


#: First parts of swept keys that set the world rather than the defender's choices.
WORLD_PREFIXES = frozenset(
    {"attacker", "operators", "teacher", "legit", "capability", "world", "seed", "replicate"}
)


def flatten(summary: dict[str, Any]) -> dict[str, Any]:
    """One flat row of scalars from a run summary."""
    row: dict[str, Any] = {}
    for k, v in summary.items():
        if isinstance(v, dict):
            continue
        row[k] = v
    for d, v in (summary.get("capability_by_domain") or {}).items():
        row[f"capability_{d}"] = v
    for name, o in (summary.get("operators") or {}).items():
        for k, v in o.items():
            if not isinstance(v, dict | list):
                row[f"op.{name}.{k}"] = v
    for name, d in (summary.get("detectors") or {}).items():
        for k, v in d.items():
            row[f"det.{name}.{k}"] = v
    br = summary.get("best_response")
    if br:
        # The levers the run played and what the search expected of them (its trajectory stays
        # in the run's summary.json and the search cache).
        for k, v in br["levers"].items():
            if isinstance(v, dict):
                for n, w in v.items():
                    row[f"br.{k}.{n}"] = w
            else:
                row[f"br.{k}"] = v
        row["br.train_net_value_usd"] = br["train_net_value_usd"]
        row["br.fixed_train_net_value_usd"] = br["fixed_train_net_value_usd"]
        row["br.at_bounds"] = ",".join(br.get("at_bounds") or [])
    return row


def aggregate(folder: Path, rows: list[dict[str, Any]], sweep_config=None) -> Path:
    """Write runs.parquet and sweep.json for the sweep in ``folder``, then its report."""
    from omegaconf import OmegaConf

    from sim.provenance import config_hash, git_revision, versions

    folder = Path(folder)
    records, swept_keys = [], []
    for r in rows:
        rec: dict[str, Any] = {}
        for k, v in (r.get("swept") or {}).items():
            rec[k] = v
            if k not in swept_keys:
                swept_keys.append(k)
        rec["job"] = r.get("job")
        rec["error"] = r.get("error")
        rec["cached"] = bool(r.get("cached", False))
        if r.get("summary"):
            s = flatten(r["summary"])
            for k, v in s.items():
                if k not in rec:
                    rec[k] = v
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    if "replicate" not in df:
        df["replicate"] = 0
    if "seed" not in df:
        df["seed"] = np.nan
    for k in swept_keys:  # typed columns: numbers where every value is a number
        conv = pd.to_numeric(df[k], errors="coerce")
        if conv.notna().sum() == df[k].notna().sum():
            df[k] = conv
        elif df[k].dropna().map(type).nunique() > 1:  # e.g. True next to 'maybe': one type
            df[k] = df[k].map(lambda v: v if v is None or v != v else str(v))
    df = df.sort_values([c for c in ["job"] if c in df]).reset_index(drop=True)
    df.to_parquet(folder / "runs.parquet", index=False)
    # Keys set on every job but to one value are settings, not swept dimensions.
    swept_keys = [k for k in swept_keys if k == "replicate" or df[k].nunique(dropna=False) > 1]
    meta: dict[str, Any] = {
        "swept_keys": swept_keys,
        "points": len(df),
        "errors": int(df["error"].notna().sum()),
    }
    if sweep_config is not None:
        tree = OmegaConf.to_container(sweep_config, resolve=False)
        tree.pop("hydra", None)
        # The grid lives in Hydra's sweeper settings: hash it with the base config, so two
        # sweeps share a hash only if they ran the same points.
        from sim.experiments.sweeps import split_overrides

        params = sweep_config.hydra.sweeper.get("params") or {}
        # Unresolved: str() on the node would resolve a tied override's ``${a}`` against the
        # base config and report the tie as one fixed (and wrong) value.
        task = [str(o) for o in OmegaConf.to_container(sweep_config.hydra.overrides.task)]
        task = [o for o in task if not o.startswith(("output.", "sweep="))]
        grid, settings = split_overrides(task, {str(k): str(v) for k, v in params.items()})
        tree["grid"] = {k: [str(v) for v in vals] for k, vals in grid.items()}
        tree["settings"] = settings
        # A setting that interpolates a swept key (b=${a}) takes a value per point: it is swept,
        # tied to its source, not fixed.
        tied = tied_keys(settings, list(grid), [k for k in swept_keys if k != "replicate"])
        settings = [o for o in settings if o.split("=", 1)[0].lstrip("+~") not in tied]
        meta["tied"] = tied
        choices = sweep_config.hydra.runtime.get("choices") or {}
        meta["scenario"] = str(choices.get("scenario", ""))
        meta["grid"], meta["settings"] = tree["grid"], settings  # the tied ones are not fixed
        meta.update(
            name=str(sweep_config.sweep.name),
            kind=str(sweep_config.sweep.kind),
            description=str(sweep_config.sweep.description),
            root_seed=int(sweep_config.seed),
            config_hash=config_hash(tree),
            launcher=str(sweep_config.hydra.launcher._target_),
        )
    meta.update(versions=versions(), git=git_revision())
    (folder / "sweep.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    from sim.analysis.report import report

    report(folder)
    return folder


_INTERPOLATION = re.compile(r"\$\{([^}:]+)\}")


def tied_keys(settings: list[str], grid: list[str], varying: list[str]) -> dict[str, list[str]]:
    """Settings that are not fixed: key -> the swept keys its value interpolates (``b=${a}``).

    ``varying``: the keys whose values differ between the points; a setting among them that
    names no swept key is tied to the grid as a whole (``["the grid"]``)."""
    out: dict[str, list[str]] = {}
    for o in settings:
        if "=" not in o:
            continue
        key, value = o.split("=", 1)
        key = key.lstrip("+~")
        sources = [k for k in _INTERPOLATION.findall(value) if k.strip() in grid]
        if sources:
            out[key] = [k.strip() for k in sources]
        elif key in varying:
            out[key] = ["the grid"]
    return out


def with_ties(meta: dict) -> dict:
    """``meta`` with its tied keys (``meta["tied"]``) out of its settings, also for a sweep.json
    written before ties were recorded (a setting among the swept keys is then tied to the grid)."""
    varying = [k for k in meta.get("swept_keys", []) if k != "replicate"]
    tied = meta.get("tied")
    if tied is None:
        tied = tied_keys(meta.get("settings") or [], list(meta.get("grid") or {}), varying)
    settings = [
        o for o in meta.get("settings") or [] if o.split("=", 1)[0].lstrip("+~") not in tied
    ]
    return {**meta, "tied": tied, "settings": settings}


def swept_groups(df: pd.DataFrame, meta: dict) -> list[str]:
    """The swept keys that split the runs into groups (not the budget, replicates, seeds, nor a
    key tied to another swept key: it splits nothing further)."""
    tied = meta.get("tied") or {}
    return [
        k
        for k in meta.get("swept_keys", [])
        if k not in (BUDGET_KEY, "replicate", "seed")
        and k in df
        and df[k].nunique() > 1
        and not (k in tied and set(tied[k]) <= set(meta.get("swept_keys", [])))
    ]


def short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key's shortest suffix that no other key in ``keys`` ends with
    (``capability.domains.x.n_half`` next to ``….y.n_half`` -> ``x.n_half``, ``y.n_half``)."""
    out = {}
    for k in keys:
        parts = k.split(".")
        others = [o.split(".") for o in keys if o != k]
        for n in range(1, len(parts) + 1):
            if all(o[-n:] != parts[-n:] for o in others):
                break
        out[k] = ".".join(parts[-n:])
    return out


def option_label(key: str, value: Any) -> str:
    """A value as tables show it: a policy package by the options it composes
    (``kyc_mandate + sanctions``), anything else as it is."""
    if key == "policy" and isinstance(value, str):
        return " + ".join(package_parts(value))
    return str(value)


@functools.cache
def package_parts(option: str, group: str = "policy") -> tuple[str, ...]:
    """The options a package option of ``group`` composes through its defaults list (itself if
    it is not a package; nested packages expanded; unknown options as they are)."""
    from omegaconf import OmegaConf

    from sim.configuration import CONFIG_DIR

    path = CONFIG_DIR / group / f"{option}.yaml"
    if not path.is_file():
        return (option,)
    defaults = OmegaConf.to_container(OmegaConf.load(path)).get("defaults") or []
    parts: list[str] = []
    for d in defaults:
        if isinstance(d, str) and d != "_self_" and "/" not in d and ":" not in d:
            parts += [p for p in package_parts(d, group) if p not in parts]
    return tuple(parts) or (option,)


def label(keys: list[str], values) -> str:
    """A group's label: each key by its shortest distinguishing suffix, with its value."""
    if not keys:
        return "all"
    values = values if isinstance(values, tuple) else (values,)
    names = short_names(list(keys))
    return ", ".join(f"{names[k]}={option_label(k, v)}" for k, v in zip(keys, values, strict=True))


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def natural_key(value: Any) -> tuple:
    """Sort key reading numbers as numbers, also inside labels: "n=2" before "n=10", "1e5"
    before "1e6"; a tuple key sorts field by field."""
    if isinstance(value, tuple):
        return tuple(natural_key(v) for v in value)
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        v = float(value)
        return ((2, 0.0, ""),) if math.isnan(v) else ((1, v, ""),)
    text, out, at = str(value), [], 0
    for m in _NUMBER.finditer(text):
        if m.start() > at:
            out.append((0, 0.0, text[at : m.start()]))
        out.append((1, float(m.group()), ""))
        at = m.end()
    if at < len(text) or not out:
        out.append((0, 0.0, text[at:]))
    return tuple(out)


def natural_order(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``df`` sorted by ``keys``, numbers numerically even where a column holds strings."""
    if df.empty or not keys:
        return df
    order = sorted(range(len(df)), key=lambda i: tuple(natural_key(df[k].iloc[i]) for k in keys))
    return df.iloc[order].reset_index(drop=True)


def world_keys(groups: list[str]) -> list[str]:
    """Swept keys that describe the world (the attacker, the teacher…), not a defender choice."""
    return [k for k in groups if k == "scenario" or k.split(".")[0] in WORLD_PREFIXES]
