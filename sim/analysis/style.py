"""What the figures share: the log budget axis with B = 0 at its left edge, money labels, corner
notes, markers and line styles; capability axes from 0 with a zoom labelled as such; a note for
lines that coincide; group labels in numeric order; and :func:`save`, which writes every figure
as PNG and SVG with its caption and provenance footer."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend import Legend  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402
from matplotlib.transforms import Bbox, offset_copy  # noqa: E402

from sim.analysis.runs import natural_key  # noqa: E402


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


def budget_axis(ax: Axes, budgets: np.ndarray, zero_at: float) -> None:
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


def corner_note(ax: Axes, text: str, top: bool = False) -> None:
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


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
STYLES = ["-", "--", "-.", ":"]


# --------------------------------------------------------------------------- numeric order


def groups(df: pd.DataFrame, keys: Sequence[str]) -> list[tuple[Hashable, pd.DataFrame]]:
    """``df.groupby(keys)`` in the natural order of the keys' values (one group ``()`` when
    there are no keys): "1e5" before "1e6" whether the column holds numbers or text."""
    if not keys:
        return [((), df)]
    parts = list(df.groupby(list(keys), sort=False))
    return sorted(
        parts, key=lambda kv: natural_key(kv[0] if isinstance(kv[0], tuple) else (kv[0],))
    )


# --------------------------------------------------------------------------- coinciding lines
def coinciding(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    rtol: float = 0.01,
    span: float | None = None,
) -> list[list[str]]:
    """Groups of two or more series that draw the same line: at the same x (within ``rtol`` of
    the x range the series span) y within ``rtol`` of ``span``, the height of the y axis they
    are drawn on at most detail (the zoomed inset's where there is one; the series' own y range
    when not given)."""

    def tol(arrays) -> float:
        v = np.concatenate([np.asarray(a, float).ravel() for a in arrays] or [np.zeros(1)])
        v = v[np.isfinite(v)]
        if not v.size:
            return 0.0
        span = float(v.max() - v.min()) or float(np.abs(v).max()) or 1.0
        return rtol * span

    data = {
        k: (np.asarray(x, float)[np.argsort(x)], np.asarray(y, float)[np.argsort(x)])
        for k, (x, y) in series.items()
    }
    tx = tol([x for x, _ in data.values()])
    ty = rtol * span if span else tol([y for _, y in data.values()])

    def same(a, b) -> bool:
        (xa, ya), (xb, yb) = a, b
        if xa.shape != xb.shape:
            return False
        fa, fb = np.isfinite(ya), np.isfinite(yb)
        return bool(
            (fa == fb).all()
            and np.all(np.abs(xa - xb) <= tx)
            and np.all(np.abs(ya[fa] - yb[fb]) <= ty)
        )

    found: list[list[str]] = []
    for k, d in data.items():
        for g in found:
            if same(data[g[0]], d):
                g.append(k)
                break
        else:
            found.append([k])
    return [g for g in found if len(g) > 1]


def detail_span(ax: Axes, inset: Axes | None) -> float:
    """Height of the y axis that shows ``ax``'s lines in most detail (its inset's, if any)."""
    lo, hi = (inset if inset is not None else ax).get_ylim()
    return float(abs(hi - lo))


def coincide_notes(found: list[list[str]]) -> list[str]:
    """One line per group from :func:`coinciding`: "a and b coincide", "a, b and c coincide";
    labels of one key name it once: "policy: baseline, kyc and sanctions coincide"."""
    out = []
    for g in found:
        keys = {t.split("=", 1)[0] for t in g}
        one_key = len(keys) == 1 and all("=" in t and ", " not in t for t in g)
        names = [t.split("=", 1)[1] for t in g] if one_key else list(g)
        head = f"{keys.pop()}: " if one_key else ""
        out.append(f"{head}{', '.join(names[:-1])} and {names[-1]} coincide")
    return out


def legend(
    target: Axes | Figure,
    notes: Sequence[str] = (),
    handles: list | None = None,
    labels: list[str] | None = None,
    wrap: int = 60,
    **kwargs: Any,
) -> Legend:
    """``target.legend`` with ``notes`` (e.g. from :func:`coincide_notes`) as extra grey italic
    entries without a symbol, wrapped at ``wrap`` characters."""
    if handles is None:
        handles, labels = target.get_legend_handles_labels()
    notes = [textwrap.fill(n, wrap) for n in notes]
    handles = [*handles, *[Line2D([], [], ls="none") for _ in notes]]
    labels = [*(labels or []), *notes]
    leg = target.legend(handles, labels, **kwargs)
    for t in leg.get_texts()[len(labels) - len(notes) :]:
        t.set_fontstyle("italic")
        t.set_color("dimgrey")
    return leg


def legend_below(
    fig: Figure,
    handles: list,
    labels: list[str],
    notes: Sequence[str] = (),
    ncol: int = 4,
    fontsize: float = 8,
) -> float:
    """The groups' legend under the panels in ``ncol`` columns and, under it, ``notes`` one a
    line across the figure, the figure made taller to hold them. Returns the share of its
    height they take, for the layout's bottom margin."""
    w, h = fig.get_size_inches()
    row = 1.45 * fontsize / 72  # one legend row, inches
    wrap = int(0.9 * w * 72 / (fontsize * 0.55))
    notes = [textwrap.fill(n, wrap) for n in notes]
    lines = sum(n.count("\n") + 1 for n in notes)
    ncol = max(1, min(ncol, len(labels)))
    rows = -(-len(labels) // ncol)
    notes_in = row * lines + 0.1 if notes else 0.0
    legend_in = row * rows + 0.35 if labels else 0.0
    fig.set_size_inches(w, h + notes_in + legend_in)
    h = h + notes_in + legend_in
    kw = {"loc": "lower center", "fontsize": fontsize, "bbox_transform": fig.transFigure}
    if labels:
        fig.legend(handles, labels, ncol=ncol, bbox_to_anchor=(0.5, notes_in / h), **kw)
    if notes:
        leg = fig.legend(
            [Line2D([], [], ls="none") for _ in notes],
            notes,
            bbox_to_anchor=(0.5, 0.0),
            frameon=False,
            handlelength=0,
            handletextpad=0,
            borderpad=0.2,
            labelspacing=0.25,
            **kw,
        )
        for t in leg.get_texts():
            t.set_fontstyle("italic")
            t.set_color("dimgrey")
    return (notes_in + legend_in) / h


# --------------------------------------------------------------------------- zero-based axes
def zero_based(
    ax: Axes,
    draw: Callable[[Axes], None] | None = None,
    axes: str = "y",
    min_fill: float = 0.25,
    bounds: tuple[float, float, float, float] = (0.07, 0.07, 0.9, 0.48),
) -> Axes | None:
    """Start ``ax``'s capability axis (``axes``: "y", or "xy" for both) at 0. Where the data
    then fill less than ``min_fill`` of it, ``draw(inset)`` draws them again in an inset zoomed
    on them, titled as zoomed, its region marked on the main axes. Returns the inset, if any.

    Call it after everything is plotted: the data limits decide."""
    lim = ax.dataLim
    fills = []
    for a in axes:
        lo, hi = (lim.y0, lim.y1) if a == "y" else (lim.x0, lim.x1)
        put = ax.set_ylim if a == "y" else ax.set_xlim
        if not (np.isfinite(lo) and np.isfinite(hi)):
            put(0, 1)
            continue
        bottom = min(0.0, lo)
        top = hi + 0.05 * (hi - bottom) if hi > bottom else 1.0  # matplotlib's own margin
        put(bottom, top)
        fills.append((hi - lo) / (top - bottom))
    if draw is None or not fills or min(fills) >= min_fill:
        return None
    inset = ax.inset_axes(bounds)
    draw(inset)
    inset.set_xscale(ax.get_xscale())
    if "x" not in axes:
        x0, x1 = ax.get_xlim()
        inset.set_xticks([t for t in ax.get_xticks() if x0 <= t <= x1])
        inset.set_xticklabels([])
        inset.set_xlim(x0, x1)
    inset.minorticks_off()
    inset.tick_params(labelsize=6)
    inset.grid(alpha=0.3)
    y0, y1 = inset.get_ylim()
    ix0, ix1 = inset.get_xlim()
    what = f"y from {y0:.3g} to {y1:.3g}"
    if "x" in axes:
        what = f"x from {ix0:.3g} to {ix1:.3g}, {what}"
    inset.set_title(f"zoomed: {what}, not from 0", fontsize=7, color="dimgrey")
    # The zoomed region as a box on the main axes (no connectors: they cross the curves).
    ax.indicate_inset((ix0, y0, ix1 - ix0, y1 - y0), edgecolor="grey", alpha=0.6)
    return inset


# --------------------------------------------------------------------------- saving
@dataclass(frozen=True)
class Provenance:
    """What a figure's footer cites: what made it, the scenario, the config hash, the versions."""

    scenario: str
    config_hash: str
    version: str
    source: str = ""

    def footer(self) -> str:
        parts = [
            self.source,
            f"scenario {self.scenario or 'n/a'}",
            f"config sha256 {self.config_hash[:16] or 'n/a'}",
            self.version,
        ]
        return " · ".join(p for p in parts if p)

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], source: str = "") -> Provenance:
        """From a sweep.json or a manifest.json."""
        v = meta.get("versions") or {}
        version = f"distillsim {v.get('distillsim', '?')} (model {v.get('model_version', '?')})"
        git = meta.get("git") or {}
        if git.get("revision"):
            version += f", git {git['revision'][:10]}" + (
                " + local changes" if git["dirty"] else ""
            )
        return cls(
            str(meta.get("scenario") or ""), str(meta.get("config_hash") or ""), version, source
        )

    @classmethod
    def from_folder(cls, folder: Path, source: str = "") -> Provenance | None:
        """From the folder's sweep.json or manifest.json (None when it has neither)."""
        for name in ("sweep.json", "manifest.json"):
            p = Path(folder) / name
            if p.is_file():
                return cls.from_meta(json.loads(p.read_text()), source)
        return None


