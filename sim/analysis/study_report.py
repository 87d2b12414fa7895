"""A study's folder: samples.parquet, the index tables as CSV, figures and summary.md in words.

One function per study kind turns the rows into tables and figures
(:mod:`sim.analysis.sensitivity`, :mod:`sim.analysis.curves`, :mod:`sim.analysis.discovery`,
:mod:`sim.analysis.robustness`) and returns the lines of summary.md that say what they show.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.report import md_table
from sim.analysis.style import Provenance, money

#: Fewest worlds of each answer a PRIM box is drawn from.
MIN_CASES = 5


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 1e4:
        return money(v)
    return f"{v:.3g}"


def responses(samples: pd.DataFrame, output: str, option: str, budget: float) -> np.ndarray:
    """The response vector in design order: each sampled world's mean over its replicates."""
    df = samples[
        (samples["world"] == "sampled")
        & (samples["option"] == option)
        & (samples["budget"] == budget)
    ]
    y = df.groupby("sample")[output].mean()
    n = int(samples.loc[samples["world"] == "sampled", "sample"].max()) + 1
    return y.reindex(range(n)).to_numpy(dtype=float)


def _cells(result):
    s = result.settings
    for option in result.options:
        for budget in sorted(s.budgets):
            yield option, budget


def _cell_label(result, option: str, budget: float) -> str:
    b = f"B = {money(budget)}/day" if budget else "B = 0"
    return b if len(result.options) == 1 else f"{option}, {b}"


def _provenance(folder: Path, result) -> Provenance:
    """The footer of the study's figures: its manifest (written before them), else the
    scenario alone."""
    source = f"study {result.settings.name or result.settings.kind}"
    found = Provenance.from_folder(folder, source)
    return found or Provenance(result.scenario, "", "", source)


def _usable(y: np.ndarray) -> str | None:
    if not np.isfinite(y).all():
        return f"{int((~np.isfinite(y)).sum())} of {y.size} worlds have no value (failed or null)"
    if np.ptp(y) == 0:
        return "constant over the sampled worlds"
    return None


# --------------------------------------------------------------------------- kinds
def _indices(folder: Path, result, kind: str, title: str, analyse, describe, figure) -> list:
    """Per (option, budget) cell and output: the index table, one line of words, one figure per
    cell; ``<kind>_indices.csv`` with every table. Returns the lines after the section header."""
    s = result.settings
    tables, lines, figs = [], [], {}
    for option, budget in _cells(result):
        cell = _cell_label(result, option, budget)
        per_output = {}
        for out in s.outputs:
            y = responses(result.samples, out, option, budget)
            why = _usable(y)
            if why:
                lines.append(f"- {cell}, {out}: not analysed ({why}).")
                continue
            t = analyse(y)
            per_output[out] = t
            tables.append(t.assign(output=out, option=option, budget=budget))
            lines.append(f"- {cell}, **{out}**: {describe(t)}.")
        if per_output:
            name = f"{kind}_{_slug(option, budget, result)}.png"
            figure(per_output, folder / name, f"{title}, {cell}", _provenance(folder, result))
            figs[name] = cell
    if tables:
        pd.concat(tables, ignore_index=True).to_csv(folder / f"{kind}_indices.csv", index=False)
    return [*lines, "", *[f"![{v}]({k})" for k, v in figs.items()], ""]


