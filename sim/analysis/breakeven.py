"""Where the campaign stops paying: the attacker's break-even budget is where the mean attacker
net value turns negative, interpolated between the two budgets that bracket it (in log B, linearly
from B = 0), never extrapolated."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.runs import B, label  # noqa: E402
from sim.analysis.style import (  # noqa: E402
    Provenance,
    coincide_notes,
    coinciding,
    legend,
    money,
    natural_key,
    save,
)
from sim.analysis.style import groups as groups_of  # noqa: E402


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


def breakeven_rows(df: pd.DataFrame, groups: list[str]) -> list[dict[str, Any]]:
    """Per group: the break-even budget of the mean net value, and the 2.5th and 97.5th
    percentiles of the replicates' own break-evens (``replicate_low``/``replicate_high``)."""
    ok = df[df["error"].isna()]
    out = []
    for key, g in groups_of(ok, groups):
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
        replicates = int(g["replicate"].nunique())
        out.append(
            {
                "group": label(groups, key),
                "break_even_usd_per_day": b_star,
                "status": why,
                "replicate_low": lo,
                "replicate_high": hi,
                "replicates_above_largest": above,
                "replicates_found": len(per_rep),
                "replicates": replicates,
                "largest_budget": float(m.index.max()),
            }
        )
    return out


def percentile_bracket(row: dict[str, Any]) -> str:
    """The replicates' bracket as what it is: the 2.5th-97.5th percentile of their own
    break-evens (how many replicates found one; those above the largest budget are left out)."""
    if row.get("replicate_low") is None:
        return ""
    n = row.get("replicates_found")
    of = f" of {n} replicates' break-evens" if n is not None else " of the replicates' break-evens"
    text = (
        f"2.5th-97.5th percentile{of}: ${row['replicate_low']:,.0f}-${row['replicate_high']:,.0f}"
    )
    if row.get("replicates_above_largest"):
        text += f"; {row['replicates_above_largest']} more above the largest budget"
    return text


def format_break_even(row: dict[str, Any]) -> str:
    """One line: the break-even budget with its percentile bracket, or why there is none."""
    if row["status"] == "found":
        rng = percentile_bracket(row)
        return f"${row['break_even_usd_per_day']:,.0f}/day" + (f" ({rng})" if rng else "")
    if row["status"] == "above":
        return f"above the largest budget tried (${row['largest_budget']:,.0f}/day)"
    if row["status"] == "below":
        return "at or below the smallest budget tried"
    return "n/a"


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
    for key, g in groups_of(ok, groups):
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
                    "group": label(groups, key),
                    "value_usd": v,
                    "break_even_usd_per_day": b_star,
                    "status": why,
                    "largest_budget": float(m.index.max()),
                    "smallest_budget": float(pos.min()) if len(pos) else 1.0,
                    "scenario_value_usd": v0,
                }
            )
    return pd.DataFrame(out)


def plot_breakeven(bv: pd.DataFrame, path: Path, provenance: Provenance | None = None) -> Figure:
    """Break-even budget against the attacker's value of capability, per group. Values with no
    break-even inside the grid are marked in a labelled strip above the axes (▲, above the
    largest budget tried) or below them (▼, below the smallest), on one line for every group:
    the strips have no height scale, so a marker's height reads as no value."""
    edges = [s for s in ("above", "below") if (bv["status"] == s).any()]
    rows = [
        *(["above"] if "above" in edges else []),
        "main",
        *(["below"] if "below" in edges else []),
    ]
    fig, axs = plt.subplots(
        len(rows),
        1,
        figsize=(9.5, 4.6 + 0.45 * len(edges)),
        sharex=True,
        height_ratios=[1.0 if r == "main" else 0.1 for r in rows],
        squeeze=False,
    )
    axes = dict(zip(rows, axs[:, 0], strict=True))
    ax = axes["main"]
    parts = sorted(bv.groupby("group", sort=False), key=lambda kv: natural_key(kv[0]))
    for i, (grp, g) in enumerate(parts):
        c = f"C{i % 10}"
        f = g[g["status"] == "found"]
        ax.plot(f["value_usd"], f["break_even_usd_per_day"], "-o", ms=3, color=c, label=grp)
        # Hollow, each group's smaller than the last: on one line, they nest instead of hiding.
        size = 70 / (1 + 0.6 * i)
        for status, marker in (("above", "^"), ("below", "v")):
            a = g[g["status"] == status]
            if len(a):
                axes[status].scatter(
                    a["value_usd"],
                    np.full(len(a), 0.5),
                    marker=marker,
                    facecolors="none",
                    edgecolors=c,
                    s=size,
                    lw=1,
                    gid=status,
                )
    for status, text in (
        ("above", "▲ above the largest budget tried"),
        ("below", "▼ at or below the smallest budget tried"),
    ):
        if status in axes:
            strip = axes[status]
            strip.set_ylim(0, 1)
            strip.set_yticks([])
            strip.grid(alpha=0.3, axis="x", which="both")
            strip.set_title(
                text
                + (f" ({money(bv['largest_budget'].max())}/day)" if status == "above" else "")
                + ": no break-even in the grid",
                fontsize=7,
                loc="left",
                color="dimgrey",
                pad=2,
            )
    found = bv[bv["status"] == "found"]["break_even_usd_per_day"].dropna()
    xs = bv["value_usd"].to_numpy(float) if len(bv) else np.array([])
    if (xs > 0).any():
        ax.set_xscale("log")
        ax.set_xlim(xs[xs > 0].min() / 1.3, xs.max() * 1.3)
    if len(found) and (found > 0).any():
        ax.set_yscale("log")
    elif len(bv) and (bv["status"] != "no data").any():
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "no value of capability breaks even inside the grid",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="grey",
        )
    else:
        ax.text(
            0.5,
            0.5,
            "no break-even to show: it is computed for fixed-attacker runs only",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="grey",
        )
    if "scenario_value_usd" in bv and len(bv):
        for a in axes.values():
            if a is not ax:
                a.axvline(bv["scenario_value_usd"].iloc[0], color="grey", ls="--", lw=1)
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
    axs[-1, 0].set_xlabel(
        "attacker's value of capability (US$, scenario value scaled; fixed attacker)"
    )
    ax.set_ylabel("break-even detection budget (US$ per day)")
    fig.suptitle("where the campaign stops paying", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    notes = []
    for status, mark in (("above", "▲"), ("below", "▼")):
        # Markers of several groups at the same values nest on one line: say whose they are.
        at = {grp: g.loc[g["status"] == status, "value_usd"] for grp, g in parts}
        found_together = coinciding(
            {grp: (x.to_numpy(float), np.zeros(len(x))) for grp, x in at.items() if len(x)}
        )
        notes += [f"{mark} {n}" for n in coincide_notes(found_together)]
    if ax.get_legend_handles_labels()[0]:
        legend(ax, notes, wrap=40, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save(
        fig,
        path,
        "The detection budget B (US$ a day) above which the fixed attacker's mean net value "
        "turns negative (interpolated between the two budgets that bracket it, never "
        "extrapolated), against the attacker's value of capability (the scenario's value "
        "scaled, dashed line); one line per group. Values where the campaign still pays at the "
        "largest budget tried are marked ▲ in the strip above, those where it does not pay even "
        "at the smallest ▼ in the strip below: the strips have no height scale.",
        provenance,
    )
    return fig
