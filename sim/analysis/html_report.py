"""A results folder as one self-contained ``report.html`` (issue #12).

:func:`write_html` renders a run, sweep or study folder from its files alone: figures embedded as
base64 PNGs, the folder's tables, takeaways computed from the data with what their intervals
cover, an assumptions table (every resolved parameter with its value, source and [E] flag) and
provenance. :func:`write_compare` renders two folders of one kind side by side. Nothing in the
page is loaded from outside the file.
"""

from __future__ import annotations

import ast
import base64
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from sim.analysis.runs import option_label, with_ties
from sim.analysis.stats import mean_ci
from sim.analysis.style import money

CAP = "capability_extracted"
NET = "attacker_net_value_usd"
LEGIT = "legit_user_cost_usd"
B = "detection_budget_usd_per_day"
#: Headline figures compared by ``report A B`` (those present in both folders).
HEADLINES = [
    CAP,
    "delay_days_50pct_vs_undefended",
    "defender_total_cost_usd",
    LEGIT,
    NET,
    "attribution_probability",
    "exchanges_harvested",
    "accounts_banned",
]


@dataclass
class Takeaway:
    """One sentence computed from the data and the figure or table it rests on."""

    text: str
    figure: str


# --------------------------------------------------------------------------- folder kinds
def folder_kind(folder: Path) -> str:
    """``run``, ``sweep`` or ``study``; ConfigError naming what ``folder`` is otherwise."""
    from sim.validation import ConfigError

    folder = Path(folder)
    if not folder.exists():
        raise ConfigError("report", f"{folder} does not exist")
    if folder.name.endswith(".partial"):
        raise ConfigError(
            "report",
            f"{folder} is an interrupted sweep or study: run its command again to finish it "
            "(finished points come from the cache)",
        )
    if not folder.is_dir():
        raise ConfigError("report", f"{folder} is a file, not a results folder")
    if (folder / "runs.parquet").is_file() and (folder / "sweep.json").is_file():
        return "sweep"
    if (folder / "samples.parquet").is_file() and (folder / "manifest.json").is_file():
        return "study"
    if (folder / "summary.json").is_file() and (folder / "config.yaml").is_file():
        return "run"
    inner = _finished_inside(folder)
    if inner:
        kinds = sorted({k for k, _ in inner})
        kind, latest = max(inner, key=lambda kp: kp[1].name)
        raise ConfigError(
            "report",
            f"{folder} holds {' and '.join(k + ' folders' for k in kinds)}, not one; the latest "
            f"finished {kind} inside is {latest}",
        )
    raise ConfigError(
        "report",
        f"{folder} is not a run, sweep or study folder (no summary.json + config.yaml, "
        "runs.parquet + sweep.json, or samples.parquet + manifest.json)",
    )


MARKERS = {"sweep": "sweep.json", "study": "samples.parquet", "run": "summary.json"}


def _finished_inside(folder: Path) -> list[tuple[str, Path]]:
    """Finished run, sweep and study folders up to three levels below ``folder``."""
    found = []
    for depth in ("*", "*/*", "*/*/*"):
        for kind, marker in MARKERS.items():
            for p in folder.glob(f"{depth}/{marker}"):
                top = p.parent
                if top.name.endswith(".partial") or top.name.startswith("."):
                    continue
                if kind == "run" and (top.parent / "sweep.json").is_file():
                    continue  # a sweep's point folder
                found.append((kind, top))
    return found


# --------------------------------------------------------------------------- assumptions
def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf keys of a nested dict as dotted paths (lists kept as values)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: tree}


def _schema_comments() -> dict[str, dict[str, tuple[str, str]]]:
    """Class name -> field -> (annotation, ``#:`` comment) from sim/parameters.py."""
    import sim.parameters as params

    src = Path(params.__file__).read_text()
    lines = src.splitlines()
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for node in ast.parse(src).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields: dict[str, tuple[str, str]] = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                comment = []
                i = item.lineno - 2
                while i >= 0 and lines[i].strip().startswith("#:"):
                    comment.insert(0, lines[i].strip()[2:].strip())
                    i -= 1
                fields[item.target.id] = (ast.unparse(item.annotation), " ".join(comment))
        out[node.name] = fields
    return out


