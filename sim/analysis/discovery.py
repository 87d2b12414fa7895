"""Scenario discovery: in which sampled worlds is a question answered "yes"? (PRIM)

Each :class:`~sim.experiments.studies.Question` turns a study's rows into one yes/no per sampled
world (a threshold on an output, or on its relative change between two budgets or options in the
same world and replicate). PRIM (the ``prim`` package, Friedman & Fisher's patient rule
induction) peels the factor space towards the worlds that say yes; the box kept is the one with
the one that balances coverage and density best (their harmonic mean is highest) among those
at least ``min_density`` dense. Its limits read as a rule on the
factors' own units, with coverage (share of all yes-worlds inside the box) and density (share of
the box's worlds that say yes).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the tables
    from matplotlib.figure import Figure

    from sim.analysis.style import Provenance

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def answers(samples: pd.DataFrame, q, factors: list[str]) -> pd.DataFrame:
    """Per sampled world (mean over replicates): its factor values and the question's answer."""
    df = samples[(samples["world"] == "sampled") & samples["error"].isna()]

    def pick(budget, option) -> pd.Series:
        m = pd.Series(True, index=df.index)
        if budget is not None:
            m &= df["budget"] == budget
        if option is not None:
            m &= df["option"] == option
        return df[m].set_index(["sample", "replicate"])[q.output].astype(float)

    value = pick(q.budget, q.option)
    if q.against_budget is not None or q.against_option is not None:
        ref = pick(
            q.against_budget if q.against_budget is not None else q.budget,
            q.against_option if q.against_option is not None else q.option,
        )
        value = (value - ref) / ref.abs()
    if value.index.has_duplicates:
        raise ValueError(
            f"question {q.name!r}: name a budget and an option, the study has several of each"
        )
    per_world = value.groupby(level="sample").mean()
    x = df.groupby("sample")[factors].first().loc[per_world.index]
    out = x.copy()
    out["value"] = per_world.to_numpy()
    out["yes"] = OPS[q.op](per_world.to_numpy(), q.threshold)
    return out


@dataclass
class Box:
    """A PRIM box and its statistics."""

    question: str
    limits: pd.DataFrame  # factor, low, high (restricted dimensions only), qp value
    coverage: float
    density: float
    mass: float
    base_rate: float
    trajectory: pd.DataFrame  # coverage, density, mass, res dim per peeling step
    chosen: int

    def rule(self, units: dict[str, str] | None = None) -> str:
        if self.limits.empty:
            return "no restriction improves on the base rate"
        parts = []
        for _, r in self.limits.iterrows():
            lo, hi, name = r["low"], r["high"], r["factor"]
            parts.append(f"{_fmt(lo)} <= {name} <= {_fmt(hi)}")
        return " and ".join(parts)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def find_box(
    x: pd.DataFrame,
    yes: np.ndarray,
    min_density: float = 0.5,
    peel_alpha: float = 0.05,
    question: str = "",
) -> Box:
    """The PRIM box on the peeling trajectory with the highest harmonic mean of coverage and
    density among the steps whose density >= ``min_density`` (the densest if none reaches it)."""
    import prim

    y = np.asarray(yes, dtype=float)
    base = float(y.mean()) if y.size else float("nan")
    if y.size == 0 or y.sum() == 0 or y.sum() == y.size:
        return Box(
            question,
            pd.DataFrame(columns=["factor", "low", "high", "qp"]),
            float(y.sum() > 0),
            base,
            1.0,
            base,
            pd.DataFrame(),
            0,
        )
    p = prim.Prim(
        x.reset_index(drop=True), y, threshold=0.5, threshold_type=">", peel_alpha=peel_alpha
    )
    box = p.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj.index[traj["density"] >= min_density]
    balance = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
    chosen = int(balance.loc[ok].idxmax()) if len(ok) else int(traj["density"].idxmax())
    box.select(chosen)
    lim = box.limits.reset_index().rename(columns={"index": "factor", "min": "low", "max": "high"})
    lim = lim.rename(columns={lim.columns[0]: "factor"})
    qp = lim.get("qp values")
    limits = pd.DataFrame(
        {
            "factor": lim["factor"],
            "low": lim["low"].astype(float),
            "high": lim["high"].astype(float),
            "qp": qp.astype(float) if qp is not None else np.nan,
        }
    )
    row = traj.loc[chosen]
    return Box(
        question,
        limits,
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        base,
        traj,
        chosen,
    )


def figure(
    boxes: list[Box],
    x: dict[str, pd.DataFrame],
    path,
    title: str,
    provenance: Provenance | None = None,
) -> Figure:
    """Per question: the peeling trade-off (coverage vs density, chosen box marked) and the box's
    limits on each restricted factor, as a share of the factor's sampled range."""
    import matplotlib.pyplot as plt

    from sim.analysis.style import save

    n = len(boxes)
    fig, axes = plt.subplots(n, 2, figsize=(11, 3.2 * n), squeeze=False)
    for row, b in zip(axes, boxes, strict=True):
        ax = row[0]
        if not b.trajectory.empty:
            sc = ax.scatter(
                b.trajectory["coverage"],
                b.trajectory["density"],
                c=b.trajectory["res dim"],
                cmap="viridis",
                s=12,
            )
            fig.colorbar(sc, ax=ax, label="restricted factors")
            ax.scatter(
                [b.coverage],
                [b.density],
                s=80,
                facecolors="none",
                edgecolors="red",
                label="box kept",
            )
            ax.legend(fontsize=7)
        ax.set_xlabel("coverage", fontsize=7)
        ax.set_ylabel("density", fontsize=7)
        ax.set_title(f"{b.question}: base rate {b.base_rate:.0%}", fontsize=8)
        ax = row[1]
        xs = x[b.question]
        for i, (_, r) in enumerate(b.limits.iterrows()):
            lo, hi = float(xs[r["factor"]].min()), float(xs[r["factor"]].max())
            span = hi - lo if hi > lo else 1.0
            ax.plot([0, 1], [i, i], color="lightgrey", lw=6)
            ax.plot(
                [(r["low"] - lo) / span, (r["high"] - lo) / span], [i, i], color="#4c72b0", lw=6
            )
            ax.annotate(
                f"{_fmt(r['low'])} – {_fmt(r['high'])}",
                (1.02, i),
                fontsize=7,
                va="center",
                annotation_clip=False,
            )
        ax.set_yticks(range(len(b.limits)), list(b.limits["factor"]), fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the sampled range", fontsize=7)
        ax.set_title(f"box: coverage {b.coverage:.0%}, density {b.density:.0%}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save(
        fig,
        path,
        "Scenario discovery (PRIM), per question: left, coverage (share of the yes-worlds inside "
        "the box) against density (share of the box's worlds that say yes) along the peeling "
        "trajectory, coloured by the number of restricted factors, the box kept circled; right, "
        "the kept box's limits on each restricted factor, as a share of its sampled range.",
        provenance,
        dpi=130,
    )
    return fig
