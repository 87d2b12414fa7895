"""Capability extracted and its delay versus detection spend: the table and the figures."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis.runs import (  # noqa: E402
    CURVE_METRICS,
    EVENT_METRICS,
    B,
    label,
    natural_order,
)
from sim.analysis.stats import mean_ci  # noqa: E402
from sim.analysis.style import (  # noqa: E402
    MARKERS,
    STYLES,
    budget_axis,
    corner_note,
    note_zoomed_y,
    x_positions,
)

DELAY = "delay_days_50pct_vs_undefended"
DELAY80 = "delay_days_80pct_vs_undefended"


def curve_table(df: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Per group and budget: the runs, and each metric's mean with its 95% Student-t interval
    over the replicates (seed noise only), clipped to the metric's possible range."""
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
            if m == "attribution_probability":
                hi = min(hi, 1.0)  # a probability
            rec[m] = mean
            rec[f"{m}_lo"], rec[f"{m}_hi"] = lo, hi
            if m in EVENT_METRICS:
                rec[f"{m}_reached"] = n / len(g)
        out.append(rec)
    # Groups in numeric order even where a swept column holds numbers as strings.
    return natural_order(pd.DataFrame(out), [*groups, B])


def plot_curve(curve: pd.DataFrame, groups: list[str], path: Path, headline: str = "") -> None:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    timing = DELAY if DELAY in curve and curve[DELAY].notna().any() else None
    has_zero = bool((curve[B] == 0).any())
    _, zero_at = x_positions(curve[B].to_numpy(float))
    parts = list(curve.groupby(groups, sort=True)) if groups else [((), curve)]
    band_alpha = 0.18 if len(parts) <= 3 else 0.07  # many bands on top of each other: fainter
    for i, (key, g) in enumerate(parts):
        g = g.sort_values(B)
        x, _ = x_positions(g[B].to_numpy(float))
        c = f"C{i % 10}"
        lab = label(groups, key)
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
        budget_axis(ax, curve[B].to_numpy(float), zero_at)
    which = f", {headline}" if headline else ""
    a1.set_ylabel(f"capability extracted (share of the gap closed{which})")
    a1.set_title("capability extracted vs detection spend (mean, 95% band)")
    for ax in (a1, a2):
        note_zoomed_y(ax)
    a2.set_ylabel("delay versus B = 0 (days)")
    a2.set_title(
        "delay to 50% (band: 95%) and 80% (dotted) of the undefended capability", fontsize=10
    )
    corner_note(a2, "same world and seed with B = 0; censored at the horizon", top=True)
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
        x, zero_at = x_positions(g[B].to_numpy(float))
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
        ax.set_title(label(groups, key), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("B (US$/day, log" + ("; 0 at left)" if has_zero else ")"), fontsize=8)
        budget_axis(ax, g[B].to_numpy(float), zero_at)
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


# --------------------------------------------------------------------------- a study's curve
def band_table(samples: pd.DataFrame, output: str, level: float = 0.90) -> pd.DataFrame:
    """Per budget: the spread of ``output`` over sampled worlds and over seeds, kept apart.

    Parameter uncertainty: quantiles over the sampled worlds of each world's mean over
    replicates (the same worlds at every budget). Seed noise: the baseline world's (the
    scenario's own values) mean and Student-t interval over its replicates, and the pooled
    within-world standard deviation of one run. Also the share of worlds where the output is
    below its value at B = 0 in the same world (paired).
    """
    ok = samples[samples["error"].isna()]
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    sampled = ok[ok["world"] == "sampled"]
    per_world = sampled.groupby(["budget", "sample"])[output].mean().unstack("budget")
    rows = []
    for b in sorted(ok["budget"].unique()):
        w = per_world[b].dropna() if b in per_world else pd.Series(dtype=float)
        within = sampled[sampled["budget"] == b].groupby("sample")[output].std(ddof=1)
        base = ok[(ok["world"] == "baseline") & (ok["budget"] == b)][output]
        m, lo, hi, n = mean_ci(base.to_numpy())
        row = {
            "budget": b,
            "worlds": int(w.size),
            "median": float(w.median()) if w.size else math.nan,
            "param_low": float(w.quantile(lo_q)) if w.size else math.nan,
            "param_high": float(w.quantile(hi_q)) if w.size else math.nan,
            "baseline_mean": m,
            "seed_low": lo,
            "seed_high": hi,
            "baseline_replicates": n,
            "seed_sd_one_run": float(np.sqrt(np.nanmean(within**2)))
            if within.notna().any()
            else math.nan,
        }
        if 0.0 in per_world and b > 0:
            d = (per_world[b] - per_world[0.0]).dropna()
            row["share_of_worlds_below_B0"] = float((d < 0).mean()) if d.size else math.nan
            rel = (d / per_world[0.0].loc[d.index].abs()).replace([np.inf, -np.inf], np.nan)
            row["median_change_vs_B0"] = float(rel.median()) if d.size else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def plot_bands(bands: dict[str, pd.DataFrame], path: Path, level: float = 0.90) -> None:
    """One panel per output: the median over sampled worlds with the parameter band, and the
    baseline world's mean with its seed-noise interval, labelled as such."""
    n = len(bands)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.0), squeeze=False)
    for ax, (output, t) in zip(axes[0], bands.items(), strict=True):
        b = t["budget"].to_numpy(dtype=float)
        x, zero_at = x_positions(b)
        ax.fill_between(
            x,
            t["param_low"],
            t["param_high"],
            color="#4c72b0",
            alpha=0.25,
            label=f"parameter uncertainty: {level:.0%} of sampled worlds",
        )
        ax.plot(x, t["median"], color="#4c72b0", marker="o", ms=3, label="median world")
        if t["baseline_replicates"].max() > 0:
            ax.fill_between(
                x,
                t["seed_low"],
                t["seed_high"],
                color="#dd8452",
                alpha=0.45,
                label="seed noise: 95% interval, scenario's own values",
            )
            ax.plot(x, t["baseline_mean"], color="#dd8452", ls="--", lw=1)
        budget_axis(ax, b, zero_at)
        ax.set_xlabel("detection budget B ($/day)", fontsize=8)
        ax.set_ylabel(output, fontsize=8)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
