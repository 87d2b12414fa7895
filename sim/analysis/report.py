"""A sweep's report: ``distillsim report <folder>`` regenerates curve, frontier, break-even and
summary.md from ``runs.parquet`` and ``sweep.json`` alone, without rerunning anything."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.breakeven import (
    breakeven_rows,
    breakeven_vs_value,
    format_break_even,
    plot_breakeven,
)
from sim.analysis.curves import DELAY, curve_table, plot_curve, plot_domains
from sim.analysis.frontier import frontier_table, plot_frontier
from sim.analysis.runs import B, headline_label, label, swept_groups
from sim.analysis.stats import mean_ci
from sim.analysis.style import Provenance, money


def md_table(df: pd.DataFrame) -> str:
    """``df`` as a Markdown table (cells as they are)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def ci_text(row, m, fmt="{:.3f}") -> str:
    if not np.isfinite(row[m]):
        return "n/a"
    s = fmt.format(row[m])
    if np.isfinite(row.get(f"{m}_lo", np.nan)):
        s += f" [{fmt.format(row[f'{m}_lo'])}, {fmt.format(row[f'{m}_hi'])}]"
    return s


def report(folder: Path) -> Path:
    """(Re)generate curve, frontier, break-even, summary.md and report.html from runs.parquet and
    sweep.json."""
    folder = Path(folder)
    df = pd.read_parquet(folder / "runs.parquet")
    meta = json.loads((folder / "sweep.json").read_text())
    groups = swept_groups(df, meta)
    ok = df[df["error"].isna()]
    lines = [
        f"# Sweep `{meta.get('name', folder.name)}`",
        "",
        meta.get("description", ""),
        "",
        f"{len(df)} runs ({meta.get('errors', 0)} failed), swept: "
        f"{', '.join(meta.get('swept_keys', []))}.",
        "",
        f"Scenario `{meta.get('scenario') or 'n/a'}`; set for every run: "
        + (", ".join(f"`{o}`" for o in meta.get("settings", [])) or "nothing beyond it")
        + ".",
        "",
    ]
    if ok.empty or B not in ok:
        lines.append("No run succeeded; nothing to aggregate.")
    else:
        curve = curve_table(df, groups)
        curve.to_csv(folder / "curve.csv", index=False)
        headline = headline_label(ok)
        prov = Provenance.from_meta(meta, f"sweep {meta.get('name', folder.name)}")
        plot_curve(curve, groups, folder / "curve.png", headline, prov)
        plot_domains(curve, groups, folder / "curve_domains.png", prov)
        front = frontier_table(curve, groups)
        front.to_csv(folder / "frontier.csv", index=False)
        plot_frontier(front, groups, folder / "frontier.png", prov)
        be = breakeven_rows(df, groups)
        pd.DataFrame(be).to_csv(folder / "breakeven.csv", index=False)
        bv = breakeven_vs_value(df, groups)
        bv.to_csv(folder / "breakeven_vs_value.csv", index=False)
        plot_breakeven(bv, folder / "breakeven_vs_value.png", prov)
        lines += [
            "## Attacker's break-even detection budget",
            "",
            "Where the mean attacker net value turns negative (interpolated, never "
            "extrapolated; replicate range in brackets).",
            "",
        ]
        lines += [f"- {r['group']}: {format_break_even(r)}" for r in be]
        lines += ["", *_kind_tables(meta.get("kind", "custom"), df, curve, groups, be)]
    errs = df[df["error"].notna()]
    if len(errs):
        lines += ["", "## Failed points", ""]
        for _, r in errs.iterrows():
            first = str(r["error"]).strip().splitlines()[-1]
            lines.append(f"- job {r['job']}: {first}")
    lines += [
        "",
        "## Provenance",
        "",
        f"- root seed: {meta.get('root_seed')}; replicate i uses "
        "SeedSequence(root, spawn_key=(i,)) at every point",
        f"- config hash: {meta.get('config_hash')}",
        f"- launcher: {meta.get('launcher')}",
        f"- versions: {json.dumps(meta.get('versions', {}))}",
        f"- git: {json.dumps(meta.get('git', {}))}",
    ]
    (folder / "summary.md").write_text("\n".join(lines) + "\n")
    from sim.analysis.html_report import write_html

    write_html(folder, "sweep")
    return folder