def _schema_comment(key: str, schema: dict[str, dict[str, tuple[str, str]]]) -> str:
    """The parameter schema's comment on ``key`` ('' when it has none)."""
    cls: str | None = "Config"
    parts = key.split(".")
    i = 0
    while i < len(parts) and cls in schema:
        field = schema[cls].get(parts[i])
        if field is None:
            return ""
        ann, comment = field
        if i == len(parts) - 1:
            return comment
        m = re.fullmatch(r"dict\[str, (\w+)\]", ann)
        if m:
            cls, i = m.group(1), i + 2  # skip the entry's name
            if i == len(parts):
                return ""
            continue
        cls = ann.split(" |")[0]
        i += 1
    return ""


def _yaml_comments(path: Path) -> dict[str, str]:
    """Dotted key -> trailing or preceding comment of a YAML file (block style only)."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if not line.strip():
            pending = []
            continue
        if line.lstrip().startswith("#"):
            pending.append(line.strip().lstrip("#").strip())
            continue
        m = re.match(r"^(\s*)([A-Za-z_][\w\-]*):(.*)$", line)
        if not m:
            pending = []
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        dotted = ".".join(k for _, k in stack)
        comment = ""
        if "#" in rest and not rest.strip().startswith(("'", '"')):
            comment = rest.split("#", 1)[1].strip()
        elif pending and rest.strip():
            comment = " ".join(pending)
        if comment:
            out[dotted] = comment
        pending = []
    return out


def assumptions(
    resolved: dict[str, Any],
    set_by: dict[str, str],
    priors: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every parameter of the resolved config with its value, source and [E] flag.

    Sources, first found: ``set_by`` (the command line or the sweep grid), the study's priors,
    the scenario's calibration fit, the scenario file's comment, the comment of the config
    group file that sets this value (its own line, else the file's header), the parameter
    schema's comment; otherwise "not recorded"."""
    import yaml

    from sim.configuration import SCENARIO_DIR

    tree = {k: v for k, v in resolved.items() if k not in ("output", "hydra")}
    scen = (tree.get("scenario") or {}).get("name") or ""
    flat = {k: v for k, v in _flatten(tree).items() if not k.startswith("scenario.")}
    scen_file = SCENARIO_DIR / f"{scen}.yaml"
    scen_comments = _yaml_comments(scen_file) if scen_file.is_file() else {}
    scen_values = (
        _flatten(yaml.safe_load(scen_file.read_text()) or {}) if scen_file.is_file() else {}
    )
    fitted = {
        f.get("key"): f.get("note", "")
        for f in ((tree.get("scenario") or {}).get("calibration") or {}).get("fitted") or []
    }
    prior_of: dict[str, dict[str, Any]] = {}
    for p in priors or []:
        for k in str(p.get("keys", "")).split(","):
            if k.strip():
                prior_of[k.strip()] = p
    schema = _schema_comments()
    group_sources = _group_sources()
    rows = []
    for key in sorted(flat):
        value = flat[key]
        if key in prior_of:
            p = prior_of[key]
            src = (
                f"sampled: prior {p['factor']} ({p.get('dist')} {p.get('low')}-{p.get('high')}, "
                f"{p.get('apply')}); {p.get('source') or 'source not recorded'}"
            )
            rows.append(
                {"key": key, "value": f"{value} (base)", "source": src, "estimate": "[E]" in src}
            )
            continue
        if key in set_by:
            src = set_by[key]
        elif key in fitted:
            src = f"fitted to the disclosed figures (scenario.calibration; {fitted[key]})"
        elif key in scen_comments:
            src = f"scenarios/{scen}.yaml: {scen_comments[key]}"
        elif key in scen_values and _same(scen_values[key], value):
            src = f"scenarios/{scen}.yaml (no comment on this key)"
        elif src := next((n for v, n in group_sources.get(key, []) if _same(v, value)), ""):
            pass
        elif comment := _schema_comment(key, schema):
            src = f"sim/parameters.py default: {comment}"
        else:
            src = "not recorded"
        rows.append({"key": key, "value": _short(value), "source": src, "estimate": "[E]" in src})
    return rows


