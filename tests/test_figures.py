"""Figures that do not mislead and can be cited (issue #12): capability axes from 0 with a
labelled zoom, coinciding lines named, above-grid markers on one edge, numeric order of group
labels, and every figure as PNG + SVG with its caption and provenance footer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.breakeven import plot_breakeven
from sim.analysis.curves import plot_bands, plot_curve, plot_domains
from sim.analysis.frontier import frontier_table, plot_frontier
from sim.analysis.runs import B
from sim.analysis.style import (
    Provenance,
    coincide_notes,
    coinciding,
    groups,
    natural_key,
    save,
)

PROV = Provenance("alibaba_2026", "0123456789abcdef" * 4, "distillsim 0.1.0 (model 1)", "test")
BUDGETS = [0.0, 1e4, 1e5, 1e6]


def assert_citable(folder: Path, config_hash: str) -> None:
    """Every PNG in ``folder`` has its SVG and caption beside it, the SVG's footer (drawn as
    text) citing ``config_hash``."""
    pngs = sorted(folder.glob("*.png"))
    assert pngs, "a folder without figures proves nothing"
    for png in pngs:
        svg, side = png.with_suffix(".svg"), png.with_name(f"{png.stem}.caption.txt")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png.name
        assert svg.is_file() and side.is_file(), png.name
        text = svg.read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text, svg.name
        footer = next(t for t in text.split("<text") if "config sha256" in t)
        assert config_hash[:16] in footer, svg.name
        caption = side.read_text()
        assert len(caption.split("\n\n")[0]) > 40 and config_hash[:16] in caption, side.name


def _curve(levels: dict, key: str = "attacker", spread: float = 0.0) -> pd.DataFrame:
    """A curve table: per group a slowly falling capability near ``levels[group]``."""
    rows = []
    for g, level in levels.items():
        for b in BUDGETS:
            cap = level - 0.002 * np.log10(1 + b)
            row = {key: g, B: b, "runs": 3, "defender_total_cost_usd": 1e5 + 30 * b}
            for m, v in (("capability_extracted", cap), ("capability_coding", cap + 0.01)):
                row |= {m: v, f"{m}_lo": v - spread, f"{m}_hi": v + spread}
            rows.append(row)
    return pd.DataFrame(rows)


def _legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *[ax.get_legend() for ax in fig.axes if ax.get_legend()]]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


# --------------------------------------------------------------------------- order
def test_numeric_labels_sort_as_numbers():
    labels = ["n_half=1e6", "n=10", "n_half=1e5", "n=2", "mix=b", "mix=a"]
    assert sorted(labels, key=natural_key) == [
        "mix=a",
        "mix=b",
        "n=2",
        "n=10",
        "n_half=1e5",
        "n_half=1e6",
    ]
    df = pd.DataFrame({"k": ["10", "2", "1e5", "3.5"], "v": range(4)})
    assert [k for k, _ in groups(df, ["k"])] == [("2",), ("3.5",), ("10",), ("1e5",)]


def test_legends_list_numeric_groups_in_numeric_order(tmp_path):
    curve = _curve({"10": 0.30, "2": 0.20, "1e5": 0.10}, key="x.n")
    fig = plot_curve(curve, ["x.n"], tmp_path / "curve.png")
    assert _legend_texts(fig)[:3] == ["n=2", "n=10", "n=1e5"]
    bv = pd.DataFrame(
        {
            "group": ["n=10", "n=2"],
            "value_usd": [1e8, 1e8],
            "break_even_usd_per_day": [1e5, 2e5],
            "status": ["found", "found"],
            "largest_budget": 1e6,
            "smallest_budget": 1e4,
            "scenario_value_usd": 1e8,
        }
    )
    fig = plot_breakeven(bv, tmp_path / "be.png")
    assert _legend_texts(fig) == ["n=2", "n=10"]


# --------------------------------------------------------------------------- zoom
def test_capability_axes_start_at_zero_with_a_labelled_zoom_where_needed(tmp_path):
    close = _curve({"fixed": 0.300, "adaptive": 0.303})  # 0.3 apart by 0.003: needs a zoom
    fig = plot_curve(close, ["attacker"], tmp_path / "curve.png")
    main, delay = fig.axes[:2]
    assert main.get_ylim()[0] == 0
    (inset,) = main.child_axes
    assert "zoomed" in inset.get_title() and inset.get_ylim()[0] > 0.28
    fig = plot_frontier(frontier_table(close, ["attacker"]), ["attacker"], tmp_path / "f.png")
    assert fig.axes[0].get_ylim()[0] == 0 and "zoomed" in fig.axes[0].child_axes[0].get_title()
    fig = plot_domains(close, ["attacker"], tmp_path / "d.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2 and all(ax.get_ylim()[0] == 0 for ax in panels)
    assert all("zoomed" in ax.child_axes[0].get_title() for ax in panels)
    # Curves far apart fill the axis from 0: no zoom.
    apart = _curve({"fixed": 0.6, "adaptive": 0.1})
    fig = plot_curve(apart, ["attacker"], tmp_path / "curve2.png")
    assert fig.axes[0].get_ylim()[0] == 0 and not fig.axes[0].child_axes


def test_study_bands_start_capability_at_zero(tmp_path):
    t = pd.DataFrame(
        {
            "budget": BUDGETS,
            "param_low": [0.30, 0.299, 0.298, 0.297],
            "param_high": [0.31, 0.309, 0.308, 0.307],
            "median": [0.305, 0.304, 0.303, 0.302],
            "baseline_replicates": 0,
        }
    )
    net = t.assign(param_low=-5e6, param_high=-1e6, median=-3e6)
    fig = plot_bands({"capability_extracted": t, "attacker_net_value_usd": net}, tmp_path / "b.png")
    cap, money = fig.axes[:2]
    assert cap.get_ylim()[0] == 0 and "zoomed" in cap.child_axes[0].get_title()
    assert money.get_ylim()[1] < 0  # not a capability: left as the data put it


# --------------------------------------------------------------------------- coincide
def test_coinciding_series_are_found_within_a_share_of_the_axis():
    x = np.array(BUDGETS)
    series = {"a": (x, [0.3, 0.2, 0.1, 0.0]), "b": (x, [0.3, 0.2, 0.1, 0.001]), "c": (x, x * 0)}
    assert coinciding(series, span=0.3) == [["a", "b"]]
    assert coinciding(series, span=0.01) == []  # on a zoomed axis 0.001 is visible
    assert coinciding({"a": series["a"], "c": series["c"]}, span=0.3) == []
    assert coincide_notes([["policy=a", "policy=b", "policy=c"], ["x=1, y=2", "x=2, y=2"]]) == [
        "policy: a, b and c coincide",
        "x=1, y=2 and x=2, y=2 coincide",
    ]


def test_the_legend_says_which_lines_coincide_and_only_then(tmp_path):
    same = _curve({"fixed": 0.3, "adaptive": 0.3}, spread=0.01)
    texts = _legend_texts(plot_curve(same, ["attacker"], tmp_path / "c.png"))
    assert "attacker: adaptive and fixed coincide" in texts
    front = frontier_table(same, ["attacker"])
    texts = _legend_texts(plot_frontier(front, ["attacker"], tmp_path / "f.png"))
    assert "attacker: adaptive and fixed coincide" in texts
    apart = _curve({"fixed": 0.3, "adaptive": 0.1}, spread=0.01)
    texts = _legend_texts(plot_curve(apart, ["attacker"], tmp_path / "c2.png"))
    assert not any("coincide" in t for t in texts)
    texts = _legend_texts(
        plot_frontier(frontier_table(apart, ["attacker"]), ["attacker"], tmp_path / "f2.png")
    )
    assert not any("coincide" in t for t in texts)


# --------------------------------------------------------------------------- break-even
def test_markers_above_or_below_the_grid_share_one_edge(tmp_path):
    rows = []
    for i, grp in enumerate(["a", "b", "c"]):
        for v, status in ((1e7, "below"), (1e8, "found"), (1e9, "above"), (3e9, "above")):
            rows.append(
                {
                    "group": grp,
                    "value_usd": v,
                    "break_even_usd_per_day": 1e5 * (i + 1) if status == "found" else None,
                    "status": status,
                    "largest_budget": 1e6 * (i + 1),  # grids of different reach
                    "smallest_budget": 1e3,
                    "scenario_value_usd": 1e8,
                }
            )
    fig = plot_breakeven(pd.DataFrame(rows), tmp_path / "be.png")
    above, main, below = fig.axes  # a strip above the axes of values, one below
    assert above.get_position().y0 > main.get_position().y1 > main.get_position().y0
    assert below.get_position().y1 < main.get_position().y0
    for strip, status in ((above, "above"), (below, "below")):
        marks = [c for ax in fig.axes for c in ax.collections if c.get_gid() == status]
        assert len(marks) == 3 and all(c.axes is strip for c in marks)  # one per group
        ys = {float(y) for c in marks for y in c.get_offsets()[:, 1]}
        assert len(ys) == 1, ys  # one height, whatever each group's grid
        assert strip.get_yticks().size == 0  # and no scale to read it on
    assert "above the largest budget tried ($3M/day)" in above.get_title("left")
    assert "below the smallest budget tried" in below.get_title("left")
    assert len(main.lines) >= 3 and not main.collections  # the values themselves


# --------------------------------------------------------------------------- citable
def test_save_writes_png_and_svg_with_caption_and_footer(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.scatter(np.arange(3000), np.arange(3000) % 7)  # dense: an image inside the SVG
    paths = save(fig, tmp_path / "f.png", "A caption long enough to say what it shows.", PROV)
    assert [p.name for p in paths] == ["f.png", "f.svg", "f.caption.txt"]
    assert_citable(tmp_path, PROV.config_hash)
    svg = (tmp_path / "f.svg").read_text()
    assert "<image" in svg and svg.count("<use") < 100  # rasterized, not 3,000 markers
    again = tmp_path / "again"
    again.mkdir()
    fig, ax = plt.subplots()
    ax.scatter(np.arange(3000), np.arange(3000) % 7)
    save(fig, again / "f.png", "A caption long enough to say what it shows.", PROV)
    assert (again / "f.svg").read_bytes() == (tmp_path / "f.svg").read_bytes()  # reproducible


def test_a_run_without_plots_writes_no_figure(tmp_path):
    from sim.cli import main
    from tests.test_sweeps import TINY

    assert main(["run", *TINY, f"output.results_dir={tmp_path}", "output.plots=false"]) == 0
    (folder,) = (tmp_path / "runs" / "alibaba_2026").iterdir()
    written = {p.suffix for p in folder.iterdir()}
    assert ".json" in written and not written & {".png", ".svg", ".txt"}
    assert json.loads((folder / "manifest.json").read_text())["figures"] == []


@pytest.mark.parametrize("name", ["sweep.json", "manifest.json"])
def test_provenance_is_read_from_the_folder(tmp_path, name):
    meta = {
        "scenario": "s",
        "config_hash": "f" * 64,
        "versions": {"distillsim": "9.9", "model_version": "7"},
        "git": {"revision": "a" * 40, "dirty": True},
    }
    (tmp_path / name).write_text(json.dumps(meta))
    p = Provenance.from_folder(tmp_path, "sweep x")
    assert p.footer() == (
        "sweep x · scenario s · config sha256 ffffffffffffffff · distillsim 9.9 (model 7), "
        "git aaaaaaaaaa + local changes"
    )
    assert Provenance.from_folder(tmp_path / "nowhere") is None


def test_the_demo_grid_is_labelled_at_its_round_budgets(tmp_path):
    import matplotlib.pyplot as plt
    from omegaconf import OmegaConf

    from sim.analysis.style import budget_axis, x_positions

    cfg = OmegaConf.load(Path(__file__).parents[1] / "configs" / "sweep" / "spend_curve.yaml")
    grid = str(cfg.hydra.sweeper.params["detection.budget_usd_per_day"])
    budgets = np.array([float(b) for b in grid.split(",")])
    fig, ax = plt.subplots()
    x, zero_at = x_positions(budgets)
    ax.plot(x, np.ones_like(x))
    budget_axis(ax, budgets, zero_at)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert {"0", "$10k", "$30k", "$100k", "$300k", "$1M"} <= set(labels)
    plt.close(fig)