def _acted(r: pd.Series) -> float:
    """Legitimate accounts wrongly banned, throttled or degraded (bans only in older sweeps)."""
    v = r.get("legit_accounts_acted_on", math.nan)
    return r["legit_accounts_banned"] if not np.isfinite(v) else v


def _delay(r: pd.Series) -> str:
    """Mean delay (censored at the horizon) and, when some runs never get there, how many do."""
    text = ci_text(r, DELAY, "{:.2f}")
    share = r.get("days_to_50pct_of_undefended_reached", math.nan)
    if np.isfinite(share) and share < 1:
        text += f"; {share:.0%} of runs reach it"
    return text


def _event(r: pd.Series, m: str) -> str:
    """Mean time to an event over the runs that reached it, and the share that did."""
    share = r.get(f"{m}_reached", math.nan)
    if not np.isfinite(r[m]):
        return "never"
    return f"{r[m]:,.0f} ({share:.0%} of runs)" if share < 1 else f"{r[m]:,.0f}"


def _kind_tables(kind: str, df, curve, groups, be) -> list[str]:
    out: list[str] = []
    if kind == "policy_compare" and "policy" in groups:
        out += [
            "## Policies at matched budgets",
            "",
            "Brackets: 95% interval of the mean over replicates (Student t; wide with 2-3 "
            "replicates), clipped to the possible range. Attacker spend vs baseline: the "
            "attackers' cash at the same budget relative to the baseline (below 1 when a policy "
            "ends campaigns early, as a sanctions blacklist does). P(attribution): from the "
            "evidence held at the end; it costs the attacker only where sanctions put a penalty "
            "on it. Delay: against the same policy's world with B = 0 (what detection adds under "
            "the policy; the policy's own effect is in the capability column). A policy that "
            "leaves every figure at the baseline does not bind in this world "
            "(e.g. a rate limit above the attackers' cadence, watermarks once attribution is "
            "certain anyway).",
            "",
        ]
        ok = df[df["error"].isna()]
        base_spend = ok[ok["policy"] == "baseline"].groupby(B)["attacker_spend_usd"].mean()
        be_by = {r["group"]: format_break_even(r) for r in be}
        for b, g in curve.groupby(B):
            out += [f"### B = ${b:,.0f}/day", ""]
            rows = []
            for _, r in g.sort_values("capability_extracted").iterrows():
                mult = r["attacker_spend_usd"] / base_spend.get(b, np.nan)
                others = [k for k in groups if k != "policy"]
                lab = label(groups, tuple(r[k] for k in groups))
                rows.append(
                    {
                        "policy": r["policy"]
                        + (f" ({label(others, tuple(r[k] for k in others))})" if others else ""),
                        "capability leaked": ci_text(r, "capability_extracted"),
                        "delay vs B = 0, same policy (days)": _delay(r),
                        "defender total cost": f"${r['defender_total_cost_usd'] / 1e6:,.2f}M",
                        "legit accounts wrongly acted on": f"{_acted(r):,.0f} "
                        f"(${r['false_positive_cost_usd'] / 1e3:,.0f}k)",
                        "attacker spend vs baseline": "n/a"
                        if not np.isfinite(mult)
                        else f"{mult:.2f}x",
                        "P(attribution)": f"{r['attribution_probability']:.2f}"
                        if "attribution_probability" in r
                        else "n/a",
                        "break-even": be_by.get(lab, "n/a"),
                        "time to attribution (h)": _event(r, "attribution_hours"),
                    }
                )
            out += [md_table(pd.DataFrame(rows)), ""]
    if kind == "detector_mix" and "mix" in groups:
        out += [
            "## Best detector mix per budget (lowest mean capability leaked)",
            "",
            "Brackets: 95% intervals over replicates. The paired gap compares the best mix with "
            "the runner-up replicate by replicate (they share random streams); a gap can be "
            "clear and still too small to matter, and the cost column is not part of the rank.",
            "",
        ]
        rows = []
        others = [k for k in groups if k != "mix"]  # e.g. the attacker strategy: compare within
        for key, g in curve.groupby([*others, B], sort=True):
            key = key if isinstance(key, tuple) else (key,)
            where = dict(zip([*others, B], key, strict=True))
            ranked = g.sort_values("capability_extracted")
            best = ranked.iloc[0]
            spread = g["capability_extracted"].max() - best["capability_extracted"]
            second = ranked.iloc[1] if len(g) > 1 else None
            verdict = "n/a"
            if second is not None:
                # Replicate i shares its random streams across mixes: compare them in pairs.
                ok = df[df["error"].isna()]
                for k, v in where.items():
                    ok = ok[ok[k] == v]
                by = ok.set_index(["replicate", "mix"])["capability_extracted"]
                gap = (by.xs(second["mix"], level="mix") - by.xs(best["mix"], level="mix")).dropna()
                m, lo, hi, n = mean_ci(gap.to_numpy())
                if n < 2:
                    verdict = "n/a (one replicate)"
                elif lo > 0:
                    verdict = f"yes, by {m:.4f} [{lo:.4f}, {hi:.4f}]"
                else:
                    verdict = f"no: {m:.4f} [{lo:.4f}, {hi:.4f}] includes 0"
            rec = {k: where[k] for k in others}
            rows.append(
                {
                    **rec,
                    "B ($/day)": f"{where[B]:,.0f}",
                    "best mix": best["mix"],
                    "capability leaked": ci_text(best, "capability_extracted"),
                    "defender total cost": f"${best['defender_total_cost_usd'] / 1e6:,.2f}M",
                    "runner-up": second["mix"] if second is not None else "n/a",
                    "spread across mixes": f"{spread:.3f}",
                    "better than the runner-up? (paired gap, 95%)": verdict,
                }
            )
        out += [md_table(pd.DataFrame(rows)), ""]
    if kind in ("spend_curve", "custom"):
        out += [
            "## Capability extracted by budget (mean [95% interval])",
            "",
            "Delay: days later than the undefended world (same config and seed, B = 0) reaches "
            "half (or 80%) of its final capability; a run that never gets there counts as "
            "reaching it at the horizon (a lower bound), and the share of runs that do is given. "
            "Detection "
            "spent is what the budget bought (fixed costs, inspection, faster latency, quality "
            "up to d∞, "
            "analysts); the rest of B × days is unspent. Net on attacker traffic: fees the "
            "defender received less the cost of serving those exchanges (negative: served at "
            "a loss).",
            "",
        ]
        rows = []
        for _, r in curve.iterrows():
            rec = {k: r[k] for k in groups}
            rec["B ($/day)"] = f"{r[B]:,.0f}"
            rec["capability"] = ci_text(r, "capability_extracted")
            for c in sorted(k for k in r.index if k.startswith("op.") and k.endswith("extracted")):
                rec[f"{c.split('.')[1]} capability"] = f"{r[c]:.3f}"
            rec["delay vs B = 0 (days)"] = _delay(r)
            rec["delay to 80% (days)"] = ci_text(r, "delay_days_80pct_vs_undefended", "{:.2f}")
            rec["detection spent (unspent)"] = (
                f"{money(r['detection_spend_usd'])} ({money(r['detection_unspent_usd'])})"
                if "detection_unspent_usd" in r
                else "n/a"
            )
            rec["defender total cost"] = f"${r['defender_total_cost_usd'] / 1e6:,.2f}M"
            rec["net on attacker traffic"] = (
                money(r["attacker_traffic_net_usd"]) if "attacker_traffic_net_usd" in r else "n/a"
            )
            rec["attacker net value"] = f"${r['attacker_net_value_usd'] / 1e6:,.1f}M"
            rows.append(rec)
        out += [md_table(pd.DataFrame(rows)), ""]
    return out
