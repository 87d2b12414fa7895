"""``distillsim app``: a what-if page (Mesa's SolaraViz) that steps one world as you watch.

Served by ``solara run sim.app:page`` (see :func:`sim.commands.app`). The scenario and any fixed
overrides come from ``DISTILLSIM_APP_OVERRIDES`` (a JSON list of ``key=value``); the page adds a
small world (``world.legit_sample_share``) unless it is set, so a step takes a fraction of a
second. Every control value goes through :func:`sim.configuration.load`: a value the schema
refuses is shown as an error and the world keeps the scenario's value instead.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Mesa 3.3.1's ComponentsView trips Solara's hook check at import; it is Mesa's, and harmless.
warnings.filterwarnings("ignore", message=".*use_state. found despite early return")

import numpy as np  # noqa: E402
import solara  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

from sim.configuration import group_options, load  # noqa: E402
from sim.fleet import END_BANNED  # noqa: E402
from sim.ledger import DEFENDER  # noqa: E402
from sim.model import DistillationModel  # noqa: E402
from sim.parameters import Config  # noqa: E402
from sim.validation import ConfigError  # noqa: E402

ENV = "DISTILLSIM_APP_OVERRIDES"
#: The page's world unless the overrides set it: 1% of legitimate accounts simulated.
SMALL_WORLD = "world.legit_sample_share=0.01"
POLICIES = [
    "kyc",
    "intel_sharing",
    "poisoning",
    "watermarking",
    "sanctions",
    "rate_limits",
    "export_controls",
]
MODES = ["fixed", "adaptive"]  # best_response searches for minutes: not for a live page


def fixed_overrides(given: list[str] | None = None) -> list[str]:
    """The scenario and fixed overrides (``given``, else the page's), the small world included."""
    overrides = list(json.loads(os.environ.get(ENV, "[]")) if given is None else given)
    if not any(o.split("=", 1)[0] == "world.legit_sample_share" for o in overrides):
        overrides.append(SMALL_WORLD)
    return overrides


def snapshot(model: DistillationModel) -> dict[str, Any]:
    """What the plots show at the model's current hour."""
    acc = model.fleet.accounts
    n = model.fleet.n
    t = model.time_h
    ended = acc.ended_at[:n]
    gains = np.array(
        [op.curve.gains(model.capability_stock[k]) for k, op in enumerate(model.operator_list)]
    )
    led = model.ledger.frame()
    attacker_cash = float(led[led["payer"].str.startswith("attacker:") & led["cash"]]["usd"].sum())
    defender_cost = float(led[(led["payer"] == DEFENDER) & led["cash"]]["usd"].sum())
    return {
        "day": t / 24.0,
        "capability": gains.max(axis=0) if gains.size else np.zeros(len(model.domains)),
        "alive": int((ended > t).sum()),
        "banned": int(((acc.end_kind[:n] == END_BANNED) & (ended <= t)).sum()),
        "backlog": int(model.defender.queue.waiting),
        "attacker_usd": attacker_cash,
        "defender_usd": defender_cost,
    }


class WhatIfModel(DistillationModel):
    """A world built from the page's controls, with the scenario's own world beside it.

    Args: the page's controls (see :func:`model_params`), the policy toggles as keyword
    arguments named after the policy; ``None`` keeps the scenario's value.
    """

    def __init__(
        self,
        budget_usd_per_day: float | None = None,
        mix: str = "scenario",
        attacker: str = "fixed",
        n_half_scale: float = 1.0,
        account_price_scale: float = 1.0,
        compare_baseline: bool = True,
        seed: int = 0,
        **kwargs: bool,
    ) -> None:
        base = fixed_overrides()
        self.error: str | None = None
        base_cfg = load([*base, f"seed={seed}"]).cfg
        try:
            cfg = load([*base, *self.overrides_for(base_cfg, locals(), kwargs)]).cfg
        except ConfigError as e:  # a value the schema refuses: keep the scenario's world
            self.error = f"{e} (the scenario's values are used)"
            cfg = base_cfg
        super().__init__(cfg)
        self.baseline = DistillationModel(base_cfg) if compare_baseline else None
        self.history = [snapshot(self)]
        self.baseline_history = [snapshot(self.baseline)] if self.baseline else []

    @staticmethod
    def overrides_for(base: Config, c: dict[str, Any], policies: dict[str, bool]) -> list[str]:
        """The overrides the controls ``c`` ask for, on top of the scenario ``base``."""
        out = [f"seed={c['seed']}", f"attacker={c['attacker']}"]
        if c["mix"] != "scenario":
            out.append(f"mix={c['mix']}")
        if c["budget_usd_per_day"] is not None:
            out.append(f"detection.budget_usd_per_day={c['budget_usd_per_day']}")
        for name, on in policies.items():
            out.append(f"policies.{name}.enabled={str(bool(on)).lower()}")
        for d, dom in base.capability.domains.items():
            out.append(f"capability.domains.{d}.n_half={dom.n_half * c['n_half_scale']!r}")
        for s, sup in base.suppliers.items():
            price = sup.base_price_usd * c["account_price_scale"]
            out.append(f"suppliers.{s}.base_price_usd={price!r}")
        return out

    def step(self) -> None:
        """One window of this world and of the baseline beside it."""
        super().step()
        self.history.append(snapshot(self))
        if self.baseline is not None and self.baseline.running:
            self.baseline.step()
            self.baseline_history.append(snapshot(self.baseline))


def _figure(model: WhatIfModel, title: str, ylabel: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=(6.0, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, model.cfg.world.days)
    ax.set_ylim(bottom=0, auto=True)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("day of the campaign")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _series(model: WhatIfModel, key: str) -> tuple[list, list, list, list]:
    h, b = model.history, model.baseline_history
    return [s["day"] for s in h], [s[key] for s in h], [s["day"] for s in b], [s[key] for s in b]


def _lines(ax: Any, model: WhatIfModel, keys: dict[str, str]) -> None:
    for i, (key, label) in enumerate(keys.items()):
        x, y, bx, by = _series(model, key)
        ax.plot(x, y, color=f"C{i}", lw=2, label=f"{label} (what-if)")
        if bx:
            ax.plot(bx, by, color=f"C{i}", lw=1.2, ls="--", label=f"{label} (baseline)")
    ax.legend(fontsize=8, loc="best")


@solara.component
def CapabilityPlot(model: WhatIfModel) -> None:
    """Capability by domain: the gap to the teacher closed by the leading student."""
    update_counter.get()
    fig, ax = _figure(
        model, "Student capability by domain (best operator)", "gap to teacher closed"
    )
    for i, d in enumerate(model.domains):
        x = [s["day"] for s in model.history]
        ax.plot(x, [s["capability"][i] for s in model.history], color=f"C{i}", lw=2, label=d)
        if model.baseline_history:
            bx = [s["day"] for s in model.baseline_history]
            by = [s["capability"][i] for s in model.baseline_history]
            ax.plot(bx, by, color=f"C{i}", lw=1.2, ls="--")
    ax.legend(fontsize=8, title="solid: what-if, dashed: baseline", title_fontsize=8)
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def AccountsPlot(model: WhatIfModel) -> None:
    """Attacker accounts alive and banned so far."""
    update_counter.get()
    fig, ax = _figure(model, "Attacker accounts", "accounts")
    _lines(ax, model, {"alive": "alive", "banned": "banned (cumulative)"})
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def BacklogPlot(model: WhatIfModel) -> None:
    """Cases waiting for an analyst at each window's end."""
    update_counter.get()
    fig, ax = _figure(model, "Review backlog", "cases waiting for an analyst")
    _lines(ax, model, {"backlog": "backlog"})
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def LedgerPlot(model: WhatIfModel) -> None:
    """Cash paid so far by the attackers and by the defender."""
    update_counter.get()
    fig, ax = _figure(model, "Ledgers: cash paid so far", "US$ (cumulative)")
    _lines(ax, model, {"attacker_usd": "attackers", "defender_usd": "defender"})
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Status(model: WhatIfModel) -> None:
    """Where the world is, the latest figures side by side, and any refused control value."""
    update_counter.get()
    now = model.history[-1]
    base = model.baseline_history[-1] if model.baseline_history else None
    if model.error:
        solara.Error(model.error)
    cfg = model.cfg
    on = [n.replace("_", " ") for n, p in cfg.policies.items() if p.enabled] or ["none"]
    shares = ", ".join(f"{k} {v:.0%}" for k, v in cfg.detection.shares.items())
    solara.Markdown(
        f"**Day {now['day']:.0f} of {cfg.world.days}** · scenario `{cfg.scenario.name}` · "
        "controls apply on **Reset**\n\n"
        f"What-if world: B = **${cfg.detection.budget_usd_per_day:,.0f}/day** ({shares}); "
        f"attacker **{cfg.attacker.mode}**; policies on: {', '.join(on)}; seed {cfg.seed}"
    )
    rows = [
        ("capability (mean over domains)", "{:.3f}", float(np.mean(now["capability"]))),
        ("accounts alive", "{:,.0f}", now["alive"]),
        ("accounts banned", "{:,.0f}", now["banned"]),
        ("review backlog (cases)", "{:,.0f}", now["backlog"]),
        ("attackers' cash paid ($)", "{:,.0f}", now["attacker_usd"]),
        ("defender's cash paid ($)", "{:,.0f}", now["defender_usd"]),
    ]
    table = ["| | what-if | baseline |", "|---|---:|---:|"]
    for label, fmt, v in rows:
        key = {
            "accounts alive": "alive",
            "accounts banned": "banned",
            "review backlog (cases)": "backlog",
            "attackers' cash paid ($)": "attacker_usd",
            "defender's cash paid ($)": "defender_usd",
        }.get(label)
        if base is None:
            b = "–"
        elif key is None:
            b = fmt.format(float(np.mean(base["capability"])))
        else:
            b = fmt.format(base[key])
        table.append(f"| {label} | {fmt.format(v)} | {b} |")
    solara.Markdown("\n".join(table))


def model_params(cfg: Config) -> dict[str, Any]:
    """The page's controls, starting at the scenario ``cfg``'s values."""
    params: dict[str, Any] = {
        "budget_usd_per_day": {
            "type": "SliderInt",
            "value": int(cfg.detection.budget_usd_per_day),
            "label": "Detection budget B (US$/day)",
            "min": 0,
            "max": 1_000_000,
            "step": 5_000,
        },
        "mix": {
            "type": "Select",
            "value": "scenario",
            "label": "Split of B across detectors and review (configs/mix)",
            "values": ["scenario", *group_options("mix")],
        },
        "attacker": {
            "type": "Select",
            "value": cfg.attacker.mode if cfg.attacker.mode in MODES else "fixed",
            "label": "Attacker mode",
            "values": MODES,
        },
        "n_half_scale": {
            "type": "SliderFloat",
            "value": 1.0,
            "label": "Student data need N_half (× scenario)",
            "min": 0.2,
            "max": 4.0,
            "step": 0.1,
        },
        "account_price_scale": {
            "type": "SliderFloat",
            "value": 1.0,
            "label": "Account price (× scenario)",
            "min": 0.25,
            "max": 2.5,
            "step": 0.05,
        },
    }
    for name in POLICIES:
        if name in cfg.policies:
            params[name] = {
                "type": "Checkbox",
                "value": bool(cfg.policies[name].enabled),
                "label": f"Policy: {name.replace('_', ' ')}",
            }
    params["compare_baseline"] = {
        "type": "Checkbox",
        "value": True,
        "label": "Compare with baseline (the scenario as shipped, dashed)",
    }
    params["seed"] = {"type": "SliderInt", "value": 0, "label": "Seed", "min": 0, "max": 20}
    return params


def make_page() -> Any:
    """The SolaraViz page for the scenario given in ``DISTILLSIM_APP_OVERRIDES``."""
    cfg = load(fixed_overrides()).cfg
    params = model_params(cfg)
    start = {k: v["value"] for k, v in params.items()}
    model = solara.use_memo(lambda: WhatIfModel(**start), [])
    return SolaraViz(
        model,
        components=[Status, CapabilityPlot, AccountsPlot, BacklogPlot, LedgerPlot],
        model_params=params,
        name=f"distillsim what-if: {cfg.scenario.name}",
        play_interval=150,
    )


@solara.component
def page() -> None:
    """Solara's entry point (``solara run sim.app:page``)."""
    make_page()