def _morris(folder: Path, result) -> list[str]:
    from sim.analysis.sensitivity import morris, morris_figure

    s, names = result.settings, result.priors.names

    def describe(t) -> str:
        return "; ".join(
            f"{r.factor} {_fmt(r.mu_star)} [{_fmt(r.mu_star_low)}, {_fmt(r.mu_star_high)}]"
            for r in t.head(3).itertuples()
        )

    head = [
        "## Morris screening",
        "",
        f"{s.samples} trajectories x {len(names) + 1} points, {s.levels} levels; mu* is the mean "
        "absolute change of the output when one factor moves across its prior (in the output's "
        f"units), with a {s.confidence:.0%} bootstrap interval ({s.bootstrap} resamples; "
        f"parameter uncertainty ({s.samples * (len(names) + 1)} sampled worlds): how precisely "
        "this sample of worlds pins mu* down, not seed noise); sigma "
        "large against mu* means non-linear effects or interactions.",
        "",
    ]
    return head + _indices(
        folder,
        result,
        "morris",
        "Morris screening",
        lambda y: morris(
            names, result.design.unit, y, s.levels, s.bootstrap, s.confidence, s.design_seed
        ),
        describe,
        morris_figure,
    )


def _sobol(folder: Path, result) -> list[str]:
    from sim.analysis.sensitivity import converged, sobol, sobol_figure

    s, names = result.settings, result.priors.names

    def describe(t) -> str:
        words = "; ".join(
            f"{r.factor} ST {r.ST_shown:.2f} [{max(r.ST_low, 0):.2f}, {r.ST_high:.2f}], "
            f"S1 {r.S1_shown:.2f}"
            for r in t.head(3).itertuples()
        )
        conv = (
            "converged (no index moved > 0.05 from N/2)"
            if converged(t)
            else f"not converged: an index moved {t['change_at_half'].max():.2f} from N/2"
        )
        return f"{words}; sum of S1 {t['S1'].sum():.2f}; {conv}"

    head = [
        "## Sobol' indices",
        "",
        f"Saltelli design, N = {s.samples} base samples x {len(names) + 2} "
        f"= {s.samples * (len(names) + 2)} worlds per budget; S1 is the share of the output's "
        "variance a factor explains alone, ST with all its interactions; intervals are "
        f"{s.confidence:.0%} bootstrap ({s.bootstrap} resamples; parameter uncertainty "
        f"({s.samples * (len(names) + 2)} sampled worlds): how precisely this sample of worlds "
        "pins the index down, not seed noise). Convergence: the same indices on "
        "the first N/2 base samples; a negative estimate whose interval covers 0 is shown as ~0.",
        "",
    ]
    return head + _indices(
        folder,
        result,
        "sobol",
        "Sobol' indices",
        lambda y: sobol(names, y, s.second_order, s.bootstrap, s.confidence, s.design_seed),
        describe,
        sobol_figure,
    )


def _curve(folder: Path, result) -> list[str]:
    from sim.analysis.curves import band_table, plot_bands

    s = result.settings
    lines = ["## Capability versus spend, with both kinds of uncertainty", ""]
    lines.append(
        f"{s.samples} worlds drawn from the priors ({s.design}) at every budget (common random "
        f"numbers across budgets), {s.replicates} replicate(s) each; the baseline world (the "
        f"scenario's own values) with {s.baseline_replicates} replicates. The blue band is "
        f"parameter uncertainty ({s.samples} sampled worlds; 5th-95th percentile), the orange "
        f"one seed noise only ({s.baseline_replicates} replicates; 95% interval over the "
        "baseline world's replicates)."
    )
    lines.append("")
    bands, tables = {}, []
    for option in result.options:
        sub = result.samples[result.samples["option"] == option]
        for out in s.outputs:
            t = band_table(sub, out)
            tables.append(t.assign(output=out, option=option))
            if option == next(iter(result.options)):
                bands[out] = t
    pd.concat(tables, ignore_index=True).to_csv(folder / "bands.csv", index=False)
    plot_bands(
        {k: v for k, v in bands.items() if k in s.outputs[:3]},
        folder / "curve_bands.png",
        provenance=_provenance(folder, result),
    )
    cap = bands.get("capability_extracted")
    if cap is not None:
        view = cap[
            [
                "budget",
                "median",
                "param_low",
                "param_high",
                "baseline_mean",
                "seed_low",
                "seed_high",
            ]
        ].copy()
        if "share_of_worlds_below_B0" in cap:
            view["worlds where B cuts the leak"] = cap["share_of_worlds_below_B0"]
            view["median change vs B = 0"] = cap["median_change_vs_B0"]
        view["budget"] = view["budget"].map(lambda b: money(b) if b else "0")
        # Each bound says what it covers (parameter uncertainty or seed noise, with its count).
        param = f"parameter uncertainty ({s.samples} sampled worlds)"
        seed = f"seed noise only ({s.baseline_replicates} replicates)"
        view = view.rename(
            columns={
                "median": "median world",
                "param_low": f"5th pct, {param}",
                "param_high": f"95th pct, {param}",
                "baseline_mean": "baseline world's mean",
                "seed_low": f"95% low, {seed}",
                "seed_high": f"95% high, {seed}",
            }
        )
        lines += ["capability_extracted:", "", md_table(view.round(4)), ""]
        w = cap["param_high"] - cap["param_low"]
        sd = cap["seed_high"] - cap["seed_low"]
        lines.append(
            f"The parameter band is {w.median():.3f} wide at the median budget against a seed "
            f"interval of {sd.median():.3f}: what we do not know about the inputs dominates "
            "the seed noise the sweeps report."
            if w.median() > sd.median()
            else f"The parameter band ({w.median():.3f}) is not wider than the seed interval "
            f"({sd.median():.3f}) at the median budget."
        )
    lines += ["", "![curve](curve_bands.png)", ""]
    return lines


