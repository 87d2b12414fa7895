"""Per-run figures (PNG and SVG, units on every axis, caption and provenance footer):
capability, accounts, review queue, spend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.style import Provenance, coincide_notes, coinciding, legend, save  # noqa: E402


def _save(fig: Figure, path: Path, caption: str, provenance: Provenance | None) -> list[Path]:
    # Fixed margins (in inches) instead of tight_layout, which costs an extra draw per figure.
    w, h = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.8 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - 0.6 / h, wspace=0.25
    )
    return save(fig, path, caption, provenance, dpi=100)


def _ops(ts: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(ts["operator"]))


def _colour(ts: pd.DataFrame, op: str) -> str:
    """The same colour for an operator in every panel and figure."""
    return f"C{_ops(ts).index(op) % 10}"


def _releases(ax, releases_days: list[float]) -> None:
    for i, r in enumerate(releases_days):
        ax.axvline(r, color="grey", ls=":", lw=1)
        ax.annotate(
            "new teacher release" if i == 0 else "",
            (r, 0.98),
            xycoords=("data", "axes fraction"),
            ha="right",
            va="top",
            rotation=90,
            fontsize=7,
            color="grey",
        )


def capability(
    ts: pd.DataFrame,
    domains: list[str],
    path: Path,
    title: str,
    releases_days: list[float] | None = None,
    provenance: Provenance | None = None,
) -> Figure:
    ops = _ops(ts)
    fig, axes = plt.subplots(1, len(ops), figsize=(5.5 * len(ops), 4), squeeze=False, sharey=True)
    for ax, op in zip(axes[0], ops, strict=True):
        d = ts[ts["operator"] == op]
        styles = ["-", "--", "-.", ":"]
        for i, dm in enumerate(domains):
            # Distinct dashes: domains with the same curve and targeting overlap exactly.
            ax.plot(
                d["day"],
                d[f"capability_{dm}"],
                lw=1.4,
                ls=styles[i % len(styles)],
                label=dm.replace("_", " "),
            )
        ax.plot(d["day"], d["capability"], color="black", lw=2.2, label="overall (value-weighted)")
        _releases(ax, releases_days or [])
        ax.set_title(op)
        ax.set_xlabel("day of campaign")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("share of teacher-student gap closed")
    notes = []
    for op in ops:
        d = ts[ts["operator"] == op]
        found = coinciding(
            {
                **{dm.replace("_", " "): (d["day"], d[f"capability_{dm}"]) for dm in domains},
                "overall": (d["day"], d["capability"]),
            },
            span=1.0,  # the axis runs from 0 to 1
        )
        notes += [n + (f" ({op})" if len(ops) > 1 else "") for n in coincide_notes(found)]
    legend(axes[0][-1], notes, loc="upper left", fontsize=8)
    note = " (harvests lose value at a new teacher release)" if releases_days else ""
    fig.suptitle(f"{title}: capability extracted by domain{note}")
    _save(
        fig,
        path,
        "Capability the attacker has extracted, per operator, by day of the campaign: per "
        "capability domain (share of that domain's teacher-student gap closed) and overall "
        "(value-weighted, black); the axis runs from 0 to the whole gap."
        + (" Dotted lines: new teacher releases, at which harvests lose value." if note else ""),
        provenance,
    )
    return fig


def accounts(
    ts: pd.DataFrame, path: Path, title: str, provenance: Provenance | None = None
) -> Figure:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for op in _ops(ts):
        d = ts[ts["operator"] == op]
        c = _colour(ts, op)
        a1.plot(d["day"], d["accounts_active"], color=c, label=op)
        a2.plot(d["day"], d["accounts_banned_cum"], color=c, label=f"{op} banned")
        a2.plot(d["day"], d["accounts_created_cum"], color=c, ls="--", label=f"{op} created")
    a1.set_title("active attacker accounts")
    a1.set_ylabel("accounts")
    a2.set_title("attacker accounts created and banned (cumulative)")
    a2.set_ylabel("accounts")
    for a in (a1, a2):
        a.set_xlabel("day of campaign")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.suptitle(title)
    _save(
        fig,
        path,
        "Attacker accounts per operator by day of the campaign: left, those active; right, "
        "those created (dashed) and banned (solid), cumulative.",
        provenance,
    )
    return fig


def review(
    ts: pd.DataFrame, path: Path, title: str, provenance: Provenance | None = None
) -> Figure:
    d = ts[ts["operator"] == _ops(ts)[0]]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.plot(d["day"], d["review_backlog"], color="tab:red")
    a1.set_title("review backlog")
    a1.set_ylabel("cases waiting")
    a2.plot(
        d["day"],
        d["review_wait_hours"],
        ".",
        ms=3,
        color="tab:purple",
        alpha=0.5,
        label="cases starting that hour",
    )
    daily = d.groupby(d["hour"] // 24)
    a2.plot(
        daily["day"].max(),
        daily["review_wait_hours"].mean(),
        color="tab:purple",
        label="daily mean",
    )
    a2.set_title("wait before review")
    a2.legend(fontsize=8)
    a2.set_ylabel("hours")
    for a in (a1, a2):
        a.set_xlabel("day of campaign")
        a.grid(alpha=0.3)
    fig.suptitle(title)
    _save(
        fig,
        path,
        "The defender's human review queue by day of the campaign: left, cases waiting; right, "
        "hours the cases starting review each hour waited (dots) and their daily mean.",
        provenance,
    )
    return fig


def spend(
    ts: pd.DataFrame,
    path: Path,
    title: str,
    budget_usd_per_day: float = 0.0,
    provenance: Provenance | None = None,
) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for op in _ops(ts):
        d = ts[ts["operator"] == op]
        ax.plot(
            d["day"],
            d["attacker_spend_cum_usd"] / 1e6,
            color=_colour(ts, op),
            label=f"attacker {op} (cash)",
        )
    d = ts[ts["operator"] == _ops(ts)[0]]
    ax.plot(
        d["day"],
        d["detection_spend_cum_usd"] / 1e6,
        color="black",
        label="defender detection spend",
    )
    # Drawn over the spend line: running detectors spend their whole share, so the two coincide.
    ax.plot(
        d["day"],
        d["day"] * budget_usd_per_day / 1e6,
        color="tab:orange",
        lw=2,
        ls=(0, (1, 3)),
        label="detection budget B (cumulative)",
        zorder=3,
    )
    ax.plot(
        d["day"],
        d["defender_total_cost_cum_usd"] / 1e6,
        color="black",
        ls="--",
        label="defender total cost",
    )
    ax.set_xlabel("day of campaign")
    ax.set_ylabel("cumulative US$ (millions)")
    ax.set_title(f"{title}: cumulative spend of both sides")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(
        fig,
        path,
        "Cumulative spend by day of the campaign, US$ millions: each attacker operator's cash, "
        "the defender's detection spend, the detection budget B x days (dotted; the two "
        "coincide when the running detectors spend their whole share) and the defender's total "
        "cost (dashed).",
        provenance,
    )
    return fig


def run_figures(
    ts: pd.DataFrame,
    domains: list[str],
    folder: Path,
    title: str,
    releases_days: list[float] | None = None,
    budget_usd_per_day: float = 0.0,
    provenance: Provenance | None = None,
) -> list[Path]:
    """Write the four run figures into ``folder`` (PNG, SVG and caption each); returns the
    PNGs' paths."""
    paths = [
        folder / "capability_by_domain.png",
        folder / "accounts.png",
        folder / "review_queue.png",
        folder / "spend.png",
    ]
    capability(ts, domains, paths[0], title, releases_days, provenance)
    accounts(ts, paths[1], title, provenance)
    review(ts, paths[2], title, provenance)
    spend(ts, paths[3], title, budget_usd_per_day, provenance)
    return paths


