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
from sim.analysis.runs import (
    B,
    headline_label,
    label,
    option_label,
    swept_groups,
    with_ties,
)
from sim.analysis.stats import mean_ci
from sim.analysis.style import Provenance, money
from sim.analysis.worlds import is_world, world_lines


def md_table(df: pd.DataFrame) -> str:
    """``df`` as a Markdown table (cells as they are)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def ci_text(row, m, fmt="{:.3f}") -> str:
    """Mean [interval] of ``m`` in a curve row; n/a where the figure is missing."""
    v = row.get(m, math.nan)
    if v is None or not np.isfinite(v):
        return "n/a"
    s = fmt.format(row[m])
    if np.isfinite(row.get(f"{m}_lo", np.nan)):
        s += f" [{fmt.format(row[f'{m}_lo'])}, {fmt.format(row[f'{m}_hi'])}]"
    return s


def swept_text(meta: dict) -> str:
    """The swept keys, a tied one as such (``b (tied to a)``)."""
    tied = meta.get("tied") or {}
    keys = list(meta.get("swept_keys", []))
    keys += [k for k in tied if k not in keys]
    return ", ".join(f"{k} (tied to {', '.join(tied[k])})" if k in tied else k for k in keys)


def seed_noise(rows: pd.DataFrame | pd.Series) -> str:
    """What a sweep's interval covers: "seed noise only, n replicates" (n the actual count)."""
    runs = pd.to_numeric(pd.Series(rows["runs"]), errors="coerce").dropna()
    if runs.empty:
        return "seed noise only"
    lo, hi = int(runs.min()), int(runs.max())
    n = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return f"seed noise only, {n} replicate" + ("" if n == "1" else "s")


def report(folder: Path) -> Path:
    """(Re)generate curve, frontier, break-even, summary.md and report.html from runs.parquet and
    sweep.json."""
    folder = Path(folder)
    df = pd.read_parquet(folder / "runs.parquet")
    meta = with_ties(json.loads((folder / "sweep.json").read_text()))
    groups = swept_groups(df, meta)
    ok = df[df["error"].isna()]
    lines = [
        f"# Sweep `{meta.get('name', folder.name)}`",
        "",
        meta.get("description", ""),
        "",
        f"{len(df)} runs ({meta.get('errors', 0)} failed), swept: {swept_text(meta)}.",
        "",
        f"Scenario `{meta.get('scenario') or 'n/a'}`; set for every run: "
        + (", ".join(f"`{o}`" for o in meta.get("settings", [])) or "nothing beyond it")
        + ".",
        "",
    ]
    if not ok.empty and B not in ok and is_world(ok):
        # Worlds of several providers: a budget per provider, no top-level B (issue #14).
        prov = Provenance.from_meta(meta, f"sweep {meta.get('name', folder.name)}")
        lines += world_lines(folder, df, meta, prov)
    elif ok.empty or B not in ok:
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
            "extrapolated). In brackets: the 2.5th-97.5th percentile of the replicates' own "
            "break-evens (seed noise only; not a confidence interval of the mean's).",
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
    return r.get("legit_accounts_banned", math.nan) if not np.isfinite(v) else v


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
    if m not in r:
        return "n/a"
    if not np.isfinite(r[m]):
        return "never"
    return f"{r[m]:,.0f} ({share:.0%} of runs)" if share < 1 else f"{r[m]:,.0f}"


def _get(r: pd.Series, m: str) -> float:
    v = r.get(m, math.nan)
    return float(v) if v is not None and np.isfinite(v) else math.nan


def _musd(v: float) -> str:
    return f"${v / 1e6:,.2f}M" if np.isfinite(v) else "n/a"


def _lead(r: pd.Series) -> str:
    """Months of the teacher's lead erased, n/a where the lead is not configured."""
    if not np.isfinite(_get(r, LEAD)):
        return "n/a"
    return ci_text(r, LEAD, "{:.2f}")


#: Legitimate users' own losses, each kind named (summary fields; absent in older sweeps).
USER_COSTS = {
    "legit_user_cost_false_actions_usd": "false bans & throttles",
    "legit_user_cost_kyc_friction_usd": "KYC friction",
    "legit_user_cost_rate_limits_usd": "rate limits",
    "legit_user_cost_poisoned_output_usd": "poisoned outputs",
}
LEAD = "teacher_lead_months_erased"


