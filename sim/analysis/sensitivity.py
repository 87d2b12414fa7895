"""Global sensitivity: Morris screening and Sobol' indices (SALib), with bootstrap intervals.

Both read a study's response vector in design order (seed replicates averaged first, so the
indices are about the inputs, not the seed noise), on the unit cube the design was drawn in:
Morris' mu* is then the mean absolute change of an output when a factor moves across its
prior, comparable between factors. Sobol' indices come with their convergence check (the same
estimate on the first half of the base samples) and a negative estimate whose interval covers 0
is shown as ~0, not hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the tables
    from matplotlib.figure import Figure

    from sim.analysis.style import Provenance
from sim.experiments.samplers import unit_problem


def morris(
    names: list[str],
    unit: np.ndarray,
    y: np.ndarray,
    levels: int,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """mu, mu*, its bootstrap interval and sigma per factor, ranked by mu*."""
    from SALib.analyze import morris as analyze

    r = analyze.analyze(
        unit_problem(names),
        np.asarray(unit, dtype=float),
        np.asarray(y, dtype=float),
        num_resamples=resamples,
        conf_level=confidence,
        num_levels=levels,
        seed=seed,
    )
    df = pd.DataFrame(
        {
            "factor": list(names),
            "mu": np.asarray(r["mu"], dtype=float),
            "mu_star": np.asarray(r["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(r["mu_star_conf"], dtype=float),
            "sigma": np.asarray(r["sigma"], dtype=float),
        }
    )
    df["mu_star_low"] = (df["mu_star"] - df["mu_star_conf"]).clip(lower=0.0)
    df["mu_star_high"] = df["mu_star"] + df["mu_star_conf"]
    return df.sort_values("mu_star", ascending=False, ignore_index=True)


def _sobol(names, y, second_order, resamples, confidence, seed) -> dict:
    from SALib.analyze import sobol as analyze

    return analyze.analyze(
        unit_problem(names),
        np.asarray(y, dtype=float),
        calc_second_order=second_order,
        num_resamples=resamples,
        conf_level=confidence,
        seed=seed,
    )


def sobol(
    names: list[str],
    y: np.ndarray,
    second_order: bool = False,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) indices with intervals, and the same at N/2.

    ``y`` is in Saltelli's order: N blocks of k + 2 rows (2k + 2 with second order), so its
    first N/2 blocks are themselves a design of half the size.
    """
    k = len(names)
    block = 2 * k + 2 if second_order else k + 2
    y = np.asarray(y, dtype=float)
    n = y.size // block
    full = _sobol(names, y, second_order, resamples, confidence, seed)
    half = _sobol(names, y[: (n // 2) * block], second_order, resamples, confidence, seed)
    df = pd.DataFrame(
        {
            "factor": list(names),
            "S1": full["S1"],
            "S1_conf": full["S1_conf"],
            "ST": full["ST"],
            "ST_conf": full["ST_conf"],
            "S1_half": half["S1"],
            "ST_half": half["ST"],
        }
    )
    for s in ("S1", "ST"):
        df[f"{s}_low"] = df[s] - df[f"{s}_conf"]
        df[f"{s}_high"] = df[s] + df[f"{s}_conf"]
        # A negative estimate is sampling error around a small index: show it as ~0 when its
        # interval covers 0, keep it visible (and flagged) when it does not.
        df[f"{s}_shown"] = np.where((df[s] < 0) & (df[f"{s}_high"] >= 0), 0.0, df[s])
        df[f"{s}_negative"] = df[f"{s}_high"] < 0
    df["change_at_half"] = np.maximum(
        (df["S1"] - df["S1_half"]).abs(), (df["ST"] - df["ST_half"]).abs()
    )
    df["n_base"] = n
    return df.sort_values("ST", ascending=False, ignore_index=True)


def converged(df: pd.DataFrame, tolerance: float = 0.05) -> bool:
    """Whether no index moved by more than ``tolerance`` between N/2 and N."""
    return bool((df["change_at_half"] <= tolerance).all())


# --------------------------------------------------------------------------- figures
def morris_figure(
    tables: dict[str, pd.DataFrame], path, title: str, provenance: Provenance | None = None
) -> Figure:
    """Per output: mu* ranked with its interval (bars) and the mu*-sigma plane."""
    import matplotlib.pyplot as plt

    from sim.analysis.style import save

    n = len(tables)
    fig, axes = plt.subplots(
        n, 2, figsize=(11, 2.2 + 0.32 * max(len(t) for t in tables.values()) * n)
    )
    axes = np.atleast_2d(axes)
    for row, (label, t) in zip(axes, tables.items(), strict=True):
        t = t.iloc[::-1]
        y = np.arange(len(t))
        err = np.vstack([t["mu_star"] - t["mu_star_low"], t["mu_star_high"] - t["mu_star"]])
        row[0].barh(y, t["mu_star"], xerr=err, color="#4c72b0", capsize=2)
        row[0].set_yticks(y, t["factor"], fontsize=7)
        row[0].set_xlabel("mu* (mean |elementary effect| over the prior's range)", fontsize=7)
        row[0].set_title(label, fontsize=8)
        row[1].scatter(t["mu_star"], t["sigma"], s=14, color="#dd8452")
        for _, r in t.nlargest(6, "mu_star").iterrows():  # the rest crowd the origin
            row[1].annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=6)
        lim = max(float(t["mu_star"].max()), float(t["sigma"].max()), 1e-12)
        row[1].plot([0, lim], [0, lim], color="grey", lw=0.6, ls="--")
        row[1].set_xlabel("mu*", fontsize=7)
        row[1].set_ylabel("sigma (non-linearity, interactions)", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save(
        fig,
        path,
        "Morris screening, per output: left, each factor's mu* (the mean absolute change of the "
        "output when the factor moves across its prior, in the output's units) with its "
        "bootstrap interval; right, mu* against sigma (large sigma: non-linear effects or "
        "interactions), the six largest named, dashed where sigma = mu*.",
        provenance,
        dpi=130,
    )
    return fig


def sobol_figure(
    tables: dict[str, pd.DataFrame], path, title: str, provenance: Provenance | None = None
) -> Figure:
    """Per output: S1 and ST bars with their bootstrap intervals (negative-but-~0 shown as 0)."""
    import matplotlib.pyplot as plt

    from sim.analysis.style import save

    n = len(tables)
    k = max(len(t) for t in tables.values())
    fig, axes = plt.subplots(n, 1, figsize=(9, (1.6 + 0.28 * k) * n), squeeze=False)
    for ax, (label, t) in zip(axes[:, 0], tables.items(), strict=True):
        t = t.iloc[::-1]
        y = np.arange(len(t))
        for s, shift, name, color in (
            ("ST", 0.2, "total (ST)", "#4c72b0"),
            ("S1", -0.2, "first order (S1)", "#dd8452"),
        ):
            ax.barh(
                y + shift,
                t[f"{s}_shown"],
                height=0.4,
                xerr=t[f"{s}_conf"],
                label=name,
                color=color,
                capsize=2,
            )
        ax.set_yticks(y, t["factor"], fontsize=7)
        ax.set_xlim(left=min(0.0, float(t["S1_low"].min())))
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(label, fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
    axes[-1, 0].set_xlabel("share of the output's variance (bootstrap 95% intervals)", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    save(
        fig,
        path,
        "Sobol' indices, per output: the share of its variance over the priors each factor "
        "explains alone (first order, S1) and with all its interactions (total, ST), with "
        "bootstrap 95% intervals; a negative estimate whose interval covers 0 is shown as 0.",
        provenance,
        dpi=130,
    )
    return fig
