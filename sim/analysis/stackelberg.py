"""The Stackelberg study's tables and figure, from :class:`sim.experiments.stackelberg.Study`.

Losses are the defender's total cost + V × capability points leaked. Choices are made on the
choice replicates; every figure here is on the report replicates (95% Student-t intervals), and
differences between two defences are paired replicate by replicate (the same random streams).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.frontier import pareto_mask  # noqa: E402
from sim.analysis.report import md_table  # noqa: E402
from sim.analysis.stats import mean_ci  # noqa: E402
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
from sim.experiments.stackelberg import Study, choose, means  # noqa: E402


def name(defence: tuple[float, str]) -> str:
    return f"${defence[0]:,.0f}/day {defence[1].replace('_', '-')}"


def _losses(runs: pd.DataFrame, defence, attacker: str, v: float) -> pd.Series:
    """Loss per report replicate of one defence against one attacker (indexed by replicate)."""
    b, m = defence
    sel = runs[
        (runs["budget_usd_per_day"] == b)
        & (runs["mix"] == m)
        & (runs["attacker"] == attacker)
        & (runs["role"] == "report")
    ]
    loss = sel["defender_total_cost_usd"] + v * sel["capability_points"]
    return pd.Series(loss.to_numpy(), index=sel["replicate"].to_numpy())


def _ci_money(values) -> str:
    m, lo, hi, n = mean_ci(np.asarray(values, dtype=float))
    if not np.isfinite(m):
        return "n/a"
    if n < 2 or not np.isfinite(lo):
        return f"${m / 1e6:,.2f}M"
    return f"${m / 1e6:,.2f}M [{lo / 1e6:,.2f}, {hi / 1e6:,.2f}]"


def choice_table(study: Study) -> pd.DataFrame:
    """Per value: the defence chosen against each attacker, its loss on the report replicates
    (reduced world and full scale) and the paired cost of assuming the attacker naive."""
    values = study.settings["values"]
    got = choose(means(study.runs, "choose"), values)
    rows = []
    for _, g in got.iterrows():
        v, br, naive = g["value_usd_per_point"], g["vs_best_response"], g["vs_naive"]
        row: dict[str, Any] = {
            "value per point": f"${v / 1e6:,.2g}M",
            "best vs best response": name(br),
            "best vs naive (fixed)": name(naive),
            "its loss vs best response (report reps, reduced)": _ci_money(
                _losses(study.runs, br, "best_response", v)
            ),
            "cost of assuming naive (paired, reduced)": _ci_money(
                _losses(study.runs, naive, "best_response", v)
                - _losses(study.runs, br, "best_response", v)
            ),
        }
        if len(study.full):
            row["its loss at full scale"] = _ci_money(_losses(study.full, br, "best_response", v))
            row["cost of assuming naive (paired, full scale)"] = _ci_money(
                _losses(study.full, naive, "best_response", v)
                - _losses(study.full, br, "best_response", v)
            )
            full = means(study.full, "report")
            best_full = choose(full, [v]).iloc[0]["vs_best_response"]
            row["best at full scale among the re-checked"] = name(best_full)
        rows.append(row)
    return pd.DataFrame(rows)


def gap_table(study: Study) -> pd.DataFrame:
    """The chosen defences against their best response: reduced world next to full scale."""
    red = means(study.runs, "report").set_index(["budget_usd_per_day", "mix", "attacker"])
    full = means(study.full, "report").set_index(["budget_usd_per_day", "mix", "attacker"])
    rows = []
    for key, f in full.iterrows():
        if key[2] != "best_response":
            continue
        r = red.loc[key]
        rows.append(
            {
                "defence": name(key[:2]),
                "capability (reduced → full)": f"{r['capability_extracted']:.3f} → "
                f"{f['capability_extracted']:.3f}",
                "defender cost (reduced → full)": f"{money(r['defender_total_cost_usd'])} → "
                f"{money(f['defender_total_cost_usd'])}",
                "attacker net value (reduced → full)": f"{money(r['attacker_net_value_usd'])} → "
                f"{money(f['attacker_net_value_usd'])}",
            }
        )
    return pd.DataFrame(rows)


def frontier_table(study: Study) -> pd.DataFrame:
    """Every defence's mean cost and leak on the report replicates, Pareto-flagged per attacker
    (the defender's frontier against each attacker)."""
    t = means(study.runs, "report")
    t["pareto"] = False
    for _, g in t.groupby("attacker"):
        t.loc[g.index, "pareto"] = pareto_mask(g["defender_total_cost_usd"], g["capability_points"])
    return t


def plot_frontier(front: pd.DataFrame, path: Path, provenance: Provenance | None = None) -> Figure:
    """Cost against leak for every defence, against the naive and the best-responding attacker,
    with each attacker's Pareto frontier; capability from 0, zoomed inset where needed."""
    fig, ax = plt.subplots(figsize=(10, 5))
    colours = {"fixed": "C0", "best_response": "C3"}
    labels = {"fixed": "naive (fixed) attacker", "best_response": "best-responding attacker"}
    mixes = list(dict.fromkeys(front["mix"]))
    parts = list(front.groupby("attacker", sort=False))

    def draw(ax: Axes, legend_labels: bool) -> None:
        for attacker, g in parts:
            c = colours.get(attacker, "C7")
            who = labels.get(attacker, attacker)
            for j, m in enumerate(mixes):
                h = g[g["mix"] == m]
                ax.scatter(
                    h["defender_total_cost_usd"] / 1e6,
                    h["capability_points"],
                    color=c,
                    marker=MARKERS[j % len(MARKERS)],
                    s=30,
                    alpha=0.8,
                    label=f"{who}, {m}" if legend_labels else None,
                )
            p = g[g["pareto"]].sort_values("defender_total_cost_usd")
            ax.plot(
                p["defender_total_cost_usd"] / 1e6,
                p["capability_points"],
                color=c,
                lw=1.2,
                label=f"frontier vs {who}" if legend_labels else None,
            )

    def budgets(ax: Axes) -> None:
        for attacker, g in parts:
            for _, r in g[g["pareto"]].iterrows():
                ax.annotate(
                    "B=0" if r["budget_usd_per_day"] == 0 else money(r["budget_usd_per_day"]),
                    (r["defender_total_cost_usd"] / 1e6, r["capability_points"]),
                    xytext=(4, 3),
                    textcoords="offset points",
                    fontsize=6,
                    color=colours.get(attacker, "C7"),
                )

    draw(ax, True)
    inset = zero_based(ax, lambda a: draw(a, False))
    budgets(inset if inset is not None else ax)  # where the points are apart
    ax.set_xlabel("defender total cost over the horizon (US$ millions)")
    ax.set_ylabel("capability points leaked (100 × capability, summed over operators)", fontsize=9)
    ax.set_title("the defender's frontier against each attacker (reduced world, report replicates)")
    ax.grid(alpha=0.3)
    found = coinciding(
        {
            labels.get(a, a): (
                g.sort_values(["budget_usd_per_day", "mix"])["defender_total_cost_usd"] / 1e6,
                g.sort_values(["budget_usd_per_day", "mix"])["capability_points"],
            )
            for a, g in parts
        },
        span=detail_span(ax, inset),
    )
    # Beside the axes: inside, it would cover points or the zoomed inset.
    legend(
        ax, coincide_notes(found), wrap=40, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    fig.tight_layout()
    save(
        fig,
        path,
        "Every candidate defence (detection budget B a day and its split among detectors; "
        "marker: the split) by the defender's total cost over the horizon (US$ millions) and "
        "the capability points leaked (100 x capability, summed over operators), against the "
        "naive (fixed) attacker and the attacker's best response, means over the report "
        "replicates of the reduced world; lines: each attacker's Pareto frontier, labelled "
        "with B. The capability axis starts at 0; an inset, where there is one, zooms on the "
        "points.",
        provenance,
    )
    return fig


def write(folder: Path, study: Study) -> None:
    """Tables (CSV and summary.md) and the frontier figure into ``folder``."""
    folder = Path(folder)
    s = study.settings
    study.runs.to_csv(folder / "runs.csv", index=False)
    cand = means(study.runs, "report")
    cand.to_csv(folder / "candidates.csv", index=False)
    choices = choice_table(study)
    choices.to_csv(folder / "choices.csv", index=False)
    front = frontier_table(study)
    front.to_csv(folder / "frontier.csv", index=False)
    plot_frontier(
        front, folder / "frontier.png", Provenance.from_folder(folder, "stackelberg study")
    )

    def fmt(df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        for c in out.columns:
            if c.startswith("budget"):
                out[c] = out[c].map(lambda x: f"${x:,.0f}")
            elif c.endswith("usd"):
                out[c] = out[c].map(lambda x: f"${x / 1e6:,.2f}M")
            elif out[c].dtype.kind == "f":
                out[c] = out[c].map(lambda x: f"{x:,.4g}")
        return out

    lines = [
        "# Stackelberg study",
        "",
        f"World: {' '.join(s['overrides']) or 'defaults'}; reduced: {' '.join(s['reduced'])}. "
        f"Chosen on replicates {s['choose_replicates']}, reported on "
        f"{s['report_replicates']} (95% intervals; paired differences share random streams).",
        "",
        "## The defence per defender value (loss = defender total cost + V x capability points "
        "leaked)",
        "",
        md_table(choices),
        "",
        "## The frontier against each attacker (report replicates, reduced world)",
        "",
        "![frontier](frontier.png)",
        "",
        md_table(fmt(front)),
        "",
    ]
    if len(study.full):
        study.full.to_csv(folder / "full_scale.csv", index=False)
        lines += [
            "## The chosen defences at full scale, against their best response",
            "",
            md_table(gap_table(study)),
            "",
        ]
    (folder / "summary.md").write_text("\n".join(lines))
