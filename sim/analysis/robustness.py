"""Robust ranking of options across sampled worlds (robust decision making, Lempert et al. 2006).

The four measures of Herman et al. (2015, "How should robustness be defined for water systems
planning under change?"), as Rhodium names them, on a loss to minimise (a figure to maximise
is negated first):

- regret type 1: the ``percentile`` over worlds of |loss(w) − loss(baseline)| / |loss(baseline)|,
  the option's deviation from its own performance in the baseline (expected) world;
- regret type 2: the ``percentile`` over worlds of loss(w) − best loss(w), the loss against the
  best option *in that world*, in the output's units, and relative to |best loss(w)|;
- satisficing type 1: the share of worlds where the option meets the threshold;
- satisficing type 2: the distance, in the unit cube of the priors, from the baseline world to
  the nearest sampled world where the option fails the threshold (larger is more robust; inf if
  it never fails in the sample).

Rhodium itself pins an old numpy and SALib, so these are written here from the definitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the tables
    from matplotlib.figure import Figure

    from sim.analysis.style import Provenance


def loss_matrix(samples: pd.DataFrame, output: str, sense: str, budget: float | None = None):
    """(worlds x options) losses of the sampled worlds (means over replicates) and the baseline
    world's loss per option (NaN where the study has no baseline world)."""
    df = samples[samples["error"].isna()]
    if budget is not None:
        df = df[df["budget"] == budget]
    sign = -1.0 if sense == "max" else 1.0
    per = df.groupby(["world", "sample", "option"])[output].mean().mul(sign)
    sampled = per.loc["sampled"].unstack("option") if "sampled" in per.index.levels[0] else None
    base = (
        per.loc["baseline"].groupby("option").mean()
        if "baseline" in per.index.get_level_values(0)
        else pd.Series(np.nan, index=sampled.columns)
    )
    return sampled, base


def regret_type1(losses: pd.DataFrame, baseline: pd.Series, percentile: float) -> pd.Series:
    rel = (losses - baseline).abs() / baseline.abs()
    return rel.quantile(percentile / 100.0)


def regret_type2(losses: pd.DataFrame, percentile: float) -> tuple[pd.Series, pd.Series]:
    """(absolute, relative) regret against the best option in each world."""
    best = losses.min(axis=1)
    regret = losses.sub(best, axis=0)
    rel = regret.div(best.abs().replace(0.0, np.nan), axis=0)
    return regret.quantile(percentile / 100.0), rel.quantile(percentile / 100.0)


def satisficing_type1(ok: pd.DataFrame) -> pd.Series:
    return ok.mean()


def satisficing_type2(ok: pd.DataFrame, unit: pd.DataFrame, baseline_unit: np.ndarray) -> pd.Series:
    """Per option: distance from the baseline world to the nearest failing world (unit cube)."""
    d = np.sqrt(((unit.to_numpy() - baseline_unit[None, :]) ** 2).sum(axis=1))
    out = {}
    for o in ok.columns:
        fail = ~ok[o].to_numpy()
        out[o] = float(d[fail].min()) if fail.any() else float("inf")
    return pd.Series(out)


def rank(
    samples: pd.DataFrame,
    unit: pd.DataFrame,
    baseline_unit: np.ndarray,
    output: str,
    sense: str = "min",
    percentile: float = 90.0,
    op: str = "<=",
    threshold: float | None = None,
) -> pd.DataFrame:
    """The options' robustness table, best (lowest regret type 2) first.

    ``unit``: each sampled world's unit-cube coordinates, indexed by sample.
    """
    from sim.analysis.discovery import OPS

    losses, base = loss_matrix(samples, output, sense)
    sign = -1.0 if sense == "max" else 1.0
    values = losses * sign  # in the output's own sense, for thresholds and the table
    r2, r2_rel = regret_type2(losses, percentile)
    table = pd.DataFrame(
        {
            "option": losses.columns,
            "mean": values.mean().to_numpy(),
            "baseline_world": (base * sign).reindex(losses.columns).to_numpy(),
            "best_in_share_of_worlds": losses.eq(losses.min(axis=1), axis=0).mean().to_numpy(),
            f"regret2_p{percentile:g}": r2.to_numpy(),
            f"regret2_rel_p{percentile:g}": r2_rel.to_numpy(),
            "regret2_max": losses.sub(losses.min(axis=1), axis=0).max().to_numpy(),
            f"regret1_p{percentile:g}": regret_type1(losses, base, percentile)
            .reindex(losses.columns)
            .to_numpy(),
        }
    )
    if threshold is not None:
        ok = pd.DataFrame(
            OPS[op](values.to_numpy(), threshold), index=values.index, columns=values.columns
        )
        table["satisficing1"] = satisficing_type1(ok).to_numpy()
        table["satisficing2"] = satisficing_type2(
            ok, unit.loc[values.index], baseline_unit
        ).to_numpy()
    return table.sort_values(f"regret2_p{percentile:g}", ignore_index=True)


def figure(
    samples: pd.DataFrame,
    table: pd.DataFrame,
    output: str,
    sense: str,
    path,
    title: str,
    provenance: Provenance | None = None,
) -> Figure:
    """Left: each option's regret (type 2) across the worlds, as boxes. Right: its loss in each
    world against the best option's."""
    import matplotlib.pyplot as plt

    from sim.analysis.style import coincide_notes, coinciding, legend, save, zero_based

    losses, _ = loss_matrix(samples, output, sense)
    sign = -1.0 if sense == "max" else 1.0
    order = list(table["option"])
    regret = losses.sub(losses.min(axis=1), axis=0)[order]
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(order) + 2.5))
    axes[0].boxplot(
        [regret[o].to_numpy() for o in order][::-1],
        orientation="horizontal",
        tick_labels=order[::-1],
        whis=(10, 90),
        showfliers=True,
    )
    axes[0].set_xlabel(f"regret: {output} against the best option in the same world", fontsize=7)
    axes[0].tick_params(labelsize=7)
    best = losses.min(axis=1) * sign

    def draw(ax, labels: bool) -> None:
        for o in order:
            ax.scatter(best, losses[o] * sign, s=8, label=o if labels else None)
        lim = [float(np.nanmin(best)), float(np.nanmax(best))]
        ax.plot(lim, lim, color="grey", lw=0.6, ls="--")

    draw(axes[1], True)
    if output.startswith("capability"):  # capability axes from 0, zoomed inset where needed
        zero_based(axes[1], lambda a: draw(a, False), axes="xy")
    axes[1].set_xlabel(f"best option's {output}", fontsize=7)
    axes[1].set_ylabel(f"option's {output}", fontsize=7)
    # Judged on the regrets (left panel's scale): options a hair apart on the right panel's
    # scale can still differ by millions, which the note must not call coinciding.
    lo, hi = axes[0].get_xlim()
    found = coinciding(
        {o: (best.to_numpy(), regret[o].to_numpy()) for o in order}, span=float(hi - lo)
    )
    legend(axes[1], coincide_notes(found), fontsize=6, loc="upper left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save(
        fig,
        path,
        f"Robust ranking on {output} ({'lower' if sense == 'min' else 'higher'} is better): "
        "left, each option's regret (its value against the best option's in the same sampled "
        "world) across the worlds, boxes from the 10th to the 90th percentile; right, each "
        "option's value in each world against the best option's there (dashed: equal).",
        provenance,
        dpi=130,
    )
    return fig