def _paired(ok: pd.DataFrame, where: dict, ref: dict, m: str) -> tuple[float, float, float, int]:
    """Mean and 95% interval of ``m`` at ``ref`` minus at ``where``, replicate by replicate
    (replicate i shares its random streams at every point)."""
    if m not in ok:
        return math.nan, math.nan, math.nan, 0

    def pick(cond: dict) -> pd.Series:
        sel = ok
        for k, v in cond.items():
            sel = sel[sel[k] == v]
        return pd.to_numeric(sel.groupby("replicate")[m].mean(), errors="coerce")

    a, b = pick(ref), pick(where)
    a, b = a.align(b, join="inner")
    return mean_ci((a - b).to_numpy())


def _fmt_ci(mlh: tuple[float, float, float, int], fmt: str) -> str:
    m, lo, hi, _ = mlh
    if not np.isfinite(m):
        return "n/a"

    def f(x: float) -> str:
        text = fmt.format(x)
        return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0000"

    return f(m) + (f" [{f(lo)}, {f(hi)}]" if np.isfinite(lo) else "")


def _option_tables(
    option: str, df: pd.DataFrame, curve: pd.DataFrame, groups: list[str], be
) -> list[str]:
    """Per budget, three tables of every ``option`` (policy or mix): the leak and the defender's
    cost, the cost to legitimate users, the attacker's side. The comparison point is the baseline
    policy at the same budget (policies) or the same mix's world at B = 0 (mixes)."""
    ok = df[df["error"].isna()]
    others = [k for k in groups if k != option]
    be_by = {r["group"]: format_break_even(r) for r in be}
    has_zero = bool((ok[B] == 0).any())
    versus = "baseline" if option == "policy" else "B = 0"
    noise = seed_noise(curve)
    out = [
        f"Brackets: 95% Student-t intervals of the mean over the replicates ({noise}; they do "
        "not cover parameter uncertainty), clipped to the possible range; differences are "
        "paired by replicate (replicate i shares its random streams at every point).",
        "",
        f"- **cut vs {versus}**: capability leaked at the comparison point "
        + (
            "(the baseline policy at the same budget)"
            if option == "policy"
            else "(the same mix's world at B = 0)"
        )
        + " minus here, in share of the gap; **extra defender cost**: defender total cost here "
        "minus there; **cut per $1M of extra defender cost** = cut ÷ (extra defender cost in "
        "$M). n/a where the extra cost is ≤ 0: a ratio over no extra cost is not a price (an "
        "option that costs no more and cuts the leak is better outright; read its cut and cost "
        "columns).",
        "- **lead erased (months)**: the teacher's lead over open-weight models "
        "(`teacher.lead_months`) × capability leaked; n/a where the lead is not configured.",
        "- **users' loss**: what legitimate users themselves lose, at revenue, by kind (not in "
        "the defender's total; n/a in sweeps from before these figures were recorded). Accounts "
        "wrongly acted on: banned, throttled or degraded (in brackets the defender's forgone "
        "margin on them).",
        "- **attacker cost multiplier vs B = 0**: the attackers' cash here ÷ in the same "
        f"{option}'s world at B = 0 (ratio of the means)"
        + ("" if has_zero else "; n/a: B = 0 is not in this sweep's grid")
        + (
            "; **attacker spend vs baseline**: the same against the baseline policy at this "
            "budget (below 1 when a policy ends campaigns early, as a sanctions blacklist does)"
            if option == "policy"
            else ""
        )
        + ".",
        "- **delay vs B = 0 (days, paired)**: each run against its own twin with B = 0 (the "
        "same config and seed, so the same random streams), days later to reach 50% of the "
        f"twin's final capability, then the mean over replicates: what detection adds under the "
        f"{option} (censored at the horizon: a lower bound where runs never get there). "
        "**P(attribution)**: from the evidence held at the end; it costs the attacker only where "
        "sanctions put a penalty on it.",
        "",
    ]
    if option == "policy":
        out.insert(
            -1,
            "- An option that leaves every figure at the baseline does not bind in this world "
            "(e.g. a rate limit above the attackers' cadence, watermarks once attribution is "
            "certain anyway); a package (`a + b`) composes its options' configs.",
        )

    def means(rows: pd.DataFrame, keys: list[str]) -> dict[tuple, float]:
        """Mean attacker spend by ``keys`` as a dict keyed by tuples (one key or several)."""
        if rows.empty or "attacker_spend_usd" not in rows:
            return {}
        by = rows.groupby(keys)["attacker_spend_usd"].mean()
        return {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in by.items()}

    base_spend = means(ok[ok["policy"] == "baseline"], [*others, B]) if option == "policy" else {}
    zero_spend = means(ok[ok[B] == 0], [option, *others])
    for b, g in curve.groupby(B, sort=True):
        if option != "policy" and b == 0:
            continue  # the comparison point itself: no detection, every mix the same world
        leak, users, attacker = [], [], []
        n = seed_noise(g)
        for _, r in g.sort_values("capability_extracted").iterrows():
            where = {option: r[option], B: b, **{k: r[k] for k in others}}
            ref = {**where, "policy": "baseline"} if option == "policy" else {**where, B: 0.0}
            have_ref = bool(np.logical_and.reduce([ok[k] == v for k, v in ref.items()]).any())
            name = option_label(option, r[option]) + (
                f" ({label(others, tuple(r[k] for k in others))})" if others else ""
            )
            cut = (
                _paired(ok, where, ref, "capability_extracted")
                if have_ref
                else (math.nan,) * 3 + (0,)
            )
            extra = (
                _paired(ok, ref, where, "defender_total_cost_usd")
                if have_ref
                else (math.nan,) * 3 + (0,)
            )
            if not have_ref:
                per = "n/a (no comparison point in the grid)"
            elif np.isfinite(extra[0]) and extra[0] > 0:
                per = f"{cut[0] / (extra[0] / 1e6):.3g}"  # significant digits: cuts are small
            else:
                per = "n/a (extra cost ≤ 0)"
            leak.append(
                {
                    option: name,
                    f"capability leaked (share of the gap; {n})": ci_text(
                        r, "capability_extracted"
                    ),
                    "lead erased (months)": _lead(r),
                    f"cut vs {versus} (paired)": _fmt_ci(cut, "{:.4f}")
                    if r[option] != "baseline" or option != "policy"
                    else "—",
                    "defender total cost": _musd(_get(r, "defender_total_cost_usd")),
                    f"extra defender cost vs {versus}": "n/a"
                    if not np.isfinite(extra[0])
                    else f"${extra[0] / 1e6:,.2f}M",
                    "cut per $1M of extra defender cost": per
                    if r[option] != "baseline" or option != "policy"
                    else "—",
                }
            )
            lab = label(groups, tuple(r[k] for k in groups))
            users.append(
                {
                    option: name,
                    "legit accounts wrongly acted on": "n/a"
                    if not np.isfinite(_acted(r))
                    else f"{_acted(r):,.0f} (${_get(r, 'false_positive_cost_usd') / 1e3:,.0f}k)",
                    **{
                        f"users' loss: {what}": money(_get(r, m))
                        if np.isfinite(_get(r, m))
                        else "n/a"
                        for m, what in USER_COSTS.items()
                    },
                    "users' loss: total": money(_get(r, "legit_user_cost_usd"))
                    if np.isfinite(_get(r, "legit_user_cost_usd"))
                    else "n/a",
                }
            )
            z = zero_spend.get((r[option], *[r[k] for k in others]), math.nan)
            spent = _get(r, "attacker_spend_usd")
            mult = spent / z if np.isfinite(z) and z > 0 else math.nan
            rec = {option: name}
            if option == "policy":
                bs = base_spend.get((*[r[k] for k in others], b), math.nan)
                rec["attacker spend vs baseline"] = (
                    "n/a" if not (np.isfinite(bs) and bs > 0) else f"{spent / bs:.2f}x"
                )
            rec["attacker cost multiplier vs B = 0"] = (
                f"{mult:.2f}x" if np.isfinite(mult) else "n/a" + ("" if has_zero else " (no B = 0)")
            )
            rec[f"delay vs B = 0 (days, paired; {n})"] = _delay(r)
            rec["P(attribution)"] = (
                ci_text(r, "attribution_probability", "{:.2f}")
                if "attribution_probability" in r
                else "n/a"
            )
            rec["time to attribution (h)"] = _event(r, "attribution_hours")
            rec["break-even (2.5th-97.5th percentile of replicates)"] = be_by.get(lab, "n/a")
            attacker.append(rec)
        out += [f"### B = ${b:,.0f}/day", ""]
        out += ["Leak and defender cost:", "", md_table(pd.DataFrame(leak)), ""]
        out += ["Cost to legitimate users:", "", md_table(pd.DataFrame(users)), ""]
        out += ["Attacker side:", "", md_table(pd.DataFrame(attacker)), ""]
    return out