def _discovery(folder: Path, result) -> list[str]:
    from sim.analysis.discovery import answers, figure, find_box

    s, names = result.settings, result.priors.names
    lines = ["## Scenario discovery (PRIM)", ""]
    boxes, xs, rows = [], {}, []
    for q in s.questions:
        a = answers(result.samples, q, names)
        xs[q.name] = a[names]
        a.to_csv(folder / f"answers_{q.name}.csv")
        text = q.text or q.name
        yes, n = int(a["yes"].sum()), len(a)
        v = a["value"]
        kind = (
            "relative change"
            if q.against_budget is not None or q.against_option is not None
            else q.output
        )
        spread = (
            f"The {kind} ranged from {_fmt(v.min())} to {_fmt(v.max())} over the worlds "
            f"(median {_fmt(v.median())}; threshold {q.op} {_fmt(q.threshold)})."
        )
        if min(yes, n - yes) < MIN_CASES:
            lines.append(
                f"- **{text}** — yes in {yes} of {n} sampled worlds: too few of one answer for "
                f"a box to mean anything (PRIM needs at least {MIN_CASES} of each). {spread}"
            )
            continue
        b = find_box(a[names], a["yes"].to_numpy(), question=q.name)
        boxes.append(b)
        xs[q.name] = a[names]
        lines.append(
            f"- **{text}** — yes in {yes} of {n} sampled worlds ({b.base_rate:.0%}). {spread} "
            + (
                f"Mostly when {b.rule()} (coverage {b.coverage:.0%}: that share of the "
                f"yes-worlds lie in the box; density {b.density:.0%}: that share of the box's "
                f"worlds say yes; {b.mass:.0%} of the worlds are in it)."
                if not b.limits.empty
                else "No box restricts the factors usefully."
            )
        )
        for _, r in b.limits.iterrows():
            rows.append(
                {
                    "question": q.name,
                    **r.to_dict(),
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "base_rate": b.base_rate,
                }
            )
    pd.DataFrame(rows).to_csv(folder / "discovery_boxes.csv", index=False)
    if boxes:
        figure(
            boxes,
            xs,
            folder / "discovery.png",
            "PRIM: peeling trade-off and the box kept",
            _provenance(folder, result),
        )
        lines += ["", "![discovery](discovery.png)"]
    lines.append("")
    return lines


