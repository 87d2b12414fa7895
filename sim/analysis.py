"""Analysis of a sweep: curves, frontier, break-even and summary tables (DESIGN §4, MODEL §7, §10).

:func:`aggregate` writes ``runs.parquet`` (one row per run) and ``sweep.json`` (provenance);
:func:`report` derives everything else from those two files alone, so ``distillsim report <folder>``
regenerates a sweep's outputs without rerunning anything.

Definitions: means across replicates with a 95% Student-t interval; a point is Pareto-efficient if
no other point has both lower-or-equal defender total cost and lower-or-equal capability leaked
(one strictly lower); the attacker's break-even budget is where the mean attacker net value turns
negative, interpolated between the two budgets that bracket it (in log B, linearly from B = 0),
never extrapolated.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

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


# --------------------------------------------------------------------------- maths
def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of the finite values (NaN bounds below two values)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def pareto_mask(cost: np.ndarray, leaked: np.ndarray) -> np.ndarray:
    """Points not dominated in (cost, leaked), both to be minimised."""
    cost, leaked = np.asarray(cost, float), np.asarray(leaked, float)
    out = np.ones(cost.size, dtype=bool)
    for i in range(cost.size):
        dominated = (
            (cost <= cost[i]) & (leaked <= leaked[i]) & ((cost < cost[i]) | (leaked < leaked[i]))
        )
        out[i] = not dominated.any()
    return out


def break_even(budgets: np.ndarray, net: np.ndarray) -> tuple[float | None, str]:
    """Budget where net value first turns negative, by interpolation; (None, why) if not found.

    Returns ``(B*, "found")``, ``(None, "above")`` when net value stays positive up to the largest
    budget, or ``(None, "below")`` when it is not positive even at the smallest.
    """
    order = np.argsort(budgets)
    b, v = np.asarray(budgets, float)[order], np.asarray(net, float)[order]
    ok = np.isfinite(v)
    b, v = b[ok], v[ok]
    if v.size == 0:
        return None, "no data"
    if v[0] <= 0:
        return None, "below"
    for i in range(1, v.size):
        if v[i] <= 0:
            b0, b1, v0, v1 = b[i - 1], b[i], v[i - 1], v[i]
            f = v0 / (v0 - v1)
            if b0 > 0:
                return float(math.exp(math.log(b0) + f * (math.log(b1) - math.log(b0)))), "found"
            return float(b0 + f * (b1 - b0)), "found"
    return None, "above"


# --------------------------------------------------------------------------- runs table
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
        from sim.sweeps import split_overrides

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
    report(folder)
    return folder


# --------------------------------------------------------------------------- report
def _groups(df: pd.DataFrame, meta: dict) -> list[str]:
    return [
        k
        for k in meta.get("swept_keys", [])
        if k not in (BUDGET_KEY, "replicate", "seed") and k in df and df[k].nunique() > 1
    ]


def _label(keys: list[str], values) -> str:
    if not keys:
        return "all"
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values, strict=True))


def curve_table(df: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    ok = df[df["error"].isna()]
    per_op = sorted(c for c in ok if c.startswith("op.") and c.endswith(".capability_extracted"))
    metrics = (
        [m for m in CURVE_METRICS if m in ok]
        + sorted(c for c in ok if c.startswith("capability_") and c not in CURVE_METRICS)
        + (per_op if len(per_op) > 1 else [])
    )
    out = []
    for key, g in ok.groupby([*groups, B], dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        rec = dict(zip([*groups, B], key, strict=True))
        rec["runs"] = len(g)
        for m in metrics:
            vals = pd.to_numeric(g[m], errors="coerce").to_numpy()
            mean, lo, hi, n = mean_ci(vals)
            if np.nanmin(vals, initial=np.inf) >= 0:
                lo = max(lo, 0.0)  # a non-negative quantity: no interval below zero
            if np.nanmax(vals, initial=-np.inf) <= 1 and (
                m.startswith("capability_")
                and m != "capability_days"
                or m.endswith("capability_extracted")
            ):
                hi = min(hi, 1.0)  # a share of the gap (a sum over operators may exceed 1)
            rec[m] = mean
            rec[f"{m}_lo"], rec[f"{m}_hi"] = lo, hi
            if m in EVENT_METRICS:
                rec[f"{m}_reached"] = n / len(g)
        out.append(rec)
    return pd.DataFrame(out)


def breakeven_rows(df: pd.DataFrame, groups: list[str]) -> list[dict[str, Any]]:
    ok = df[df["error"].isna()]
    out = []
    for key, g in ok.groupby(groups, sort=True) if groups else [((), ok)]:
        m = g.groupby(B)["attacker_net_value_usd"].mean()
        b_star, why = break_even(m.index.to_numpy(), m.to_numpy())
        per_rep = []
        above = 0
        for _, r in g.groupby("replicate"):
            rr = r.groupby(B)["attacker_net_value_usd"].mean()
            x, w = break_even(rr.index.to_numpy(), rr.to_numpy())
            if x is not None:
                per_rep.append(x)
            elif w == "above":
                above += 1
        lo = float(np.percentile(per_rep, 2.5)) if per_rep else None
        hi = float(np.percentile(per_rep, 97.5)) if per_rep else None
        out.append(
            {
                "group": _label(groups, key),
                "break_even_usd_per_day": b_star,
                "status": why,
                "replicate_low": lo,
                "replicate_high": hi,
                "replicates_above_largest": above,
                "largest_budget": float(m.index.max()),
            }
        )
    return out


def _fmt_b(row: dict[str, Any]) -> str:
    if row["status"] == "found":
        rng = ""
        if row["replicate_low"] is not None:
            rng = f" (replicates: ${row['replicate_low']:,.0f}-${row['replicate_high']:,.0f}"
            rng += (
                f"; {row['replicates_above_largest']} above the largest)"
                if row["replicates_above_largest"]
                else ")"
            )
        return f"${row['break_even_usd_per_day']:,.0f}/day{rng}"
    if row["status"] == "above":
        return f"above the largest budget tried (${row['largest_budget']:,.0f}/day)"
    if row["status"] == "below":
        return "at or below the smallest budget tried"
    return "n/a"


def _x_positions(budgets: np.ndarray) -> tuple[np.ndarray, float]:
    pos = budgets[budgets > 0]
    zero_at = (pos.min() / 4.0) if pos.size else 1.0
    return np.where(budgets > 0, budgets, zero_at), zero_at


def _money(x: float) -> str:
    sign = "-" if x < 0 else ""
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:.3g}{unit}"
    return f"{sign}${abs(x):,.0f}"


def _budget_axis(ax, budgets: np.ndarray, zero_at: float) -> None:
    """Log B axis labelled at the swept budgets (all of them when few), with B = 0 as "0"."""
    ax.set_xscale("log")
    ax.minorticks_off()
    pos = np.unique(budgets[budgets > 0])
    if pos.size > 12:  # too many to label: the decades, within the data
        pos = [t for t in ax.get_xticks() if pos.min() <= t <= pos.max()]
    has_zero = bool((budgets == 0).any())
    ax.set_xticks([*([zero_at] if has_zero else []), *pos])
    ax.set_xticklabels(
        [*(["0"] if has_zero else []), *[_money(t) for t in pos]], rotation=40, fontsize=7
    )


def _corner_note(ax, text: str, top: bool = False) -> None:
    """A small grey note in the bottom-right (or top-left) corner of the axes."""
    ax.annotate(
        text,
        (0.01, 0.99) if top else (0.99, 0.01),
        xycoords="axes fraction",
        ha="left" if top else "right",
        va="top" if top else "bottom",
        fontsize=7,
        color="grey",
    )


def _note_zoomed_y(ax) -> None:
    """Say so when the y axis is zoomed in: small differences then look large."""
    if ax.get_ylim()[0] > 0:
        _corner_note(ax, "y axis does not start at 0")


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
STYLES = ["-", "--", "-.", ":"]


DELAY = "delay_days_50pct_vs_undefended"
DELAY80 = "delay_days_80pct_vs_undefended"


def plot_curve(curve: pd.DataFrame, groups: list[str], path: Path, headline: str = "") -> None:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    timing = DELAY if DELAY in curve and curve[DELAY].notna().any() else None
    has_zero = bool((curve[B] == 0).any())
    _, zero_at = _x_positions(curve[B].to_numpy(float))
    parts = list(curve.groupby(groups, sort=True)) if groups else [((), curve)]
    band_alpha = 0.18 if len(parts) <= 3 else 0.07  # many bands on top of each other: fainter
    for i, (key, g) in enumerate(parts):
        g = g.sort_values(B)
        x, _ = _x_positions(g[B].to_numpy(float))
        c = f"C{i % 10}"
        lab = _label(groups, key)
        # Distinct markers and dashes: lines of policies without effect lie on top of each other.
        style = dict(marker=MARKERS[i % len(MARKERS)], ls=STYLES[(i // 2) % len(STYLES)], ms=4)
        for ax, m in ((a1, "capability_extracted"), (a2, timing)):
            if m is None:
                continue
            pos = g[B].to_numpy() > 0
            ax.plot(x[pos], g[m].to_numpy()[pos], color=c, label=lab, **style)
            ax.fill_between(
                x[pos],
                g[f"{m}_lo"].to_numpy()[pos],
                g[f"{m}_hi"].to_numpy()[pos],
                color=c,
                alpha=band_alpha,
                lw=0,
            )
            if (~pos).any():
                ax.errorbar(
                    x[~pos],
                    g[m].to_numpy()[~pos],
                    yerr=[
                        g[m].to_numpy()[~pos] - g[f"{m}_lo"].to_numpy()[~pos],
                        g[f"{m}_hi"].to_numpy()[~pos] - g[m].to_numpy()[~pos],
                    ],
                    fmt=MARKERS[i % len(MARKERS)],
                    mfc="none",
                    color=c,
                    ms=6,
                    capsize=3,
                )
        if timing is not None and DELAY80 in g:
            # The later level, where detection shows more: same colour, dotted, no band.
            pos = g[B].to_numpy() > 0
            a2.plot(
                x[pos], g[DELAY80].to_numpy()[pos], color=c, ls=":", marker=style["marker"], ms=3
            )
    for ax in (a1, a2):
        note = "; B = 0 at the left edge" if has_zero else ""
        ax.set_xlabel(f"detection budget B (US$ per day, log scale{note})")
        ax.grid(alpha=0.3, which="both")
        _budget_axis(ax, curve[B].to_numpy(float), zero_at)
    which = f", {headline}" if headline else ""
    a1.set_ylabel(f"capability extracted (share of the gap closed{which})")
    a1.set_title("capability extracted vs detection spend (mean, 95% band)")
    for ax in (a1, a2):
        _note_zoomed_y(ax)
    a2.set_ylabel("delay versus B = 0 (days)")
    a2.set_title(
        "delay to 50% (band: 95%) and 80% (dotted) of the undefended capability", fontsize=10
    )
    _corner_note(a2, "same world and seed with B = 0; censored at the horizon", top=True)
    if timing is None:
        a2.annotate("no undefended reference in these runs", (0.5, 0.5), ha="center")
    a1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_domains(curve: pd.DataFrame, groups: list[str], path: Path) -> None:
    """Capability by domain versus B, one panel per group (attacker mode, policy, ...)."""
    domains = [
        c[len("capability_") :]
        for c in curve
        if c.startswith("capability_")
        and not c.endswith(("_lo", "_hi"))
        and c not in ("capability_days", "capability_extracted")
    ]
    parts = list(curve.groupby(groups, sort=True)) if groups else [((), curve)]
    n = len(parts)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, sharey=True
    )
    has_zero = bool((curve[B] == 0).any())
    for ax, (key, g) in zip(axes.flat, parts, strict=False):
        g = g.sort_values(B)
        x, zero_at = _x_positions(g[B].to_numpy(float))
        for j, d in enumerate(domains):
            # Markers as well as dashes: domains the operator weights alike draw the same line.
            ax.plot(
                x,
                g[f"capability_{d}"],
                ls=STYLES[j % len(STYLES)],
                marker=MARKERS[j % len(MARKERS)],
                ms=4,
                mfc="none",
                label=d.replace("_", " "),
            )
        ax.plot(x, g["capability_extracted"], color="black", lw=2, label="overall")
        ax.set_title(_label(groups, key), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("B (US$/day, log" + ("; 0 at left)" if has_zero else ")"), fontsize=8)
        _budget_axis(ax, g[B].to_numpy(float), zero_at)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("share of the gap closed")
    handles, labels = axes[0][0].get_legend_handles_labels()
    # Below the panels, where it hides no line.
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=7)
    fig.suptitle("capability extracted by domain versus detection spend (means)")
    fig.tight_layout(rect=(0, 0.07 + 0.02 * (len(labels) > 6), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def world_keys(groups: list[str]) -> list[str]:
    """Swept keys that describe the world (the attacker, the teacher…), not a defender choice."""
    return [k for k in groups if k == "scenario" or k.split(".")[0] in WORLD_PREFIXES]


def frontier_table(curve: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Means per point with a Pareto flag, the frontier drawn separately in each world.

    The defender chooses budget, detectors and policies, not the attacker's strategy: a point is
    efficient if no other point *in the same world* is cheaper and leaks no more.
    """
    front = curve[[*groups, B, "capability_extracted", "defender_total_cost_usd"]].copy()
    front["pareto"] = False
    worlds = world_keys(groups)
    for _, g in front.groupby(worlds, sort=True) if worlds else [((), front)]:
        mask = pareto_mask(g["defender_total_cost_usd"], g["capability_extracted"])
        front.loc[g.index, "pareto"] = mask
    return front