def _same(a: Any, b: Any) -> bool:
    """A group file's value and the resolved one are the same (ints and floats alike; PyYAML
    reads ``3.0e4`` as text where OmegaConf reads a float)."""
    a, b = _number(a), _number(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
    return a == b


def _number(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _group_sources() -> dict[str, list[tuple[Any, str]]]:
    """Dotted key -> [(value, source), ...] from ``configs/config.yaml`` and the group files
    under ``configs/``: the key's own comment, else the file's comment that names the key, else
    the file's header line. A key that several options of a group set is listed with the
    default option (``configs/config.yaml``'s defaults) first; the caller takes the first whose
    value is the one resolved."""
    import yaml

    from sim.configuration import CONFIG_DIR

    primary = CONFIG_DIR / "config.yaml"
    defaults: set[str] = set()
    for entry in (yaml.safe_load(primary.read_text()) or {}).get("defaults", []):
        if isinstance(entry, dict):
            for group, option in entry.items():
                options = option if isinstance(option, list) else [option]
                defaults |= {f"{group.split()[-1]}/{o}" for o in options if o}
    groups = sorted(
        CONFIG_DIR.glob("*/*.yaml"), key=lambda f: f"{f.parent.name}/{f.stem}" not in defaults
    )
    out: dict[str, list[tuple[Any, str]]] = {}
    for f in [primary, *groups]:
        text = f.read_text()
        top = f == primary or "# @package _global_" in text
        prefix = "" if top else f"{f.parent.name}."
        notes = [
            ln.strip().lstrip("#").strip()
            for ln in text.splitlines()
            if ln.strip().startswith("#") and "@package" not in ln
        ]
        comments = _yaml_comments(f)
        name = f.relative_to(CONFIG_DIR.parent).as_posix()
        for key, value in _flatten(yaml.safe_load(text) or {}).items():
            leaf = key.rsplit(".", 1)[-1]
            note = comments.get(key) or _note_naming(notes, leaf)
            if not note and f != primary and notes:
                note = notes[0]
            if note:
                out.setdefault(f"{prefix}{key}", []).append((value, f"{name}: {note}"))
    return out


def _note_naming(notes: list[str], leaf: str) -> str:
    """The comment that starts with ``leaf:`` and the lines continuing it (up to the next line
    that starts another ``name:``)."""
    for i, line in enumerate(notes):
        if line.startswith(f"{leaf}:"):
            block = [line]
            for more in notes[i + 1 :]:
                if re.match(r"^[A-Za-z_][\w.]*:", more):
                    break
                block.append(more)
            return " ".join(block)
    return ""


def _short(v: Any) -> str:
    text = json.dumps(v, default=str) if isinstance(v, list | dict) else str(v)
    return text if len(text) <= 120 else text[:117] + "..."


def keys_set_by(overrides: list[str], label: str) -> dict[str, str]:
    """Each key an override list sets -> ``label`` (where its value came from)."""
    return {o.split("=", 1)[0].lstrip("+~"): label for o in overrides if "=" in o}


# --------------------------------------------------------------------------- pieces
def _figures(folder: Path) -> list[dict[str, str]]:
    """The folder's PNGs as data URIs, each with the caption written beside it (if any)."""
    out = []
    # The headline figure first (the capability curve or band), then the rest by name.
    first = ("curve.png", "curve_bands.png", "capability_by_domain.png")
    for p in sorted(folder.glob("*.png"), key=lambda p: (p.name not in first, p.name)):
        data = base64.b64encode(p.read_bytes()).decode()
        side = p.with_name(f"{p.stem}.caption.txt")
        caption = side.read_text().strip() if side.is_file() else ""
        out.append({"name": p.name, "uri": f"data:image/png;base64,{data}", "caption": caption})
    return out


def _csv_tables(folder: Path) -> list[dict[str, str]]:
    out = []
    for p in sorted(folder.glob("*.csv")):
        df = pd.read_csv(p)
        out.append(
            {
                "title": p.name,
                "note": f"{len(df)} rows" + (" (first 200 shown)" if len(df) > 200 else ""),
                "html": df.head(200).to_html(index=False, float_format=_num, na_rep="n/a"),
            }
        )
    return out


def _num(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _ci(m: float, lo: float, hi: float, fmt=_num) -> str:
    if not np.isfinite(m):
        return "n/a"
    return fmt(m) + (f" [{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) else "")


def _inline(text: str) -> str:
    """Escaped Markdown inline text: `code` and **bold** only (what summary.md uses)."""
    import html

    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def md_html(text: str) -> str:
    """summary.md as HTML: headings, paragraphs, bullet lists and pipe tables as real tables, so
    the page carries the same tables as summary.md. Images are left out (the page embeds every
    figure below) and every piece of text is escaped."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            head, body = rows[0], [r for r in rows[1:] if not set("".join(r)) <= set("-: ")]
            out.append(
                "<table><tr>"
                + "".join(f"<th>{_inline(c)}</th>" for c in head)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body
                )
                + "</table>"
            )
            rows.clear()

    for line in text.splitlines():
        stripped = line.strip()
        kind = (
            "row"
            if stripped.startswith("|")
            else "item"
            if stripped.startswith("- ")
            else "head"
            if stripped.startswith("#")
            else "blank"
            if not stripped or stripped.startswith("![")
            else "text"
        )
        if (kind != "row" and rows) or (kind != "item" and items) or kind in ("head", "blank"):
            flush()
        if kind == "row":
            rows.append([c.strip() for c in stripped.strip("|").split("|")])
        elif kind == "item":
            if para:
                flush()
            items.append(stripped[2:])
        elif kind == "head":
            level = min(len(stripped) - len(stripped.lstrip("#")) + 2, 6)
            out.append(f"<h{level}>{_inline(stripped.lstrip('#').strip())}</h{level}>")
        elif kind == "text":
            if items:  # a continuation line of the last item
                items[-1] += " " + stripped
            else:
                para.append(stripped)
    flush()
    return "\n".join(out)


def _provenance(meta: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [
        "scenario",
        "seed",
        "root_seed",
        "config_hash",
        "command",
        "created_utc",
        "launcher",
        "assumption values",
    ]
    out = [(k, str(meta[k])) for k in keys if k in meta]
    for k in ("versions", "git"):
        if k in meta:
            out.append((k, json.dumps(meta[k])))
    return out


# --------------------------------------------------------------------------- takeaways
def sweep_takeaways(df: pd.DataFrame, groups: list[str]) -> tuple[list[Takeaway], list[str]]:
    """Takeaways of a sweep's runs table, and the statements omitted with why."""
    from sim.analysis.breakeven import breakeven_rows
    from sim.analysis.runs import label

    ok = df[df["error"].isna()] if "error" in df else df
    says: list[Takeaway] = []
    omitted: list[str] = []
    if ok.empty or B not in ok:
        return says, ["no run succeeded"]
    budgets = sorted(ok[B].unique())
    reps = ok["replicate"].nunique() if "replicate" in ok else 1
    parts = ok.groupby(groups, sort=True) if groups else [((), ok)]
    for key, g in parts:
        name = label(groups, key)
        where = "" if not groups else f" ({name})"
        if len(budgets) < 2:
            omitted.append(f"where more detection stops helping{where}: one budget only")
        elif reps < 2:
            omitted.append(f"where more detection stops helping{where}: one replicate only")
        else:
            says += _plateau(g, where)
    for r in breakeven_rows(df, groups):
        where = "" if r["group"] == "all" else f" ({r['group']})"
        top = money(r["largest_budget"])
        if len(budgets) < 2:
            omitted.append(f"the attacker's break-even budget{where}: one budget only")
        elif r["status"] == "above":
            says.append(
                Takeaway(
                    f"The attacker's campaign pays at every budget tried{where}, up to "
                    f"{top}/day (mean net value over {reps} replicates above 0 at each; seed "
                    "noise only).",
                    "breakeven.csv, breakeven_vs_value.png",
                )
            )
        elif r["status"] == "below":
            says.append(
                Takeaway(
                    f"The attacker's campaign does not pay at any budget tried{where}, even B = "
                    f"{money(budgets[0])}/day.",
                    "breakeven.csv",
                )
            )
        else:
            rng = (
                f" (2.5th-97.5th percentile of {r.get('replicates_found', reps)} replicates' own "
                f"break-evens: {money(r['replicate_low'])}-{money(r['replicate_high'])}; seed "
                "noise only)"
                if r["replicate_low"] is not None
                else ""
            )
            says.append(
                Takeaway(
                    f"The attacker's campaign stops paying at ≈{money(r['break_even_usd_per_day'])}"
                    f"/day{where}{rng}.",
                    "breakeven.csv, breakeven_vs_value.png",
                )
            )
    if "policy" in groups:
        says += _policies(ok, [k for k in groups if k != "policy"], reps)
    return says, omitted


def _plateau(g: pd.DataFrame, where: str) -> list[Takeaway]:
    """The smallest budget from which every budget's capability is within seed noise of the
    largest budget's (paired by replicate)."""
    by = g.groupby(["replicate", B])[CAP].mean().unstack(B)
    budgets = list(by.columns)
    top = budgets[-1]
    gaps = {b: mean_ci((by[b] - by[top]).to_numpy()) for b in budgets[:-1]}
    for i, b in enumerate(budgets[:-1]):
        m, lo, hi, n = gaps[b]
        # every budget from b up is within seed noise of the largest (not only b itself)
        if all(gaps[c][3] >= 2 and gaps[c][1] <= 0 for c in budgets[i:-1]):
            if b == budgets[0]:
                return [
                    Takeaway(
                        f"Detection spend makes no clear difference{where}: capability leaked at "
                        f"{money(b)}/day is within seed noise of {money(top)}/day (paired gap "
                        f"{_ci(m, lo, hi)}; seed noise only, {n} replicates).",
                        "curve.png, curve.csv",
                    )
                ]
            return [
                Takeaway(
                    f"Above ≈{money(b)}/day more detection buys no further clear reduction{where}: "
                    f"capability leaked there exceeds that at {money(top)}/day by "
                    f"{_ci(m, lo, hi)} (paired by replicate; seed noise only, {n} replicates; "
                    "the interval includes 0).",
                    "curve.png, curve.csv",
                )
            ]
    m, lo, hi, n = mean_ci((by[budgets[-2]] - by[top]).to_numpy())
    return [
        Takeaway(
            f"Capability leaked still falls at the largest budget tried{where}: "
            f"{money(budgets[-2])}/day leaks {_ci(m, lo, hi)} more than {money(top)}/day "
            f"(paired; seed noise only, {n} replicates).",
            "curve.png, curve.csv",
        )
    ]


def _policies(ok: pd.DataFrame, others: list[str], reps: int) -> list[Takeaway]:
    out: list[Takeaway] = []
    if "baseline" not in set(ok["policy"]):
        return out
    for key, g in ok.groupby([*others, B], sort=True):
        idx = g.set_index(["replicate", "policy"])
        for pol in sorted(set(g["policy"]) - {"baseline"}):
            cut = idx[CAP].xs("baseline", level="policy") - idx[CAP].xs(pol, level="policy")
            m, lo, hi, n = mean_ci(cut.dropna().to_numpy())
            if n < 1:
                continue
            text = f"At {money(float(key[-1] if isinstance(key, tuple) else key))}/day, "
            text += (
                f"policy {option_label('policy', pol)} cuts the leak by "
                f"{_ci(m, lo, hi, lambda x: f'{x:.4f}')}"
            )
            if LEGIT in idx:
                extra = idx[LEGIT].xs(pol, level="policy") - idx[LEGIT].xs(
                    "baseline", level="policy"
                )
                lm, llo, lhi, _ = mean_ci(extra.dropna().to_numpy())
                text += f" at a cost of {_ci(lm, llo, lhi, money)} to legitimate users"
            text += f" (against baseline, paired by replicate; seed noise only, {n} replicates)."
            out.append(Takeaway(text, "summary.md: policies at matched budgets"))
    return out


def run_takeaways(s: dict[str, Any]) -> list[Takeaway]:
    """Takeaways of one run's summary.json (one seed: no interval)."""
    lead = s.get("teacher_lead_months_erased")
    out = [
        Takeaway(
            f"The attacker extracted {s[CAP]:.4f} of the teacher-student gap in {s['days']} days "
            f"at B = {money(s['detection_budget_usd_per_day'])}/day"
            + (
                ""
                if lead is None
                else f", ≈{lead:.2f} months of the teacher's {s['teacher_lead_months']:g}-month "
                "lead over open-weight models"
            )
            + ".",
            "summary.json: capability_extracted"
            + ("" if lead is None else ", teacher_lead_months_erased")
            + "; capability_by_domain.png",
        )
    ]
    net = s.get(NET)
    if net is not None:
        verb = "pays" if net > 0 else "does not pay"
        out.append(
            Takeaway(
                f"The campaign {verb} in this run: attacker net value {money(net)}.",
                "summary.json: attacker_net_value_usd",
            )
        )
    d = s.get("delay_days_50pct_vs_undefended")
    if d is not None:
        out.append(
            Takeaway(
                f"Detection delays the attacker's half-way point by {d:.2f} days against the same "
                "world and seed without detection.",
                "summary.json: delay_days_50pct_vs_undefended",
            )
        )
    return out


def study_takeaways(df: pd.DataFrame) -> tuple[list[Takeaway], list[str]]:
    """Takeaways over a study's sampled worlds, per detection budget."""
    ok = df[df["error"].isna()] if "error" in df else df
    out: list[Takeaway] = []
    omitted: list[str] = []
    if ok.empty:
        return out, ["no run succeeded"]
    worlds = ok["sample"].nunique() if "sample" in ok else len(ok)
    for b, g in ok.groupby("budget", sort=True):
        cap = g[CAP].dropna().to_numpy()
        lo, med, hi = np.percentile(cap, [5, 50, 95])
        n = g["sample"].nunique() if "sample" in g else len(cap)
        out.append(
            Takeaway(
                f"At {money(float(b))}/day, capability leaked is {med:.4f} in the median sampled "
                f"world, {lo:.4f}-{hi:.4f} across 90% of the {len(cap)} sampled runs "
                f"(parameter uncertainty, {n} sampled worlds).",
                "samples.parquet: capability_extracted",
            )
        )
        if NET in g:
            pays = float((g[NET] > 0).mean())
            out.append(
                Takeaway(
                    f"At {money(float(b))}/day, the attacker's campaign pays in {pays:.0%} of the "
                    f"sampled runs (parameter uncertainty, {n} sampled worlds).",
                    "samples.parquet: attacker_net_value_usd",
                )
            )
    if worlds < 10:
        omitted.append(
            f"nothing beyond the sampled range: {worlds} worlds are too few for tail statements"
        )
    return out, omitted


# --------------------------------------------------------------------------- folders
def _load(folder: Path, kind: str) -> dict[str, Any]:
    """What a report needs from a folder: meta, resolved config, data, settings."""
    from omegaconf import OmegaConf

    if kind == "run":
        meta = json.loads((folder / "manifest.json").read_text())
        resolved = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
        summary = json.loads((folder / "summary.json").read_text())
        return {
            "meta": meta,
            "resolved": resolved,
            "summary": summary,
            "set_by": keys_set_by(meta.get("overrides", []), "set on the command line"),
            "priors": None,
        }
    if kind == "sweep":
        meta = with_ties(json.loads((folder / "sweep.json").read_text()))
        point = next(iter(sorted(folder.glob("*/.hydra/config.yaml"))), None)
        src = point if point is not None else folder / "multirun.yaml"
        resolved = {}  # a folder reduced to runs.parquet and sweep.json has no config to show
        if src.is_file():
            resolved = OmegaConf.to_container(OmegaConf.load(src), resolve=True)
            resolved.pop("hydra", None)
        set_by = keys_set_by(meta.get("settings", []), "set for every run of the sweep")
        for k, vals in (meta.get("grid") or {}).items():
            set_by[k] = f"swept: {', '.join(map(str, vals))} (value shown: point 0's)"
        for k, sources in (meta.get("tied") or {}).items():
            set_by[k] = f"swept: tied to {', '.join(sources)} (value shown: point 0's)"
        return {
            "meta": meta,
            "resolved": resolved,
            "runs": pd.read_parquet(folder / "runs.parquet"),
            "set_by": set_by,
            "priors": None,
        }
    meta = json.loads((folder / "manifest.json").read_text())
    resolved = _study_config(meta)
    meta["assumption values"] = resolved.pop("_recomposed", "not available")
    return {
        "meta": meta,
        "resolved": resolved,
        "samples": pd.read_parquet(folder / "samples.parquet"),
        "set_by": keys_set_by(meta.get("overrides", []), "set on the command line"),
        "priors": meta.get("priors") or [],
    }


def _study_config(meta: dict[str, Any]) -> dict[str, Any]:
    """A study's base config, recomposed from its recorded overrides (the hash is checked)."""
    from omegaconf import OmegaConf

    from sim.configuration import load
    from sim.provenance import config_hash

    world = [
        o
        for o in meta.get("overrides", [])
        if o.split("=", 1)[0].lstrip("+~").split(".")[0] not in ("study", "uncertainty")
    ]
    try:
        loaded = load(world)
    except Exception:  # configs changed since: no values rather than wrong ones
        return {}
    tree = OmegaConf.to_container(loaded.resolved, resolve=True)
    tree["_recomposed"] = (
        "identical to the study's (config hash matches)"
        if config_hash(loaded.resolved) == meta.get("config_hash")
        else "recomposed with the installed configs; the hash differs from the study's "
        "(the study's own base config includes its study and prior settings)"
    )
    return tree


def _render(context: dict[str, Any], differences: list[dict[str, str]] | None = None) -> str:
    """The page from its context (``differences``: the config differences of a comparison)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.analysis", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        differences=differences,
        **context,
    )


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def seed_noise_meaning(runs: pd.DataFrame) -> str:
    """What a sweep's intervals cover, with the actual number of replicates."""
    ok = runs[runs["error"].isna()] if "error" in runs else runs
    n = ok["replicate"].nunique() if "replicate" in ok else 1
    return (
        f"Intervals: seed noise only, {n} replicate{'s' if n != 1 else ''}. 95% Student-t "
        "intervals of the mean over the replicates (the randomness of one world's draws), paired "
        "by replicate where two settings are compared (replicate i shares its random streams "
        "across points). They do not cover parameter uncertainty: every run uses the same "
        "parameter values (see Assumptions). The break-even's bracket is the 2.5th-97.5th "
        "percentile of the replicates' own break-evens."
    )


def param_uncertainty_meaning(samples: pd.DataFrame) -> str:
    """What a study's ranges cover, with the actual number of sampled worlds."""
    ok = samples[samples["error"].isna()] if "error" in samples else samples
    sampled = ok[ok["world"] == "sampled"] if "world" in ok else ok
    n = sampled["sample"].nunique() if "sample" in sampled else len(sampled)
    return (
        f"Ranges: parameter uncertainty ({n} sampled worlds): percentiles over the sampled "
        "worlds, as encoded by the priors (see Assumptions: sampled keys). Seed noise within a "
        "world is not separated out."
    )


def write_html(folder: Path, kind: str | None = None) -> Path:
    """Write ``report.html`` into a run, sweep or study folder and return its path."""
    folder = Path(folder)
    kind = kind or folder_kind(folder)
    d = _load(folder, kind)
    omitted: list[str] = []
    tables: list[dict[str, str]] = []
    summary_md = ""
    if kind == "run" and len(d["summary"].get("providers") or []) > 1:
        from sim.validation import ConfigError

        raise ConfigError(
            "report",
            f"{folder} is a world of several labs: report.html is not built for it yet "
            "(docs/MODEL.md §12); its figure is providers.png and its figures are in "
            "summary.json beside it",
        )
    if kind == "run":
        says = run_takeaways(d["summary"])
        meaning = (
            "One run, one seed: no interval. Seed noise and parameter uncertainty are not "
            "measured here; run a sweep with replicates or a study for them."
        )
        omitted.append("where more detection stops helping, break-even: one budget only")
        scalars = {k: v for k, v in d["summary"].items() if isinstance(v, int | float | str)}
        tables.append(
            {
                "title": "Summary figures",
                "note": "docs/OUTPUTS.md says what each figure means.",
                "html": pd.DataFrame(
                    {"figure": list(scalars), "value": [_short(v) for v in scalars.values()]}
                ).to_html(index=False),
            }
        )
    elif kind == "sweep":
        from sim.analysis.runs import swept_groups

        groups = swept_groups(d["runs"], d["meta"])
        says, omitted = sweep_takeaways(d["runs"], groups)
        meaning = seed_noise_meaning(d["runs"])
        tables += _csv_tables(folder)
    else:
        says, omitted = study_takeaways(d["samples"])
        meaning = param_uncertainty_meaning(d["samples"])
        tables += _csv_tables(folder)
    if (folder / "summary.md").is_file():
        summary_md = (folder / "summary.md").read_text()
    text = _render(
        {
            "title": f"distillsim {kind}: {folder.parent.name}/{folder.name}",
            "folder": str(folder),
            "kind": kind,
            "takeaways": says,
            "omitted": omitted,
            "interval_meaning": meaning,
            "tables_heading": "Data",
            "tables_open": False,
            "tables": tables,
            "figures": _figures(folder),
            "assumptions": assumptions(d["resolved"], d["set_by"], d["priors"])
            if d["resolved"]
            else None,
            "summary_md": summary_md,
            "summary_html": Markup(md_html(summary_md)),
            "provenance": _provenance(d["meta"]),
        }
    )
    return _write(folder / "report.html", text)


# --------------------------------------------------------------------------- comparison
def _headline_stats(d: dict[str, Any], kind: str) -> dict[str, tuple[float, float, float, int]]:
    """Headline figure (per budget for sweeps and studies) -> mean, interval, n."""
    out: dict[str, tuple[float, float, float, int]] = {}
    if kind == "run":
        for m in HEADLINES:
            v = d["summary"].get(m)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[m] = (float(v), math.nan, math.nan, 1)
        return out
    df = d["runs"] if kind == "sweep" else d["samples"]
    df = df[df["error"].isna()] if "error" in df else df
    by = B if kind == "sweep" else "budget"
    for b, g in df.groupby(by, sort=True):
        for m in HEADLINES:
            if m in g:
                out[f"{m} at {money(float(b))}/day"] = mean_ci(g[m].to_numpy(dtype=float))
    return out


def _count(d: dict[str, Any], kind: str) -> int:
    """Replicates of a sweep, sampled worlds of a study."""
    if kind == "sweep":
        runs = d["runs"]
        return int(runs["replicate"].nunique()) if "replicate" in runs else 1
    if kind == "study":
        s = d["samples"]
        s = s[s["world"] == "sampled"] if "world" in s else s
        return int(s["sample"].nunique()) if "sample" in s else len(s)
    return 1


def write_compare(a: Path, b: Path, out: Path | None = None) -> Path:
    """Write a comparison of two folders of one kind (``compare-<B>.html`` in ``a``)."""
    from sim.validation import ConfigError

    a, b = Path(a), Path(b)
    ka, kb = folder_kind(a), folder_kind(b)
    if ka != kb:
        raise ConfigError("report", f"cannot compare a {ka} ({a}) with a {kb} ({b})")
    da, db = _load(a, ka), _load(b, kb)
    fa, fb = _flatten(da["resolved"]), _flatten(db["resolved"])
    diffs = [
        {"key": k, "a": _short(fa.get(k, "(absent)")), "b": _short(fb.get(k, "(absent)"))}
        for k in sorted(set(fa) | set(fb))
        if fa.get(k, "(absent)") != fb.get(k, "(absent)") and not k.startswith("_")
    ]
    if ka == "sweep":
        ga, gb = da["meta"].get("grid") or {}, db["meta"].get("grid") or {}
        for k in sorted(set(ga) | set(gb)):
            if ga.get(k) != gb.get(k):
                diffs.append({"key": f"grid: {k}", "a": str(ga.get(k)), "b": str(gb.get(k))})
    sa, sb = _headline_stats(da, ka), _headline_stats(db, kb)
    rows = []
    for k in [k for k in sa if k in sb]:
        (ma, la, ha, na), (mb, lb, hb, nb) = sa[k], sb[k]
        delta = mb - ma
        half = math.nan
        if na > 1 and nb > 1 and np.isfinite(la) and np.isfinite(lb):
            half = math.hypot((ha - la) / 2, (hb - lb) / 2)  # independent runs: halves add
        rows.append(
            {
                "figure": k,
                "A": _ci(ma, la, ha),
                "B": _ci(mb, lb, hb),
                "change B - A": _ci(delta, delta - half, delta + half),
            }
        )
    meaning = {
        "run": "One run each: changes without intervals (one seed).",
        "sweep": "Brackets: 95% intervals of the mean over replicates (seed noise only, "
        f"{_count(da, ka)} replicates in A, {_count(db, kb)} in B); the change's "
        "interval combines the two as independent (it ignores common random numbers, so it is "
        "conservative when both sweeps used the same seeds).",
        "study": "Brackets: 95% intervals of the mean over the sampled worlds (parameter "
        f"uncertainty, {_count(da, ka)} sampled worlds in A, {_count(db, kb)} in B); the "
        "change's interval combines the two as independent.",
    }[ka]
    table = pd.DataFrame(rows, columns=["figure", "A", "B", "change B - A"])
    says = [
        Takeaway(f"{r['figure']}: {r['A']} in A, {r['B']} in B (change {r['change B - A']}).", "")
        for r in rows
        if r["figure"].startswith(CAP)
    ]
    context = {
        "title": f"distillsim comparison of two {ka}s",
        "folder": f"A = {a}, B = {b}",
        "kind": f"{ka} comparison",
        "takeaways": [Takeaway(t.text, "headline figures table") for t in says],
        "omitted": [],
        "interval_meaning": meaning,
        "tables_heading": "Headline figures",
        "tables_open": True,
        "tables": [
            {
                "title": "Headline figures",
                "note": "",
                "html": table.to_html(index=False, escape=True),
            }
        ],
        "figures": [],
        "assumptions": [],
        "summary_md": "",
        "summary_html": "",
        "provenance": [
            *[(f"A: {k}", v) for k, v in _provenance(da["meta"])],
            *[(f"B: {k}", v) for k, v in _provenance(db["meta"])],
        ],
    }
    text = _render(context, diffs)
    return _write(out or a / f"compare-{b.name}.html", text)
