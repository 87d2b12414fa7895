"""Sweeps over worlds of several providers (issue #14, docs/MODEL.md §12): ``providers.csv``, one
row per run × provider, its table in summary.md, the free-riding table of a sharing sweep and
the displacement curve (``displacement_curve.png``).

A world's summary has no top-level detection budget (each provider has its own), so the
single-provider report (curve, frontier, break-even) does not apply; :func:`world_lines` takes
its place when a sweep's runs are worlds (:func:`is_world`). Everything is computed from
``runs.parquet`` alone.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.runs import label, natural_order, swept_groups
from sim.analysis.stats import mean_ci
from sim.analysis.style import Provenance, budget_axis, money, save, x_positions, zero_based

#: Per-provider summary fields copied into providers.csv (``provider.<name>.<field>``).
PROVIDER_FIELDS = [
    "detection_budget_usd_per_day",
    "detection_spend_usd",
    "defender_total_cost_usd",
    "capability_extracted",
    "accounts_banned",
    "account_lifetime_hours_mean",
    "shares_indicators",
    "indicators_sent",
    "indicators_received",
    "sharing_cost_usd",
    "displaced_in_per_day",
    "displaced_out_per_day",
]
#: World totals copied onto every provider's row, as ``world.<field>``.
WORLD_FIELDS = [
    "capability_extracted",
    "capability_total",
    "detection_spend_usd",
    "defender_total_cost_usd",
    "accounts_banned",
    "traffic_displaced_per_day",
]
#: The derived column naming who shares (``none`` or the participants joined by ``+``).
SHARING = "sharing"


def is_world(df: pd.DataFrame) -> bool:
    """Whether the runs are worlds of several providers (their summaries list ``providers``)."""
    return "providers" in df and bool(df["providers"].map(_names).map(len).gt(0).any())


def _names(v) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    return [str(x) for x in v]


def provider_order(df: pd.DataFrame) -> list[str]:
    """The providers, in the worlds' order (provider 0 first)."""
    out: list[str] = []
    for v in df["providers"]:
        out += [p for p in _names(v) if p not in out]
    return out


def sharing_label(v) -> str:
    names = _names(v)
    return "+".join(names) if names else "none"