def _kind_tables(kind: str, df, curve, groups, be) -> list[str]:
    out: list[str] = []
    if kind == "policy_compare" and "policy" in groups:
        out += ["## Policies at matched budgets", ""]
        out += _option_tables("policy", df, curve, groups, be)
    if kind == "detector_mix" and "mix" in groups:
        noise = seed_noise(curve)
        out += [
            "## Best detector mix per budget (lowest mean capability leaked)",
            "",
            f"Brackets: 95% intervals over replicates ({noise}). The paired gap compares the "
            "best mix with the runner-up replicate by replicate (they share random streams); a "
            "gap can be clear and still too small to matter, and the cost column is not part of "
            "the rank. B = 0 is left out (no detection: every mix is the same world).",
            "",
        ]
        rows = []
        others = [k for k in groups if k != "mix"]  # e.g. the attacker strategy: compare within
        for key, g in curve[curve[B] > 0].groupby([*others, B], sort=True):
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
                    f"capability leaked ({seed_noise(best)})": ci_text(
                        best, "capability_extracted"
                    ),
                    "defender total cost": f"${best['defender_total_cost_usd'] / 1e6:,.2f}M",
                    "runner-up": second["mix"] if second is not None else "n/a",
                    "spread across mixes": f"{spread:.3f}",
                    "better than the runner-up? (paired gap, 95%; seed noise only)": verdict,
                }
            )
        out += [md_table(pd.DataFrame(rows)), ""]
        out += ["## Every detector mix at matched budgets", ""]
        out += _option_tables("mix", df, curve, groups, be)
    if kind in ("spend_curve", "custom"):
        out += [
            f"## Capability extracted by budget (mean [95% interval; {seed_noise(curve)}])",
            "",
            "Delay: days later than the undefended world (same config and seed, B = 0) reaches "
            "half (or 80%) of its final capability, paired run by run with its twin; a run that "
            "never gets there counts as reaching it at the horizon (a lower bound), and the share "
            "of runs that do is given. Lead erased: the teacher's lead over open-weight models "
            "(`teacher.lead_months`) × capability (n/a where not configured). Detection "
            "spent is what the budget bought (fixed costs, inspection, faster latency, quality "
            "up to d∞, "
            "analysts); the rest of B × days is unspent. Net on attacker traffic: fees the "
            "defender received less the cost of serving those exchanges (negative: served at "
            "a loss). Attacker cost multiplier: the attackers' cash at this budget ÷ at B = 0 in "
            "the same group (ratio of the means; n/a without a B = 0 point).",
            "",
        ]
        zero = {
            tuple(r[k] for k in groups): _get(r, "attacker_spend_usd")
            for _, r in curve[curve[B] == 0].iterrows()
        }
        rows = []
        for _, r in curve.iterrows():
            rec = {k: option_label(k, r[k]) for k in groups}
            rec["B ($/day)"] = f"{r[B]:,.0f}"
            rec["capability"] = ci_text(r, "capability_extracted")
            rec["lead erased (months)"] = _lead(r)
            for c in sorted(k for k in r.index if k.startswith("op.") and k.endswith("extracted")):
                rec[f"{c.split('.')[1]} capability"] = f"{r[c]:.3f}"
            rec["delay vs B = 0 (days, paired)"] = _delay(r)
            rec["delay to 80% (days, paired)"] = ci_text(
                r, "delay_days_80pct_vs_undefended", "{:.2f}"
            )
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
            z = zero.get(tuple(r[k] for k in groups), math.nan)
            spent = _get(r, "attacker_spend_usd")
            rec["attacker cost multiplier vs B = 0"] = (
                f"{spent / z:.2f}x" if np.isfinite(z) and z > 0 and np.isfinite(spent) else "n/a"
            )
            rows.append(rec)
        out += [md_table(pd.DataFrame(rows)), ""]
    return out