def world_run_figure(
    ts: pd.DataFrame,
    summary: dict,
    path: Path,
    title: str,
    releases_days: list[float] | None = None,
    provenance: Provenance | None = None,
) -> Figure:
    """A world of several labs (MODEL §12): per provider, the attacker exchanges it answered a
    day (where the demand went), the headline capability from its teacher alone with the
    world's from all teachers, and the attacker accounts it banned."""
    provs = list(dict.fromkeys(ts["provider"]))
    head = summary.get("headline_operator")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ts = ts.assign(day_i=(ts["hour"] // 24).astype(int))
    for i, p in enumerate(provs):
        mine = ts[ts["provider"] == p]
        colour = f"C{i % 10}"
        daily = mine.groupby("day_i")["exchanges_harvested"].sum()
        axes[0].plot(daily.index + 1, daily.to_numpy() / 1e6, color=colour, label=p)
        ops = mine[mine["operator"] == head] if head else mine
        cap = ops.groupby("hour")["capability"].sum()
        axes[1].plot(
            (cap.index + 1) / 24.0, cap.to_numpy(), color=colour, label=f"from {p}'s teacher"
        )
        bans = mine.groupby("hour")["accounts_banned_cum"].sum()
        axes[2].plot((bans.index + 1) / 24.0, bans.to_numpy(), color=colour, label=p)
    world = summary.get("capability_by_day") or []
    axes[1].plot(
        range(1, len(world) + 1), world, color="black", lw=2, label="from all teachers (world)"
    )
    axes[0].set(xlabel="day", ylabel="attacker exchanges answered (M a day)")
    axes[1].set(
        xlabel="day",
        ylabel=f"capability extracted ({head or 'all operators'})",
        ylim=(0, None),
    )
    axes[2].set(xlabel="day", ylabel="attacker accounts banned (cumulative)")
    for ax in axes:
        _releases(ax, releases_days or [])
        ax.set_xlim(left=0)
    for ax in (axes[0], axes[1]):
        legend(ax, fontsize=7)
    fig.suptitle(f"{title}: where the demand went and what it extracted", fontsize=10)
    caption = (
        "Left: attacker exchanges each lab answered a day (all operators): demand moves away from "
        "a lab that bans. Middle: the headline operator's capability from each lab's teacher "
        "alone, and from all teachers together (the several-teacher rule, MODEL §12). Right: "
        "attacker accounts each lab banned."
    )
    _save(fig, path, caption, provenance)
    return fig
