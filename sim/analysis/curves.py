"""Capability extracted and its delay versus detection spend: the table and the figures."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

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
    Provenance,
    budget_axis,
    coincide_notes,
    coinciding,
    corner_note,
    detail_span,
    legend_below,
    save,
    x_positions,
    zero_based,
)
from sim.analysis.style import groups as groups_of  # noqa: E402

DELAY = "delay_days_50pct_vs_undefended"
DELAY80 = "delay_days_80pct_vs_undefended"


def clip_interval(m: str, vals: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """An interval of metric ``m`` clipped to its possible range, as the values show it."""
    if np.nanmin(vals, initial=np.inf) >= 0:
        lo = max(lo, 0.0)  # a non-negative quantity: no interval below zero
    if np.nanmax(vals, initial=-np.inf) <= 1 and (
        m.startswith("capability_") and m != "capability_days" or m.endswith("capability_extracted")
    ):
        hi = min(hi, 1.0)  # a share of the gap (a sum over operators may exceed 1)
    if m == "attribution_probability":
        hi = min(hi, 1.0)  # a probability
    return lo, hi


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
            lo, hi = clip_interval(m, vals, lo, hi)
            rec[m] = mean
            rec[f"{m}_lo"], rec[f"{m}_hi"] = lo, hi
            if m in EVENT_METRICS:
                rec[f"{m}_reached"] = n / len(g)
        out.append(rec)
    # Groups in numeric order even where a swept column holds numbers as strings.
    return natural_order(pd.DataFrame(out), [*groups, B])


def _draw_metric(ax: Axes, parts, m: str, zero_at: float, band_alpha: float) -> None:
    """Each group's mean of ``m`` against B with its band; B = 0 as an error bar at the left."""
    for i, (_, g) in enumerate(parts):
        g = g.sort_values(B)
        b = g[B].to_numpy(float)
        x = np.where(b > 0, b, zero_at)
        c = f"C{i % 10}"
        # Distinct markers and dashes: lines of policies without effect lie on top of each other.
        style = dict(marker=MARKERS[i % len(MARKERS)], ls=STYLES[(i // 2) % len(STYLES)], ms=4)
        pos = b > 0
        y, lo, hi = (g[k].to_numpy(float) for k in (m, f"{m}_lo", f"{m}_hi"))
        ax.plot(x[pos], y[pos], color=c, **style)
        ax.fill_between(x[pos], lo[pos], hi[pos], color=c, alpha=band_alpha, lw=0)
        if (~pos).any():
            ax.errorbar(
                x[~pos],
                y[~pos],
                yerr=[y[~pos] - lo[~pos], hi[~pos] - y[~pos]],
                fmt=MARKERS[i % len(MARKERS)],
                mfc="none",
                color=c,
                ms=6,
                capsize=3,
            )


def _coincide_notes(parts, groups: list[str], metrics: dict[str, tuple[str, float]]) -> list[str]:
    """Notes for groups whose lines coincide (``metrics``: panel name -> column, height of the
    y axis it is seen on), each saying in which panel, or "both panels"."""
    found = {
        name: coinciding(
            {label(groups, k): (g[B].to_numpy(float), g[m].to_numpy(float)) for k, g in parts},
            span=span,
        )
        for name, (m, span) in metrics.items()
    }
    if len(found) == 1:
        return coincide_notes(next(iter(found.values())))
    every = [g for g in next(iter(found.values())) if all(g in f for f in found.values())]
    notes = [f"{n} (both panels)" for n in coincide_notes(every)]
    for name, f in found.items():
        notes += [f"{n} ({name})" for n in coincide_notes([g for g in f if g not in every])]
    return notes


def plot_curve(
    curve: pd.DataFrame,
    groups: list[str],
    path: Path,
    headline: str = "",
    provenance: Provenance | None = None,
) -> Figure:
    """Capability (from 0, zoomed inset where the curves are close) and delay versus B."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    timing = DELAY if DELAY in curve and curve[DELAY].notna().any() else None
    has_zero = bool((curve[B] == 0).any())
    _, zero_at = x_positions(curve[B].to_numpy(float))
    parts = groups_of(curve, groups)
    band_alpha = 0.18 if len(parts) <= 3 else 0.07  # many bands on top of each other: fainter
    _draw_metric(a1, parts, "capability_extracted", zero_at, band_alpha)
    if timing is not None:
        _draw_metric(a2, parts, timing, zero_at, band_alpha)
        if DELAY80 in curve:
            # The later level, where detection shows more: same colour, dotted, no band.
            for i, (_, g) in enumerate(parts):
                g = g[g[B] > 0].sort_values(B)
                a2.plot(g[B], g[DELAY80], color=f"C{i % 10}", ls=":", marker=MARKERS[i % 8], ms=3)
    for ax in (a1, a2):
        note = "; B = 0 at the left edge" if has_zero else ""
        ax.set_xlabel(f"detection budget B (US$ per day, log scale{note})")
        ax.grid(alpha=0.3, which="both")
        budget_axis(ax, curve[B].to_numpy(float), zero_at)
    inset = zero_based(
        a1,
        lambda ax: _draw_metric(ax, parts, "capability_extracted", zero_at, band_alpha),
    )
    which = f", {headline}" if headline else ""
    a1.set_ylabel(f"capability extracted (share of the gap closed{which})")
    a1.set_title("capability extracted vs detection spend (mean, 95% band)")
    a2.set_ylabel("delay versus B = 0 (days)")
    a2.set_title(
        "delay to 50% (band: 95%) and 80% (dotted) of the undefended capability", fontsize=10
    )
    corner_note(a2, "same world and seed with B = 0; censored at the horizon", top=True)
    if timing is None:
        a2.annotate("no undefended reference in these runs", (0.5, 0.5), ha="center")
    metrics = {"capability": ("capability_extracted", detail_span(a1, inset))}
    if timing:
        metrics["delay to 50%"] = (timing, detail_span(a2, None))
    notes = _coincide_notes(parts, groups, metrics)
    handles = [
        Line2D([], [], color=f"C{i % 10}", marker=MARKERS[i % 8], ls=STYLES[(i // 2) % 4], ms=4)
        for i in range(len(parts))
    ]
    labels = [label(groups, k) for k, _ in parts]
    # Below the panels: inside them it would cover the curves or the zoomed inset.
    bottom = legend_below(fig, handles, labels, notes, ncol=5)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    runs = curve["runs"] if "runs" in curve else pd.Series([0])
    reps = f"{runs.min()}" if runs.min() == runs.max() else f"{runs.min()}-{runs.max()}"
    save(
        fig,
        path,
        f"Left: capability extracted by the attacker (share of the teacher-student gap closed"
        f"{which}) against the defender's detection budget B, US$ a day (log axis"
        f"{'; B = 0 at the left edge' if has_zero else ''}); mean of {reps} runs per point, "
        "band and bars: 95% Student-t interval over replicates (seed noise only). The axis starts "
        "at 0; the inset, where there is one, zooms on the curves. Right: how many days later "
        "than with B = 0 (same world and seed) the attacker reaches 50% (band) and 80% (dotted) "
        "of its undefended capability.",
        provenance,
    )
    return fig


def plot_domains(
    curve: pd.DataFrame, groups: list[str], path: Path, provenance: Provenance | None = None
) -> Figure:
    """Capability by domain versus B, one panel per group (attacker mode, policy, ...)."""
    domains = [
        c[len("capability_") :]
        for c in curve
        if c.startswith("capability_")
        and not c.endswith(("_lo", "_hi"))
        and c not in ("capability_days", "capability_extracted")
        and curve[c].notna().any()  # a summary field that is no number per domain
    ]
    parts = groups_of(curve, groups)
    n = len(parts)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, sharey=True
    )
    has_zero = bool((curve[B] == 0).any())
    _, zero_at = x_positions(curve[B].to_numpy(float))

    def draw(ax: Axes, g: pd.DataFrame) -> None:
        b = g[B].to_numpy(float)
        x = np.where(b > 0, b, zero_at)
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

    for ax, (_, g) in zip(axes.flat, parts, strict=False):
        draw(ax, g.sort_values(B))
        ax.grid(alpha=0.3, which="both")
        ax.set_xlabel("B (US$/day, log" + ("; 0 at left)" if has_zero else ")"), fontsize=8)
        budget_axis(ax, curve[B].to_numpy(float), zero_at)
    for ax, (key, g) in zip(axes.flat, parts, strict=False):
        # After every panel is drawn: the shared axis's top is the highest panel's.
        g = g.sort_values(B)
        inset = zero_based(ax, lambda a, g=g: draw(a, g), bounds=(0.08, 0.06, 0.88, 0.45))
        x = g[B].to_numpy(float)
        found = coinciding(
            {
                **{d.replace("_", " "): (x, g[f"capability_{d}"].to_numpy(float)) for d in domains},
                "overall": (x, g["capability_extracted"].to_numpy(float)),
            },
            span=detail_span(ax, inset),
        )
        ax.set_title(label(groups, key), fontsize=9, pad=4 + 9 * len(found))
        if found:  # under the title, one line a group, wrapped to the panel
            ax.annotate(
                "\n".join(textwrap.fill(t, 62) for t in coincide_notes(found)),
                (0.5, 1.0),
                xycoords="axes fraction",
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                fontstyle="italic",
                color="dimgrey",
            )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("share of the gap closed")
    handles, labels = axes[0][0].get_legend_handles_labels()
    # Below the panels, where it hides no line.
    bottom = legend_below(fig, handles, labels, ncol=6, fontsize=7)
    fig.suptitle("capability extracted by domain versus detection spend (means)")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    save(
        fig,
        path,
        "Capability extracted in each capability domain (share of that domain's teacher-student "
        "gap closed) and overall (value-weighted, black) against the detection budget B, US$ a "
        "day (log axis), one panel per group; means over replicates. Axes start at 0; an inset, "
        "where there is one, zooms on the lines.",
        provenance,
        dpi=100,
    )
    return fig


# --------------------------------------------------------------------------- a study's curve
def band_table(samples: pd.DataFrame, output: str, level: float = 0.90) -> pd.DataFrame:
    """Per budget: the spread of ``output`` over sampled worlds and over seeds, kept apart.

    Parameter uncertainty: quantiles over the sampled worlds of each world's mean over
    replicates (the same worlds at every budget). Seed noise: the baseline world's (the
    scenario's own values) mean and Student-t interval over its replicates (clipped to the
    output's possible range, as :func:`curve_table`'s), and the pooled
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
        lo, hi = clip_interval(output, base.to_numpy(dtype=float), lo, hi)
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


def plot_bands(
    bands: dict[str, pd.DataFrame],
    path: Path,
    level: float = 0.90,
    provenance: Provenance | None = None,
) -> Figure:
    """One panel per output: the median over sampled worlds with the parameter band, and the
    baseline world's mean with its seed-noise interval, labelled as such. Capability axes start
    at 0 (with a zoomed inset where the bands are narrow)."""
    n = len(bands)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 4.3), squeeze=False)

    def draw(ax: Axes, t: pd.DataFrame, x: np.ndarray) -> None:
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

    for ax, (output, t) in zip(axes[0], bands.items(), strict=True):
        b = t["budget"].to_numpy(dtype=float)
        x, zero_at = x_positions(b)
        draw(ax, t, x)
        budget_axis(ax, b, zero_at)
        ax.set_xlabel("detection budget B ($/day)", fontsize=8)
        ax.set_ylabel(output, fontsize=8)
        if output.startswith("capability"):
            zero_based(ax, lambda inset, t=t, x=x: draw(inset, t, x))
    handles, labels = axes[0][0].get_legend_handles_labels()
    # Below the panels: inside, it would cover the bands or the zoomed inset.
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    save(
        fig,
        path,
        f"Per output, against the detection budget B (US$ a day, log axis; B = 0 at the left "
        f"edge): blue, the median over the sampled worlds and the band {level:.0%} of them lie "
        "in (parameter uncertainty; each world the mean over its replicates, the same worlds at "
        "every budget); orange, the scenario's own world, mean and 95% Student-t interval over "
        "its replicates (seed noise). Capability axes start at 0; an inset, where there is one, "
        "zooms on the bands.",
        provenance,
        dpi=130,
    )
    return fig
