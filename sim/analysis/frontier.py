"""The defender's cost frontier.

A point is Pareto-efficient if no other point in its world has both lower-or-equal defender total
cost and lower-or-equal capability leaked (one of them strictly lower).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.runs import B, label, world_keys  # noqa: E402
from sim.analysis.style import (  # noqa: E402
    MARKERS,
    Provenance,
    coincide_notes,
    coinciding,
    detail_span,
    legend,
    money,
    save,
    zero_based,
)
from sim.analysis.style import groups as groups_of  # noqa: E402


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


def plot_frontier(
    front: pd.DataFrame, groups: list[str], path: Path, provenance: Provenance | None = None
) -> Figure:
    """Cost against capability leaked, the Pareto set of each world joined; capability from 0
    with a zoomed inset where the points are close."""
    fig, ax = plt.subplots(figsize=(9.5, 5))
    parts = groups_of(front, groups)
    worlds = world_keys(groups)
    fronts = [
        (key, g[g["pareto"]].sort_values("defender_total_cost_usd"))
        for key, g in groups_of(front, worlds)
    ]
    styles = ["--", ":", "-.", (0, (5, 1))]

    def draw(ax: Axes, legend_labels: bool) -> None:
        for i, (key, g) in enumerate(parts):
            ax.scatter(
                g["defender_total_cost_usd"] / 1e6,
                g["capability_extracted"],
                s=30,
                marker=MARKERS[i % len(MARKERS)],
                color=f"C{i % 10}",
                label=label(groups, key) if legend_labels else None,
                alpha=0.85,
                zorder=3,
            )
        for j, (key, p) in enumerate(fronts):
            x, y = p["defender_total_cost_usd"] / 1e6, p["capability_extracted"]
            lab = "Pareto-efficient" + (f" ({label(worlds, key)})" if worlds else "")
            ax.plot(
                x,
                y,
                color="black",
                ls=styles[j % len(styles)],
                lw=0.8,
                label=lab if legend_labels else None,
                zorder=2,
            )
            ax.scatter(x, y, s=120, facecolors="none", edgecolors="black", lw=0.6, zorder=2)

    def budgets(ax: Axes) -> None:
        """The budget of each efficient point, unless a neighbour already says it."""
        for _, p in fronts:
            x, y = p["defender_total_cost_usd"] / 1e6, p["capability_extracted"]
            placed: list[tuple[float, float, str]] = []
            for xi, yi, b in zip(x, y, p[B], strict=True):
                text = "B=0" if b == 0 else money(b)
                px, py = ax.transData.transform((xi, yi))
                if any(t == text and abs(px - qx) + abs(py - qy) < 25 for qx, qy, t in placed):
                    continue
                placed.append((px, py, text))
                ax.annotate(text, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=6)

    draw(ax, True)
    cost = front["defender_total_cost_usd"].to_numpy(float)
    log = bool((cost > 0).all() and cost.max() > 20 * cost.min())  # decades: spread the cheap end
    if log:
        ax.set_xscale("log")
        ax.set_xlabel("defender total cost over the horizon (US$ millions, log scale)")
    else:
        ax.set_xlabel("defender total cost over the horizon (US$ millions)")
    inset = zero_based(ax, lambda a: draw(a, False))
    budgets(inset if inset is not None else ax)  # where the points are apart
    ax.set_ylabel("capability leaked (share of the gap closed)")
    ax.set_title("defender cost frontier (each point: mean over replicates)")
    ax.grid(alpha=0.3)
    notes = coincide_notes(
        coinciding(
            {
                label(groups, k): (
                    g["defender_total_cost_usd"].to_numpy(float),
                    g["capability_extracted"].to_numpy(float),
                )
                for k, g in parts
            },
            span=detail_span(ax, inset),
        )
    )
    # Beside the axes: inside, it would cover points or the zoomed inset.
    legend(ax, notes, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    save(
        fig,
        path,
        "Defender's total cost over the horizon (detection, false positives, legitimate users' "
        "costs; US$ millions) against the capability leaked (share of the teacher-student gap "
        "closed), one point per swept configuration (mean over replicates); circled and joined, "
        "the Pareto-efficient points of each world (none cheaper that leaks no more), labelled "
        "with their budget B a day. The capability axis starts at 0; an inset, where there is "
        "one, zooms on the points.",
        provenance,
    )
    return fig