def plot_frontier(front: pd.DataFrame, groups: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (key, g) in enumerate(front.groupby(groups, sort=True) if groups else [((), front)]):
        ax.scatter(
            g["defender_total_cost_usd"] / 1e6,
            g["capability_extracted"],
            s=30,
            marker=MARKERS[i % len(MARKERS)],
            color=f"C{i % 10}",
            label=_label(groups, key),
            alpha=0.85,
            zorder=3,
        )
    worlds = world_keys(groups)
    styles = ["--", ":", "-.", (0, (5, 1))]
    for j, (key, g) in enumerate(front.groupby(worlds, sort=True) if worlds else [((), front)]):
        p = g[g["pareto"]].sort_values("defender_total_cost_usd")
        x, y = p["defender_total_cost_usd"] / 1e6, p["capability_extracted"]
        lab = "Pareto-efficient" + (f" ({_label(worlds, key)})" if worlds else "")
        ax.plot(x, y, color="black", ls=styles[j % len(styles)], lw=0.8, label=lab, zorder=2)
        ax.scatter(x, y, s=120, facecolors="none", edgecolors="black", lw=0.6, zorder=2)
        placed: list[tuple[float, float, str]] = []
        for xi, yi, b in zip(x, y, p[B], strict=True):  # the budget of each efficient point
            label = "B=0" if b == 0 else _money(b)
            px, py = ax.transData.transform((xi, yi))
            if any(t == label and abs(px - qx) + abs(py - qy) < 25 for qx, qy, t in placed):
                continue  # a neighbour already says it
            placed.append((px, py, label))
            ax.annotate(label, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=6)
    cost = front["defender_total_cost_usd"].to_numpy(float)
    if (cost > 0).all() and cost.max() > 20 * cost.min():  # spans decades: spread the cheap end
        ax.set_xscale("log")
        ax.set_xlabel("defender total cost over the horizon (US$ millions, log scale)")
    else:
        ax.set_xlabel("defender total cost over the horizon (US$ millions)")
    ax.set_ylabel("capability leaked (share of the gap closed)")
    ax.set_title("defender cost frontier (each point: mean over replicates)")
    _note_zoomed_y(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def breakeven_vs_value(df: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Break-even budget as the attacker's value of capability is scaled.

    Net value is linear in the value of capability when the operator's behaviour does not depend
    on it, which holds for the ``fixed`` strategy only; adaptive runs are left out (their plans
    would change with the value).
    """
    ok = df[df["error"].isna()].copy()
    if "attacker_mode" in ok:
        ok = ok[ok["attacker_mode"] != "adaptive"]
    realised = ok["attacker_net_value_usd"] + ok["attacker_spend_usd"] + ok["expected_penalty_usd"]
    base = ok[[c for c in ok if c.startswith("op.") and c.endswith(".value_usd")]].sum(axis=1)
    ok["_realised"], ok["_value"] = realised, base.replace(0, np.nan)
    v0 = float(ok["_value"].median()) if ok["_value"].notna().any() else 1.0
    grid = np.logspace(math.log10(v0) - 2, math.log10(v0) + 1, 25)
    out = []
    for key, g in ok.groupby(groups, sort=True) if groups else [((), ok)]:
        for v in grid:
            net = (
                v / g["_value"] * g["_realised"]
                - g["attacker_spend_usd"]
                - g["expected_penalty_usd"]
            )
            m = net.groupby(g[B]).mean()
            b_star, why = break_even(m.index.to_numpy(), m.to_numpy())
            pos = m.index[m.index > 0]
            out.append(
                {
                    "group": _label(groups, key),
                    "value_usd": v,
                    "break_even_usd_per_day": b_star,
                    "status": why,
                    "largest_budget": float(m.index.max()),
                    "smallest_budget": float(pos.min()) if len(pos) else 1.0,
                    "scenario_value_usd": v0,
                }
            )
    return pd.DataFrame(out)


def plot_breakeven(bv: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    for i, (grp, g) in enumerate(bv.groupby("group", sort=True)):
        c = f"C{i % 10}"
        f = g[g["status"] == "found"]
        ax.plot(f["value_usd"], f["break_even_usd_per_day"], "-o", ms=3, color=c, label=grp)
        # Groups that never break even would stack their markers on one line: nudge each group.
        nudge = 1.12**i
        a = g[g["status"] == "above"]
        if len(a):
            ax.scatter(a["value_usd"], a["largest_budget"] * nudge, marker="^", color=c, s=25)
        lo = g[g["status"] == "below"]
        if len(lo):
            ax.scatter(lo["value_usd"], lo["smallest_budget"] / nudge, marker="v", color=c, s=25)
    if "scenario_value_usd" in bv and len(bv):
        ax.axvline(bv["scenario_value_usd"].iloc[0], color="grey", ls="--", lw=1)
        ax.annotate(
            "scenario's value",
            (bv["scenario_value_usd"].iloc[0], 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=7,
            color="grey",
            ha="right",
            va="bottom",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("attacker's value of capability (US$, scenario value scaled; fixed attacker)")
    ax.set_ylabel("break-even detection budget (US$ per day)")
    ax.set_title(
        "where the campaign stops paying\n(▲ above the largest budget tried, "
        "▼ below the smallest; nudged apart per group)",
        fontsize=10,
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def md_table(df: pd.DataFrame) -> str:
    """``df`` as a Markdown table (cells as they are)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def _ci(row, m, fmt="{:.3f}") -> str:
    if not np.isfinite(row[m]):
        return "n/a"
    s = fmt.format(row[m])
    if np.isfinite(row.get(f"{m}_lo", np.nan)):
        s += f" [{fmt.format(row[f'{m}_lo'])}, {fmt.format(row[f'{m}_hi'])}]"
    return s


def report(folder: Path) -> Path:
    """(Re)generate curve, frontier, break-even and summary.md from runs.parquet and sweep.json."""
    folder = Path(folder)
    df = pd.read_parquet(folder / "runs.parquet")
    meta = json.loads((folder / "sweep.json").read_text())
    groups = _groups(df, meta)
    ok = df[df["error"].isna()]
    lines = [
        f"# Sweep `{meta.get('name', folder.name)}`",
        "",
        meta.get("description", ""),
        "",
        f"{len(df)} runs ({meta.get('errors', 0)} failed), swept: "
        f"{', '.join(meta.get('swept_keys', []))}.",
        "",
        f"Scenario `{meta.get('scenario') or 'n/a'}`; set for every run: "
        + (", ".join(f"`{o}`" for o in meta.get("settings", [])) or "nothing beyond it")
        + ".",
        "",
    ]
    if ok.empty or B not in ok:
        lines.append("No run succeeded; nothing to aggregate.")
    else:
        curve = curve_table(df, groups)
        curve.to_csv(folder / "curve.csv", index=False)
        headline = headline_label(ok)
        plot_curve(curve, groups, folder / "curve.png", headline)
        plot_domains(curve, groups, folder / "curve_domains.png")
        front = frontier_table(curve, groups)
        front.to_csv(folder / "frontier.csv", index=False)
        plot_frontier(front, groups, folder / "frontier.png")
        be = breakeven_rows(df, groups)
        pd.DataFrame(be).to_csv(folder / "breakeven.csv", index=False)
        bv = breakeven_vs_value(df, groups)
        bv.to_csv(folder / "breakeven_vs_value.csv", index=False)
        plot_breakeven(bv, folder / "breakeven_vs_value.png")
        lines += [
            "## Attacker's break-even detection budget",
            "",
            "Where the mean attacker net value turns negative (interpolated, never "
            "extrapolated; replicate range in brackets).",
            "",
        ]
        lines += [f"- {r['group']}: {_fmt_b(r)}" for r in be]
        lines += ["", *_kind_tables(meta.get("kind", "custom"), df, curve, groups, be)]
    errs = df[df["error"].notna()]
    if len(errs):
        lines += ["", "## Failed points", ""]
        for _, r in errs.iterrows():
            first = str(r["error"]).strip().splitlines()[-1]
            lines.append(f"- job {r['job']}: {first}")
    lines += [
        "",
        "## Provenance",
        "",
        f"- root seed: {meta.get('root_seed')}; replicate i uses "
        "SeedSequence(root, spawn_key=(i,)) at every point",
        f"- config hash: {meta.get('config_hash')}",
        f"- launcher: {meta.get('launcher')}",
        f"- versions: {json.dumps(meta.get('versions', {}))}",
        f"- git: {json.dumps(meta.get('git', {}))}",
    ]
    (folder / "summary.md").write_text("\n".join(lines) + "\n")
    return folder


def _acted(r: pd.Series) -> float:
    """Legitimate accounts wrongly banned, throttled or degraded (bans only in older sweeps)."""
    v = r.get("legit_accounts_acted_on", math.nan)
    return r["legit_accounts_banned"] if not np.isfinite(v) else v


def _delay(r: pd.Series) -> str:
    """Mean delay (censored at the horizon) and, when some runs never get there, how many do."""
    text = _ci(r, DELAY, "{:.2f}")
    share = r.get("days_to_50pct_of_undefended_reached", math.nan)
    if np.isfinite(share) and share < 1:
        text += f"; {share:.0%} of runs reach it"
    return text


def _event(r: pd.Series, m: str) -> str:
    """Mean time to an event over the runs that reached it, and the share that did."""
    share = r.get(f"{m}_reached", math.nan)
    if not np.isfinite(r[m]):
        return "never"
    return f"{r[m]:,.0f} ({share:.0%} of runs)" if share < 1 else f"{r[m]:,.0f}"


def _kind_tables(kind: str, df, curve, groups, be) -> list[str]:
    out: list[str] = []
    if kind == "policy_compare" and "policy" in groups:
        out += [
            "## Policies at matched budgets",
            "",
            "Brackets: 95% interval of the mean over replicates (Student t; wide with 2-3 "
            "replicates), clipped to the possible range. Attacker spend vs baseline: the "
            "attackers' cash at the same budget relative to the baseline (below 1 when a policy "
            "ends campaigns early, as a sanctions blacklist does). P(attribution): from the "
            "evidence held at the end; it costs the attacker only where sanctions put a penalty "
            "on it. Delay: against the same policy's world with B = 0 (what detection adds under "
            "the policy; the policy's own effect is in the capability column). A policy that "
            "leaves every figure at the baseline does not bind in this world "
            "(e.g. a rate limit above the attackers' cadence, watermarks once attribution is "
            "certain anyway).",
            "",
        ]
        ok = df[df["error"].isna()]
        base_spend = ok[ok["policy"] == "baseline"].groupby(B)["attacker_spend_usd"].mean()
        be_by = {r["group"]: _fmt_b(r) for r in be}
        for b, g in curve.groupby(B):
            out += [f"### B = ${b:,.0f}/day", ""]
            rows = []
            for _, r in g.sort_values("capability_extracted").iterrows():
                mult = r["attacker_spend_usd"] / base_spend.get(b, np.nan)
                others = [k for k in groups if k != "policy"]
                lab = _label(groups, tuple(r[k] for k in groups))
                rows.append(
                    {
                        "policy": r["policy"]
                        + (f" ({_label(others, tuple(r[k] for k in others))})" if others else ""),
                        "capability leaked": _ci(r, "capability_extracted"),
                        "delay vs B = 0, same policy (days)": _delay(r),
                        "defender total cost": f"${r['defender_total_cost_usd'] / 1e6:,.2f}M",
                        "legit accounts wrongly acted on": f"{_acted(r):,.0f} "
                        f"(${r['false_positive_cost_usd'] / 1e3:,.0f}k)",
                        "attacker spend vs baseline": "n/a"
                        if not np.isfinite(mult)
                        else f"{mult:.2f}x",
                        "P(attribution)": f"{r['attribution_probability']:.2f}"
                        if "attribution_probability" in r
                        else "n/a",
                        "break-even": be_by.get(lab, "n/a"),
                        "time to attribution (h)": _event(r, "attribution_hours"),
                    }
                )
            out += [md_table(pd.DataFrame(rows)), ""]
    if kind == "detector_mix" and "mix" in groups:
        out += [
            "## Best detector mix per budget (lowest mean capability leaked)",
            "",
            "Brackets: 95% intervals over replicates. The paired gap compares the best mix with "
            "the runner-up replicate by replicate (they share random streams); a gap can be "
            "clear and still too small to matter, and the cost column is not part of the rank.",
            "",
        ]
        rows = []
        others = [k for k in groups if k != "mix"]  # e.g. the attacker strategy: compare within
        for key, g in curve.groupby([*others, B], sort=True):
            key = key if isinstance(key, tuple) else (key,)
            where = dict(zip([*others, B], key, strict=True))
            ranked = g.sort_values("capability_extracted")
            best = ranked.iloc[0]
            spread = g["capability_extracted"].max() - best["capability_extracted"]
            second = ranked.iloc[1] if len(g) > 1 else None
            verdict = "n/a"
            if second is not None:
                # Replicate i shares its random streams across mixes: compare them in pairs.
                ok = df[df["error"].isna()]
                for k, v in where.items():
                    ok = ok[ok[k] == v]
                by = ok.set_index(["replicate", "mix"])["capability_extracted"]
                gap = (by.xs(second["mix"], level="mix") - by.xs(best["mix"], level="mix")).dropna()
                m, lo, hi, n = mean_ci(gap.to_numpy())
                if n < 2:
                    verdict = "n/a (one replicate)"
                elif lo > 0:
                    verdict = f"yes, by {m:.4f} [{lo:.4f}, {hi:.4f}]"
                else:
                    verdict = f"no: {m:.4f} [{lo:.4f}, {hi:.4f}] includes 0"
            rec = {k: where[k] for k in others}
            rows.append(
                {
                    **rec,
                    "B ($/day)": f"{where[B]:,.0f}",
                    "best mix": best["mix"],
                    "capability leaked": _ci(best, "capability_extracted"),
                    "defender total cost": f"${best['defender_total_cost_usd'] / 1e6:,.2f}M",
                    "runner-up": second["mix"] if second is not None else "n/a",
                    "spread across mixes": f"{spread:.3f}",
                    "better than the runner-up? (paired gap, 95%)": verdict,
                }
            )
        out += [md_table(pd.DataFrame(rows)), ""]
    if kind in ("spend_curve", "custom"):
        out += [
            "## Capability extracted by budget (mean [95% interval])",
            "",
            "Delay: days later than the undefended world (same config and seed, B = 0) reaches "
            "half (or 80%) of its final capability; a run that never gets there counts as "
            "reaching it at the horizon (a lower bound), and the share of runs that do is given. "
            "Detection "
            "spent is what the budget bought (fixed costs, inspection, faster latency, quality "
            "up to d∞, "
            "analysts); the rest of B × days is unspent. Net on attacker traffic: fees the "
            "defender received less the cost of serving those exchanges (negative: served at "
            "a loss).",
            "",
        ]
        rows = []
        for _, r in curve.iterrows():
            rec = {k: r[k] for k in groups}
            rec["B ($/day)"] = f"{r[B]:,.0f}"
            rec["capability"] = _ci(r, "capability_extracted")
            for c in sorted(k for k in r.index if k.startswith("op.") and k.endswith("extracted")):
                rec[f"{c.split('.')[1]} capability"] = f"{r[c]:.3f}"
            rec["delay vs B = 0 (days)"] = _delay(r)
            rec["delay to 80% (days)"] = _ci(r, "delay_days_80pct_vs_undefended", "{:.2f}")
            rec["detection spent (unspent)"] = (
                f"{_money(r['detection_spend_usd'])} ({_money(r['detection_unspent_usd'])})"
                if "detection_unspent_usd" in r
                else "n/a"
            )
            rec["defender total cost"] = f"${r['defender_total_cost_usd'] / 1e6:,.2f}M"
            rec["net on attacker traffic"] = (
                _money(r["attacker_traffic_net_usd"]) if "attacker_traffic_net_usd" in r else "n/a"
            )
            rec["attacker net value"] = f"${r['attacker_net_value_usd'] / 1e6:,.1f}M"
            rows.append(rec)
        out += [md_table(pd.DataFrame(rows)), ""]
    return out
