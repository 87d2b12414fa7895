"""A sweep's runs table: ``runs.parquet`` (one row per run) and ``sweep.json`` (provenance).

:func:`aggregate` writes both and then the report (:mod:`sim.analysis.report`), which derives
everything else from those two files alone.
"""

from __future__ import annotations

import json
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
        task = [str(o) for o in sweep_config.hydra.overrides.task]
        task = [o for o in task if not o.startswith(("output.", "sweep="))]
        grid, settings = split_overrides(task, {str(k): str(v) for k, v in params.items()})
        tree["grid"] = {k: [str(v) for v in vals] for k, vals in grid.items()}
        tree["settings"] = settings
        choices = sweep_config.hydra.runtime.get("choices") or {}
        meta["scenario"] = str(choices.get("scenario", ""))
        meta["grid"], meta["settings"] = tree["grid"], tree["settings"]
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


def swept_groups(df: pd.DataFrame, meta: dict) -> list[str]:
    return [
        k
        for k in meta.get("swept_keys", [])
        if k not in (BUDGET_KEY, "replicate", "seed") and k in df and df[k].nunique() > 1
    ]


def label(keys: list[str], values) -> str:
    if not keys:
        return "all"
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values, strict=True))


def world_keys(groups: list[str]) -> list[str]:
    """Swept keys that describe the world (the attacker, the teacher…), not a defender choice."""
    return [k for k in groups if k == "scenario" or k.split(".")[0] in WORLD_PREFIXES]