#: Points a scatter or marker line may have before it is drawn as an image in the SVG.
DENSE = 1500


def _rasterize_dense(fig: Figure) -> None:
    """Dense point clouds as images in the SVG (thousands of markers make it heavy and slow to
    open); lines and bands stay vectors."""
    for ax in fig.axes:
        for c in ax.collections:
            if len(c.get_offsets()) > DENSE:
                c.set_rasterized(True)
        for ln in ax.lines:
            if ln.get_marker() not in (None, "None", "", " ") and len(ln.get_xdata()) > DENSE:
                ln.set_rasterized(True)


def save(
    fig: Figure,
    path: Path,
    caption: str,
    provenance: Provenance | None,
    dpi: int = 110,
) -> list[Path]:
    """Write ``fig`` as ``path`` (PNG: the HTML report embeds it) and as SVG beside it, both
    with ``caption`` and the provenance footer drawn under the figure, and the two as text in
    ``<stem>.caption.txt``; close ``fig``. Returns the paths written."""
    path = Path(path)
    width_pt = fig.get_size_inches()[0] * 72
    chars = max(40, int(0.95 * width_pt / (7 * 0.56)))  # ~ 7 pt characters a line
    foot = provenance.footer() if provenance is not None else "provenance not recorded"
    # Under the figure's own area, so the axes stay where the plot function laid them out; the
    # saved area grows to hold the two texts.
    cap = fig.text(
        0.01,
        0,
        textwrap.fill(caption, chars),
        transform=offset_copy(fig.transFigure, fig=fig, y=-4, units="points"),
        ha="left",
        va="top",
        fontsize=7,
    )
    foot_text = Annotation(
        foot,
        (0, 0),
        xycoords=cap,
        xytext=(0, -3),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=6,
        color="dimgrey",
    )
    fig.add_artist(foot_text)
    for leg in fig.legends:
        # Anchored in the figure's own area, not the saved one (which grows downwards).
        anchor = leg.get_bbox_to_anchor().transformed(fig.transFigure.inverted())
        leg.set_bbox_to_anchor(anchor, transform=fig.transFigure)
    renderer = fig.canvas.get_renderer()
    box = Bbox.union(
        [fig.bbox, cap.get_window_extent(renderer), foot_text.get_window_extent(renderer)]
    ).transformed(fig.dpi_scale_trans.inverted())
    box = Bbox.from_extents(box.x0, box.y0 - 0.06, box.x1, box.y1)
    _rasterize_dense(fig)
    svg = path.with_suffix(".svg")
    text = f"{caption}\n\n{foot}\n"
    # No date, fixed ids and text as text: the same figure gives the same file, and its words
    # (the footer's hash among them) can be searched and copied.
    with plt.rc_context({"svg.hashsalt": "distillsim", "svg.fonttype": "none"}):
        fig.savefig(path, dpi=dpi, bbox_inches=box, metadata={"Description": text})
        fig.savefig(svg, dpi=dpi, bbox_inches=box, metadata={"Description": text, "Date": None})
    plt.close(fig)
    side = path.with_name(f"{path.stem}.caption.txt")
    side.write_text(text)
    return [path, svg, side]
