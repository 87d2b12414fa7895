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

from sim.analysis.runs import B, label, world_keys  # noqa: E402
from sim.analysis.style import MARKERS, money, note_zoomed_y  # noqa: E402


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


def plot_frontier(front: pd.DataFrame, groups: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (key, g) in enumerate(front.groupby(groups, sort=True) if groups else [((), front)]):
        ax.scatter(
            g["defender_total_cost_usd"] / 1e6,
            g["capability_extracted"],
            s=30,
            marker=MARKERS[i % len(MARKERS)],
            color=f"C{i % 10}",
            label=label(groups, key),
            alpha=0.85,
            zorder=3,
        )
    worlds = world_keys(groups)
    styles = ["--", ":", "-.", (0, (5, 1))]
    for j, (key, g) in enumerate(front.groupby(worlds, sort=True) if worlds else [((), front)]):
        p = g[g["pareto"]].sort_values("defender_total_cost_usd")
        x, y = p["defender_total_cost_usd"] / 1e6, p["capability_extracted"]
        lab = "Pareto-efficient" + (f" ({label(worlds, key)})" if worlds else "")
        ax.plot(x, y, color="black", ls=styles[j % len(styles)], lw=0.8, label=lab, zorder=2)
        ax.scatter(x, y, s=120, facecolors="none", edgecolors="black", lw=0.6, zorder=2)
        placed: list[tuple[float, float, str]] = []
        for xi, yi, b in zip(x, y, p[B], strict=True):  # the budget of each efficient point
            text = "B=0" if b == 0 else money(b)
            px, py = ax.transData.transform((xi, yi))
            if any(t == text and abs(px - qx) + abs(py - qy) < 25 for qx, qy, t in placed):
                continue  # a neighbour already says it
            placed.append((px, py, text))
            ax.annotate(text, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=6)
    cost = front["defender_total_cost_usd"].to_numpy(float)
    if (cost > 0).all() and cost.max() > 20 * cost.min():  # spans decades: spread the cheap end
        ax.set_xscale("log")
        ax.set_xlabel("defender total cost over the horizon (US$ millions, log scale)")
    else:
        ax.set_xlabel("defender total cost over the horizon (US$ millions)")
    ax.set_ylabel("capability leaked (share of the gap closed)")
    ax.set_title("defender cost frontier (each point: mean over replicates)")
    note_zoomed_y(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