def providers_table(df: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """One row per successful run × provider: the swept keys, the provider's figures, the world's
    totals (``world.*``) and who shares (``sharing``)."""
    ok = df[df["error"].isna()]
    keys = [k for k in meta.get("swept_keys", []) if k in ok and k != "replicate"]
    rows = []
    for _, r in ok.iterrows():
        base = {k: r[k] for k in keys}
        base["job"] = r.get("job")
        base["replicate"] = r.get("replicate", 0)
        base[SHARING] = sharing_label(r.get("sharing_participants"))
        world = {f"world.{m}": r.get(m, math.nan) for m in WORLD_FIELDS}
        for p in _names(r["providers"]):
            rec = {**base, "provider": p}
            for m in PROVIDER_FIELDS:
                rec[m] = r.get(f"provider.{p}.{m}", math.nan)
            rows.append({**rec, **world})
    return pd.DataFrame(rows)


def varied_budgets(pt: pd.DataFrame) -> list[str]:
    """The providers whose detection budget differs between the runs."""
    out = []
    for p, g in pt.groupby("provider", sort=False):
        if g["detection_budget_usd_per_day"].nunique() > 1:
            out.append(str(p))
    return out


def _wide(pt: pd.DataFrame, by: list[str], order: list[str]) -> pd.DataFrame:
    """One row per run (job), ``<provider>.<field>`` columns, ``by`` and the world totals."""
    world = [c for c in pt if c.startswith("world.")]
    first = pt.drop_duplicates("job").set_index("job")[[*by, "replicate", *world]]
    parts = [first]
    for p in order:
        g = pt[pt["provider"] == p].set_index("job")[PROVIDER_FIELDS]
        parts.append(g.add_prefix(f"{p}."))
    return pd.concat(parts, axis=1).reset_index()


def _groups(df: pd.DataFrame, cols: list[str]):
    """``(values tuple, rows)`` per group of ``cols`` in natural order (one group if none)."""
    if not cols:
        return [((), df)] if len(df) else []
    out = []
    df = natural_order(df, cols)
    if SHARING in cols:
        # Who shares from none to all: by how many labs share, then in natural order.
        rank = df[SHARING].map(lambda v: 0 if v == "none" else str(v).count("+") + 1)
        df = df.iloc[np.argsort(rank.to_numpy(), kind="stable")]
    for vals, g in df.groupby(cols, sort=False, dropna=False):
        out.append((vals if isinstance(vals, tuple) else (vals,), g))
    return out


def _mean(x: pd.Series) -> float:
    v = pd.to_numeric(x, errors="coerce").dropna()
    return float(v.mean()) if len(v) else math.nan


def _ci(x: pd.Series, fmt: str) -> str:
    """Mean [95% interval] of a capability, the interval clipped to the possible range."""
    m, lo, hi, n = mean_ci(pd.to_numeric(x, errors="coerce").dropna().to_numpy(float))
    if not np.isfinite(m):
        return "n/a"
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    return fmt.format(m) + (f" [{fmt.format(lo)}, {fmt.format(hi)}]" if np.isfinite(lo) else "")


def _musd(v: float) -> str:
    return f"${v / 1e6:,.2f}M" if np.isfinite(v) else "n/a"


def _group_keys(df: pd.DataFrame, meta: dict, pt: pd.DataFrame) -> list[str]:
    """Swept keys that split the runs besides the providers' budgets (shown as budgets) and the
    sharing key (shown as ``sharing``)."""
    keys = [
        k
        for k in swept_groups(df, meta)
        if not k.startswith("providers.") and k != "sharing.participants"
    ]
    if pt[SHARING].nunique() > 1:
        keys.append(SHARING)
    return keys


def world_lines(folder: Path, df: pd.DataFrame, meta: dict, prov: Provenance) -> list[str]:
    """Write providers.csv (and displacement_curve.png where one provider's budget is swept);
    return summary.md's sections for world runs."""
    from sim.analysis.report import md_table, seed_noise

    folder = Path(folder)
    pt = providers_table(df, meta)
    pt.to_csv(folder / "providers.csv", index=False)
    order = provider_order(df)
    keys = _group_keys(df, meta, pt)
    varied = varied_budgets(pt)
    wide = _wide(pt, keys, order)
    budget_cols = [f"{p}.detection_budget_usd_per_day" for p in varied]
    runs = [len(g) for _, g in _groups(wide, [*keys, *budget_cols])]
    noise = seed_noise(pd.DataFrame({"runs": runs}))
    out = [
        "## Providers",
        "",
        f"Worlds of several providers ({', '.join(order)}): one row per run × provider in "
        "`providers.csv`; here the means over replicates (95% intervals where shown; "
        f"{noise}). **leak from it**: capability from this provider's teacher alone "
        "(`provider.<name>.capability_extracted`); **world leak**: the headline capability from "
        "all teachers together (MODEL §12); **group cost**: the providers' defender total costs "
        "summed. Lifetime: mean hours an attacker account served there. Displaced: demand moved "
        "to (in) or away from (out) the provider, exchanges a day summed over changes of split.",
        "",
    ]
    rows = []
    for vals, g in _groups(wide, [*keys, *budget_cols]):
        where = dict(zip([*keys, *budget_cols], vals, strict=True))
        for p in order:
            rec = {k: where[k] for k in keys}
            rec["provider"] = p
            rec["B ($/day)"] = f"{_mean(g[f'{p}.detection_budget_usd_per_day']):,.0f}"
            rec["detection spent"] = money(_mean(g[f"{p}.detection_spend_usd"]))
            rec["defender total cost"] = _musd(_mean(g[f"{p}.defender_total_cost_usd"]))
            rec["leak from it"] = _ci(g[f"{p}.capability_extracted"], "{:.4f}")
            rec["accounts banned"] = f"{_mean(g[f'{p}.accounts_banned']):,.0f}"
            rec["lifetime (h)"] = f"{_mean(g[f'{p}.account_lifetime_hours_mean']):,.1f}"
            shares = g[f"{p}.shares_indicators"].dropna()
            rec["shares"] = "yes" if len(shares) and bool(shares.all()) else "no"
            rec["indicators received"] = f"{_mean(g[f'{p}.indicators_received']):,.0f}"
            rec["displaced in / out (per day)"] = (
                f"{_mean(g[f'{p}.displaced_in_per_day']):,.0f} / "
                f"{_mean(g[f'{p}.displaced_out_per_day']):,.0f}"
            )
            rec["world leak"] = _ci(g["world.capability_extracted"], "{:.4f}")
            rec["group cost"] = _musd(_mean(g["world.defender_total_cost_usd"]))
            rows.append(rec)
    out += [md_table(pd.DataFrame(rows)), ""]
    if len(varied) == 1 and meta.get("kind") in ("sharing", "custom", "displacement"):
        path = folder / "displacement_curve.png"
        plot_displacement(wide, varied[0], order, [k for k in keys], path, prov)
        out += [
            f"Figure `{path.name}`: the leak from each provider and in total against "
            f"{varied[0]}'s detection budget.",
            "",
        ]
    if meta.get("kind") == "sharing" or SHARING in keys:
        out += free_riding_lines(wide, order, varied, keys)
    return out


# --------------------------------------------------------------------------- free-riding
def _paired(a: pd.DataFrame, b: pd.DataFrame, col: str) -> tuple[float, float, float, int]:
    """Mean and 95% interval of ``col`` in ``a`` minus in ``b``, replicate by replicate."""
    x = pd.to_numeric(a.groupby("replicate")[col].mean(), errors="coerce")
    y = pd.to_numeric(b.groupby("replicate")[col].mean(), errors="coerce")
    x, y = x.align(y, join="inner")
    return mean_ci((x - y).dropna().to_numpy(float))


def _fmt(t: tuple[float, float, float, int], fmt: str | None) -> str:
    """A paired difference and its interval (``fmt`` None: signed money)."""
    m, lo, hi, _ = t

    def f(x: float) -> str:
        if fmt is None:
            return ("+" if x >= 0 else "") + money(x)
        text = fmt.format(x)
        return text.replace("-", "+", 1) if float(text) == 0 else text  # no "-0.0000"

    if not np.isfinite(m):
        return "n/a"
    return f(m) + (f" [{f(lo)}, {f(hi)}]" if np.isfinite(lo) else "")


def free_riders(wide: pd.DataFrame, order: list[str]) -> list[str]:
    """Providers that spend nothing on detection in every run."""
    out = []
    for p in order:
        b = pd.to_numeric(wide[f"{p}.detection_budget_usd_per_day"], errors="coerce")
        if len(b) and (b == 0).all():
            out.append(p)
    return out


def free_riding(wide: pd.DataFrame, rider: str, spender: str, others: list[str]) -> pd.DataFrame:
    """Per sharing option that includes ``rider`` and per budget of ``spender`` (and value of the
    other grouping keys): the rider's leak and cost there, without sharing (option ``none``) and
    the paired differences, from the runs."""
    bcol = f"{spender}.detection_budget_usd_per_day"
    leak, cost = f"{rider}.capability_extracted", f"{rider}.defender_total_cost_usd"
    none = wide[wide[SHARING] == "none"]
    rows = []
    for (opt, *rest), g in wide.groupby([SHARING, *others, bcol], sort=False):
        if opt == "none" or rider not in str(opt).split("+"):
            continue
        where = dict(zip([*others, bcol], rest, strict=True))
        ref = none
        for k, v in where.items():
            ref = ref[ref[k] == v]
        if ref.empty:
            continue
        d_leak = _paired(g, ref, leak)
        d_cost = _paired(g, ref, cost)
        rows.append(
            {
                SHARING: opt,
                **{k: where[k] for k in others},
                "budget": float(where[bcol]),
                "leak_alone": _mean(ref[leak]),
                "leak_sharing": _mean(g[leak]),
                "d_leak": d_leak,
                "cost_alone": _mean(ref[cost]),
                "cost_sharing": _mean(g[cost]),
                "d_cost": d_cost,
                "d_world_leak": _paired(g, ref, "world.capability_extracted"),
                "d_group_cost": _paired(g, ref, "world.defender_total_cost_usd"),
            }
        )
    return pd.DataFrame(rows)


def _verdict(d_leak: tuple, d_cost: tuple) -> str:
    """Whether sharing pays the free-rider: its leak and its cost, each judged on its interval."""
    ml, lol, hil, n = d_leak
    mc = d_cost[0]
    if not np.isfinite(ml) or not np.isfinite(mc):
        return "n/a"
    if n >= 2 and np.isfinite(hil) and hil < 0:
        leak = "less leak"
    elif n >= 2 and np.isfinite(lol) and lol > 0:
        leak = "more leak"
    else:
        leak = "no clear change in leak"
    money_part = f"{'saves' if mc < 0 else 'costs'} {money(abs(mc))}"
    if leak == "less leak":
        answer = "yes" if mc <= 0 else "a trade"
    elif leak == "more leak":
        answer = "no"
    else:
        answer = "no" if mc > 0 else "not clearly"
    return f"{answer}: {leak}, {money_part}"


def free_riding_lines(
    wide: pd.DataFrame, order: list[str], varied: list[str], keys: list[str]
) -> list[str]:
    """summary.md's sharing tables: per sharing option each lab's cost and leak from it and the
    group's total; then "does free-riding pay?" for every provider at $0."""
    from sim.analysis.report import md_table

    out = ["## Sharing", ""]
    riders = free_riders(wide, order)
    spender = varied[0] if len(varied) == 1 else None
    others = [k for k in keys if k != SHARING]
    bcols = [f"{p}.detection_budget_usd_per_day" for p in varied]
    for (opt,), g in _groups(wide, [SHARING]):
        out += [f"### Sharing: {opt}", ""]
        rows = []
        for vals, h in _groups(g, [*others, *bcols]):
            rec = dict(zip(others, vals[: len(others)], strict=True))
            if spender is not None:
                zero = g[g[f"{spender}.detection_budget_usd_per_day"] == 0]
                for k in others:
                    zero = zero[zero[k] == rec[k]]
            for p in order:
                rec[f"{p} B"] = money(_mean(h[f"{p}.detection_budget_usd_per_day"]))
            for p in order:
                rec[f"{p} cost"] = _musd(_mean(h[f"{p}.defender_total_cost_usd"]))
                rec[f"leak from {p}"] = _ci(h[f"{p}.capability_extracted"], "{:.4f}")
                if spender is not None and p in riders and not zero.empty:
                    col = f"{p}.capability_extracted"
                    rec[f"{p} leak vs {spender} at $0 (paired)"] = _fmt(
                        _paired(h, zero, col), "{:+.4f}"
                    )
            rec["group cost"] = _musd(_mean(h["world.defender_total_cost_usd"]))
            rec["world leak"] = _ci(h["world.capability_extracted"], "{:.4f}")
            rows.append(rec)
        out += [md_table(pd.DataFrame(rows)), ""]
    if not riders or spender is None or "none" not in set(wide[SHARING]):
        out += [
            "No free-riding table: it needs a provider at $0 in every run, one provider's "
            "budget swept and the option of no sharing.",
            "",
        ]
        return out
    out += [
        "### Does free-riding pay?",
        "",
        "The provider at $0 sharing indicators against the same world with no sharing (same "
        f"{spender} budget, same replicate: paired differences, 95% intervals, seed noise "
        "only). Its cost includes what sharing costs it (`sharing.usd_per_day_per_lab`); a "
        "lower leak at a higher cost is a trade the table does not price.",
        "",
    ]
    for rider in riders:
        fr = free_riding(wide, rider, spender, others)
        if fr.empty:
            continue
        rows = []
        for _, r in fr.iterrows():
            rows.append(
                {
                    SHARING: r[SHARING],
                    **{k: r[k] for k in others},
                    f"{spender} B ($/day)": f"{r['budget']:,.0f}",
                    f"{rider} leak: alone → sharing": f"{r['leak_alone']:.4f} → "
                    f"{r['leak_sharing']:.4f}",
                    f"Δ {rider} leak": _fmt(r["d_leak"], "{:+.4f}"),
                    f"{rider} cost: alone → sharing": f"{_musd(r['cost_alone'])} → "
                    f"{_musd(r['cost_sharing'])}",
                    f"Δ {rider} cost": _fmt(r["d_cost"], None),
                    "Δ world leak": _fmt(r["d_world_leak"], "{:+.4f}"),
                    "Δ group cost": _fmt(r["d_group_cost"], None),
                    f"does free-riding pay {rider}?": _verdict(r["d_leak"], r["d_cost"]),
                }
            )
        out += [md_table(pd.DataFrame(rows)), ""]
    return out


# --------------------------------------------------------------------------- the curve
def curve_points(wide: pd.DataFrame, swept: str, order: list[str], keys: list[str]):
    """Per group of ``keys`` and budget of ``swept``: the mean and 95% interval of the leak from
    each provider and of the world's."""
    bcol = f"{swept}.detection_budget_usd_per_day"
    series = {f"leak from {p}": f"{p}.capability_extracted" for p in order}
    series["total (all teachers)"] = "world.capability_extracted"
    rows = []
    for vals, g in _groups(wide, [*keys, bcol]):
        rec = dict(zip([*keys, "budget"], vals, strict=True))
        for name, col in series.items():
            m, lo, hi, _ = mean_ci(pd.to_numeric(g[col], errors="coerce").dropna().to_numpy())
            # Clipped to the possible range, as the sweep tables' intervals are.
            rec |= {name: m, f"{name}_lo": max(lo, 0.0), f"{name}_hi": min(hi, 1.0)}
        rows.append(rec)
    return natural_order(pd.DataFrame(rows), [*keys, "budget"]), list(series)


def plot_displacement(
    wide: pd.DataFrame,
    swept: str,
    order: list[str],
    keys: list[str],
    path: Path,
    provenance: Provenance | None,
) -> None:
    """The leak from each provider and in total against ``swept``'s budget; one panel per group
    of the other swept keys (e.g. who shares). Capability axes from 0."""
    pts, series = curve_points(wide, swept, order, keys)
    panels = _groups(pts, keys)
    fig, axs = plt.subplots(
        1, len(panels), figsize=(4.8 * len(panels) + 1.5, 4.4), squeeze=False, sharey=True
    )
    budgets = pts["budget"].to_numpy(float)
    _, zero_at = x_positions(budgets)
    styles = ["-o", "-s", "-^", "-v", "-D"]
    for ax, (vals, g) in zip(axs[0], panels, strict=True):
        xs = np.where(g["budget"].to_numpy(float) > 0, g["budget"].to_numpy(float), zero_at)
        for i, name in enumerate(series):
            total = name.startswith("total")
            c = "black" if total else f"C{i}"
            ax.plot(xs, g[name], styles[i % len(styles)], ms=4, color=c, label=name, lw=1.4)
            lo, hi = g[f"{name}_lo"].to_numpy(float), g[f"{name}_hi"].to_numpy(float)
            if np.isfinite(lo).any():
                ax.fill_between(xs, lo, hi, color=c, alpha=0.12, lw=0)
        budget_axis(ax, budgets, zero_at)
        ax.grid(alpha=0.3)
        ax.set_xlabel(f"{swept}'s detection budget (US$ per day)")
        if keys:
            ax.set_title(label(keys, vals), fontsize=9)
        zero_based(ax)
    axs[0, 0].set_ylabel("capability leaked (share of the teacher-student gap)")
    axs[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    others = [p for p in order if p != swept]
    fig.suptitle(
        f"the leak from each lab as {swept} spends ({', '.join(others)} fixed)", fontsize=10
    )
    fig.tight_layout()
    save(
        fig,
        path,
        f"Capability leaked against {swept}'s detection budget B (US$ a day, log axis; B = 0 at "
        "the left edge), the other providers' budgets fixed: the leak from each provider's "
        "teacher alone (provider.<name>.capability_extracted) and the world's headline "
        "capability from all teachers together (black; MODEL §12). Means over replicates with "
        "95% Student-t bands (seed noise only). As the spender bans more, operators move demand "
        "to the others (displacement), so the leak from them can rise as its own falls.",
        provenance,
    )
