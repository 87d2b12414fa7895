"""scenarios/frontier_labs_2026.yaml: three labs, both 2026 campaigns, sharing from ~6 Apr 2026."""

from __future__ import annotations

import math

import pytest
from conftest import SMALL_WORLD

from sim.configuration import load
from sim.experiments.calibration import get_path
from sim.experiments.evaluators import evaluate
from sim.providers import provider_configs
from sim.validation import ConfigError

NAME = "frontier_labs_2026"
LABS = ["anthropic", "openai", "google"]

#: A small version: 12 days, 1% of the legitimate population, the campaigns and sharing moved in.
SMALL_FRONTIER = [
    f"scenario={NAME}",
    *SMALL_WORLD,
    "world.days=12",
    "operators.deepseek.end_hour=120",
    "operators.moonshot.end_hour=168",
    "operators.minimax.start_hour=24",
    "operators.minimax.end_hour=168",
    "operators.qwen.start_hour=144",
    "sharing.start_hour=96",
]


def test_the_full_scenario_composes_as_documented():
    cfg = load([f"scenario={NAME}"]).cfg
    assert list(cfg.providers) == LABS
    assert cfg.sharing.participants == LABS
    assert cfg.world.days * 24 == cfg.operators["qwen"].start_hour + 45 * 24  # Qwen: 45 days
    assert cfg.sharing.start_hour == 103 * 24  # 6 Apr 2026
    assert not cfg.policies["intel_sharing"].enabled  # the FMF exchange is `sharing`
    pcfgs = provider_configs(cfg)
    prices = {
        n: (c.teacher.price_in_usd_per_mtok, c.teacher.price_out_usd_per_mtok)
        for n, c in pcfgs.items()
    }
    assert prices == {"anthropic": (5.0, 25.0), "openai": (1.75, 14.0), "google": (2.0, 12.0)}
    assert pcfgs["anthropic"].teacher.releases_hours == [1032.0]
    # Anthropic's disclosures are targets for Anthropic only; the others' figures are outputs.
    targets = cfg.scenario.calibration.targets
    assert targets and all(t.metric.startswith("provider.anthropic.") for t in targets)


def test_a_small_version_runs_to_finite_figures_per_provider():
    cfg = load(SMALL_FRONTIER).cfg
    s = evaluate(cfg, NAME, progress=False, summary_only=True).summary
    assert s["providers"] == LABS and s["sharing_participants"] == LABS
    for p in LABS:
        pre = f"provider.{p}."
        for key in ("capability_extracted", "exchanges_harvested", "defender_total_cost_usd"):
            assert math.isfinite(s[pre + key]) and s[pre + key] >= 0, (p, key)
        assert s[pre + "exchanges_harvested"] > 0, p  # every lab is harvested
        assert s[pre + "shares_indicators"]
        # Sharing costs only from its start (day 4 of 12).
        assert s[pre + "sharing_cost_usd"] == pytest.approx(560.0 * 8)
        assert set(s[pre + "exchanges_attributed_by_operator"]) == set(cfg.operators)
    assert sum(s[f"provider.{p}.indicators_received"] for p in LABS) > 0
    # Anthropic's calibration targets read the world's flat provider.<name>.* figures.
    for t in cfg.scenario.calibration.targets:
        assert math.isfinite(get_path(s, t.metric)), t.metric
    assert get_path(s, "provider.anthropic.accounts_attributed") == sum(
        s["provider.anthropic.accounts_attributed_by_operator"].values()
    )
    assert 0 < s["capability_extracted"] < 1 and math.isfinite(s["exchanges_harvested"])


def test_sharing_start_hour_is_validated():
    with pytest.raises(ConfigError, match="sharing.start_hour"):
        load([*SMALL_FRONTIER, "sharing.start_hour=288"])
    with pytest.raises(ConfigError, match="sharing.start_hour"):
        load([*SMALL_FRONTIER, "sharing.start_hour=-1"])


def test_nothing_is_shared_before_the_start():
    """Indicators learned before sharing.start_hour are never passed on: a start after every
    confirmation of the run's first days passes on less than sharing from hour 0."""
    early = evaluate(
        load([*SMALL_FRONTIER, "sharing.start_hour=0"]).cfg, NAME, progress=False, summary_only=True
    ).summary
    late = evaluate(load(SMALL_FRONTIER).cfg, NAME, progress=False, summary_only=True).summary
    sent = {
        k: sum(s[f"provider.{p}.indicators_sent"] for p in LABS)
        for k, s in (("early", early), ("late", late))
    }
    assert sent["late"] < sent["early"]
    assert early["provider.anthropic.sharing_cost_usd"] == pytest.approx(560.0 * 12)
