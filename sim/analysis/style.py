"""What the sweep figures share: the log budget axis with B = 0 at its left edge, money labels,
corner notes, markers and line styles."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402


def x_positions(budgets: np.ndarray) -> tuple[np.ndarray, float]:
    pos = budgets[budgets > 0]
    zero_at = (pos.min() / 4.0) if pos.size else 1.0
    return np.where(budgets > 0, budgets, zero_at), zero_at


def money(x: float) -> str:
    sign = "-" if x < 0 else ""
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:.3g}{unit}"
    return f"{sign}${abs(x):,.0f}"


def budget_axis(ax, budgets: np.ndarray, zero_at: float) -> None:
    """Log B axis labelled at the swept budgets (all of them when few), with B = 0 as "0"."""
    ax.set_xscale("log")
    ax.minorticks_off()
    pos = np.unique(budgets[budgets > 0])
    if pos.size > 12:  # too many to label: the decades, within the data
        pos = [t for t in ax.get_xticks() if pos.min() <= t <= pos.max()]
    has_zero = bool((budgets == 0).any())
    ax.set_xticks([*([zero_at] if has_zero else []), *pos])
    ax.set_xticklabels(
        [*(["0"] if has_zero else []), *[money(t) for t in pos]], rotation=40, fontsize=7
    )


def corner_note(ax, text: str, top: bool = False) -> None:
    """A small grey note in the bottom-right (or top-left) corner of the axes."""
    ax.annotate(
        text,
        (0.01, 0.99) if top else (0.99, 0.01),
        xycoords="axes fraction",
        ha="left" if top else "right",
        va="top" if top else "bottom",
        fontsize=7,
        color="grey",
    )


def note_zoomed_y(ax) -> None:
    """Say so when the y axis is zoomed in: small differences then look large."""
    if ax.get_ylim()[0] > 0:
        corner_note(ax, "y axis does not start at 0")


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
STYLES = ["-", "--", "-.", ":"]