def _robust(folder: Path, result) -> list[str]:
    from sim.analysis.robustness import figure, rank

    s, rs = result.settings, result.settings.robust
    samples = result.samples.copy()
    if len(s.budgets) > 1:
        samples["option"] = (
            samples["option"] + " @ " + samples["budget"].map(lambda b: money(b) if b else "0")
        )
    unit = pd.DataFrame(result.design.unit, columns=result.priors.names)
    table = rank(
        samples,
        unit,
        result.design.baseline_unit,
        rs.output,
        rs.sense,
        rs.percentile,
        rs.satisficing_op,
        rs.satisficing_threshold,
    )
    table.to_csv(folder / "robustness.csv", index=False)
    figure(
        samples,
        table,
        rs.output,
        rs.sense,
        folder / "robustness.png",
        f"Regret across {len(unit)} sampled worlds ({rs.output}, {rs.sense})",
        _provenance(folder, result),
    )
    p = f"p{rs.percentile:g}"
    goal = "minimise" if rs.sense == "min" else "maximise"
    best = table.iloc[0]
    lines = [
        "## Robust ranking",
        "",
        f"Options ranked by regret type 2 ({rs.output}, to {goal}): the {rs.percentile:g}th "
        f"percentile over {len(unit)} sampled worlds of the loss against the best option in the "
        "same world (Herman et al. 2015). Regret type 1 is the deviation from the "
        "option's own result in the baseline world; satisficing type 1 the share of worlds that "
        "meet the threshold, type 2 the distance (unit cube) from the baseline world to the "
        "nearest world where the option fails it.",
        "",
        f"Most robust: **{best['option']}** (regret {_fmt(best[f'regret2_{p}'])} at the "
        f"{rs.percentile:g}th percentile; best in {best['best_in_share_of_worlds']:.0%} of "
        "worlds).",
        "",
    ]
    view = table.copy()
    for c in view.columns:
        if c != "option" and view[c].abs().max() >= 1e4:
            view[c] = view[c].map(_fmt)
    lines += [md_table(view.round(3)), "", "![robustness](robustness.png)", ""]
    return lines


KIND_SECTIONS = {
    "morris": _morris,
    "sobol": _sobol,
    "curve": _curve,
    "discovery": _discovery,
    "robust": _robust,
}


def _slug(option: str, budget: float, result) -> str:
    b = f"B{budget:g}"
    return b if len(result.options) == 1 else f"{option}_{b}"


def write(folder: Path, result) -> list[str]:
    """Fill ``folder`` with the study's files; returns summary.md's lines."""
    s = result.settings
    result.samples.to_parquet(folder / "samples.parquet", index=False)
    pd.DataFrame(result.priors.table()).to_csv(folder / "priors.csv", index=False)
    failed = result.samples["error"].notna()
    runs = len(result.samples)
    lines = [
        f"# Study {s.name or s.kind} ({s.kind}) — {result.scenario}",
        "",
        s.description or "",
        "",
        f"{runs} runs ({int(result.samples['cached'].sum())} from the cache, {int(failed.sum())} "
        f"failed) in {result.seconds:.0f} s, {runs / max(result.seconds, 1e-9) * 60:.0f} runs/min; "
        f"{len(result.priors.factors)} factors; detection budgets (a day) "
        + ", ".join(money(b) if b else "0" for b in sorted(s.budgets))
        + f"; options: {', '.join(result.options)}.",
        "",
    ]
    if failed.any():
        first = result.samples.loc[failed, "error"].iloc[0].strip().splitlines()[-1]
        lines += [
            f"**{int(failed.sum())} runs failed** (rows kept with their error); first: `{first}`",
            "",
        ]
    lines += KIND_SECTIONS[s.kind](folder, result)
    lines += [
        "## Priors",
        "",
        md_table(
            pd.DataFrame(result.priors.table())[
                ["factor", "dist", "low", "high", "apply", "source"]
            ]
        ),
        "",
        "The scenario's fitted keys are not sampled: they keep the fit made with every other "
        "input at its default, so a sampled world is not re-calibrated to the disclosed targets.",
        "",
    ]
    (folder / "summary.md").write_text("\n".join(lines))
    return lines
