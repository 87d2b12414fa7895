"""Per-run figures (PNG, units on every axis): capability, accounts, review queue, spend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig, path: Path) -> None:
    # Fixed margins (in inches) instead of tight_layout, which costs an extra draw per figure.
    w, h = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.8 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - 0.6 / h, wspace=0.25
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
) -> None:
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
    axes[0][-1].legend(loc="upper left", fontsize=8)
    note = " (harvests lose value at a new teacher release)" if releases_days else ""
    fig.suptitle(f"{title}: capability extracted by domain{note}")
    _save(fig, path)


def accounts(ts: pd.DataFrame, path: Path, title: str) -> None:
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
    _save(fig, path)


def review(ts: pd.DataFrame, path: Path, title: str) -> None:
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
    _save(fig, path)


def spend(ts: pd.DataFrame, path: Path, title: str, budget_usd_per_day: float = 0.0) -> None:
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
    _save(fig, path)


def run_figures(
    ts: pd.DataFrame,
    domains: list[str],
    folder: Path,
    title: str,
    releases_days: list[float] | None = None,
    budget_usd_per_day: float = 0.0,
) -> list[Path]:
    """Write the four run figures into ``folder``; returns their paths."""
    paths = [
        folder / "capability_by_domain.png",
        folder / "accounts.png",
        folder / "review_queue.png",
        folder / "spend.png",
    ]
    capability(ts, domains, paths[0], title, releases_days)
    accounts(ts, paths[1], title)
    review(ts, paths[2], title)
    spend(ts, paths[3], title, budget_usd_per_day)
    return paths
