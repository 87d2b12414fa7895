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

from sim.analysis.runs import B, label, natural_key  # noqa: E402


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


def _groups(ok: pd.DataFrame, groups: list[str]) -> list:
    """(key, rows) per group, numbers in numeric order even where a column holds strings."""
    if not groups:
        return [((), ok)]
    parts = list(ok.groupby(groups, sort=True))
    return sorted(
        parts,
        key=lambda kg: tuple(
            natural_key(v) for v in (kg[0] if isinstance(kg[0], tuple) else (kg[0],))
        ),
    )


def breakeven_rows(df: pd.DataFrame, groups: list[str]) -> list[dict[str, Any]]:
    """Per group: the break-even budget of the mean net value, and the 2.5th and 97.5th
    percentiles of the replicates' own break-evens (``replicate_low``/``replicate_high``)."""
    ok = df[df["error"].isna()]
    out = []
    for key, g in _groups(ok, groups):
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
    for key, g in _groups(ok, groups):
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


def plot_breakeven(bv: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    # In the rows' order (groups sorted numerically), not the labels' alphabetical order.
    for i, (grp, g) in enumerate(bv.groupby("group", sort=False)):
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
    # A log axis needs positive data: none when no group has a fixed attacker (or none succeeded).
    xs = [v for ln in ax.lines for v in ln.get_xdata()] + [
        v for c in ax.collections for v in c.get_offsets()[:, 0]
    ]
    ys = [v for ln in ax.lines for v in ln.get_ydata()] + [
        v for c in ax.collections for v in c.get_offsets()[:, 1]
    ]
    if any(np.isfinite(v) and v > 0 for v in xs):
        ax.set_xscale("log")
    if any(np.isfinite(v) and v > 0 for v in ys):
        ax.set_yscale("log")
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
