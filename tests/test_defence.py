"""Defence that can bite (issue #9): the account market, burned infrastructure, defender learning.

Each mechanism has an effect test (it moves what it should, in the direction its source says) and
a switch-off test (its neutral setting reproduces the model without it, exactly).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PRE_MARKET, run_small
from scipy.special import ndtr

from sim.fleet import END_BANNED, END_SCREENED

HIGH_B = "detection.budget_usd_per_day=300000"
MARKET = "market.enabled=true"
LEARN = "learning.enabled=true"
KEYS = [
    "capability_extracted",
    "accounts_created",
    "accounts_banned",
    "exchanges_harvested",
    "attacker_spend_usd",
    "defender_total_cost_usd",
    "review_cases",
]

#: One supplier that behaves like the operator's own flat-price accounts (SMALL's price $20).
FLAT_SUPPLIER = [
    "suppliers=[verified]",
    "suppliers.verified.base_price_usd=20",
    "suppliers.verified.verification=none",
    "suppliers.verified.capacity_per_day=1e9",
    "suppliers.verified.stock=1e12",
    "suppliers.verified.rate_premium=0",
    "suppliers.verified.burn_elasticity=0",
    "suppliers.verified.setup_hours_median=12",
    "suppliers.verified.setup_hours_sigma=0.8",
]


def run(*overrides: str, **kw):
    """A small world without the defence mechanisms, plus ``overrides`` (the one under test)."""
    return run_small(*PRE_MARKET, *overrides, **kw)


def _same(a: dict, b: dict) -> None:
    for k in KEYS:
        assert a[k] == b[k], k


# ---------------------------------------------------------------------------------- switch-off
@pytest.mark.parametrize("policy", ["baseline", "kyc_mandate"])
def test_a_flat_unlimited_supplier_is_the_model_without_a_market(policy):
    off = run(HIGH_B, f"policy={policy}").summary
    on = run(HIGH_B, f"policy={policy}", MARKET, *FLAT_SUPPLIER).summary
    _same(off, on)
    assert on["market"]["verified"]["accounts_bought"] == on["accounts_created"]


def test_learning_with_no_boost_and_no_screening_changes_nothing():
    off = run(HIGH_B, "policy=intel_sharing").summary
    neutral = run(
        HIGH_B,
        "policy=intel_sharing",
        LEARN,
        "learning.cluster_boost=0",
        "learning.template_boost=0",
        "learning.screening_prob=0",
    ).summary
    _same(off, neutral)
    assert neutral["clusters_known"] > 0  # it learned, and the learning was given no power


def test_free_instant_infrastructure_changes_nothing():
    off = run(HIGH_B).summary
    zero = run(
        HIGH_B, "operators.qwen.cluster_setup_usd=0", "operators.qwen.cluster_setup_hours=0"
    ).summary
    _same(off, zero)


# ---------------------------------------------------------------------------------- market
def test_supply_curve_rises_with_purchase_rate_and_burned_share():
    r = run(MARKET, keep_model=True)
    s = r.model.market.suppliers[0]
    t = r.model.horizon - 1
    s.burned = 0
    base = s.price(t, 0.0)
    assert s.price(t, s.capacity(t)) > base  # buying at the full daily capacity costs more
    s.burned = int(0.5 * s.params.pool)
    assert s.price(t, 0.0) == pytest.approx(base * 2**s.params.burn_elasticity)


def test_the_price_paid_rises_as_bans_rise():
    """More detection -> more bans -> identities burned -> dearer accounts (Thomas et al.:
    prices respond to the defender). The first fleet's price is set by its purchase rate; the
    replacements' by the burns."""
    pool = ["suppliers.farmed.pool=3000", "suppliers.verified.pool=3000"]
    quiet = run(MARKET, *pool, "detection.budget_usd_per_day=0").summary
    hunted = run(MARKET, *pool, HIGH_B, keep_model=True)
    no_burn = run(
        MARKET,
        *pool,
        HIGH_B,
        "suppliers.farmed.burn_elasticity=0",
        "suppliers.verified.burn_elasticity=0",
        keep_model=True,
    )
    assert hunted.summary["accounts_banned"] > 500 > quiet["accounts_banned"]
    assert hunted.summary["market"]["farmed"]["burned_share_end"] > 0.1
    end = lambda s: s["market"]["farmed"]["price_end_usd"]  # noqa: E731
    assert end(hunted.summary) > 1.2 * end(quiet)

    def later_price(r):
        acc, n = r.model.fleet.accounts, r.model.fleet.n
        later = acc.requested_at[:n] > 72
        return float(acc.price_usd[:n][later].mean())

    assert later_price(hunted) > 1.1 * later_price(no_burn)


def test_an_empty_inventory_makes_orders_wait_for_production():
    thin = [
        "suppliers=[farmed]",
        "suppliers.farmed.stock=0",
        "suppliers.farmed.capacity_per_day=200",
    ]
    s = run(MARKET, *thin, keep_model=True)
    m = s.model
    acc = m.fleet.accounts
    n = m.fleet.n
    # ~1,000 accounts at 200 a day: the last of the first fleet waits about five days.
    assert s.summary["market"]["farmed"]["mean_wait_hours"] > 24
    first_fleet = acc.active_at[:n] - acc.requested_at[:n]
    assert first_fleet.max() > 4 * 24


def test_kyc_blocks_the_tiers_below_its_level_and_the_operator_moves_up():
    free = run(MARKET).summary["market"]
    kyc = run(MARKET, "policy=kyc_mandate").summary["market"]
    assert free["farmed"]["accounts_bought"] > free["verified"]["accounts_bought"]

    def share(market: dict) -> float:
        return market["verified"]["accounts_bought"] / sum(
            v["accounts_bought"] for v in market.values()
        )

    assert share(kyc) > share(free) + 0.1
    # The farmed price is multiplied and its blocked attempts paid: at least base x 2.5 / 0.7.
    assert kyc["farmed"]["price_end_usd"] >= 10.0 * 2.5 / 0.7
    assert kyc["verified"]["price_end_usd"] < 10.0 * 2.5 / 0.7


# ---------------------------------------------------------------------------------- infrastructure
def test_burned_infrastructure_delays_and_costs_replacements():
    base = run(HIGH_B, keep_model=True)
    slow = run(
        HIGH_B,
        "operators.qwen.cluster_setup_hours=48",
        "operators.qwen.cluster_setup_usd=500",
        keep_model=True,
    )

    def replacement_lag(r):
        m = r.model
        acc, cl, n = m.fleet.accounts, m.fleet.clusters, m.fleet.n
        late = cl.ready_at[acc.cluster[:n]] > 0
        lag = acc.active_at[:n] - acc.requested_at[:n]
        return float(lag[late].mean()) if late.any() else 0.0, int(late.sum())

    lag, n_late = replacement_lag(slow)
    assert n_late > 100
    assert lag > replacement_lag(base)[0] + 24  # waits for the new infrastructure (48 h)
    fresh = int((slow.model.fleet.clusters.view("ready_at") > 0).sum())
    assert fresh > 5
    assert slow.summary["attacker_spend_usd"] > base.summary["attacker_spend_usd"] + fresh * 250


def test_reused_infrastructure_stays_linked_and_known():
    fresh = run(HIGH_B, LEARN).summary
    reuse = run(HIGH_B, LEARN, "operators.qwen.reuse_burned_share=1.0", keep_model=True)
    s = reuse.summary
    assert s["operators"]["qwen"]["clusters_opened"] < fresh["operators"]["qwen"]["clusters_opened"]
    # Accounts put on known infrastructure are screened at sign-up or die sooner.
    assert s["accounts_screened"] > 0
    assert s["accounts_screened"] > fresh["accounts_screened"]


# ---------------------------------------------------------------------------------- learning
def test_learning_shortens_the_life_of_later_accounts_sharing_indicators():
    """Later accounts are banned at a higher rate per day of exposure once the defender has
    learned indicators from earlier confirmations (screening off: detection alone)."""
    off = run(HIGH_B, keep_model=True)
    # Every later account shares the operator's templates: the effect at its clearest.
    shared = ["learning.template_match_share=1", "learning.template_boost=2"]
    on = run(HIGH_B, LEARN, "learning.screening_prob=0", *shared, keep_model=True)
    default = run(HIGH_B, LEARN, "learning.screening_prob=0").summary

    def later_hazard(r):
        m = r.model
        acc, n = m.fleet.accounts, m.fleet.n
        later = acc.requested_at[:n] > 72
        end = np.minimum(acc.ended_at[:n], m.horizon)
        exposure = np.clip(end - acc.active_at[:n], 0.0, None)[later].sum() / 24.0
        banned = later & (acc.end_kind[:n] == END_BANNED) & (acc.ended_at[:n] < m.horizon)
        return banned.sum() / exposure

    assert on.summary["clusters_known"] > 0
    assert later_hazard(on) > 3 * later_hazard(off)
    assert on.summary["capability_extracted"] < off.summary["capability_extracted"]
    # At the default (30% match, boost 1) too: more bans and less capability.
    assert default["accounts_banned"] > 1.2 * off.summary["accounts_banned"]
    assert default["capability_extracted"] < off.summary["capability_extracted"]


def test_screening_blocks_sign_ups_on_known_indicators():
    r = run(HIGH_B, LEARN, "learning.screening_prob=1.0", keep_model=True)
    m = r.model
    acc, n = m.fleet.accounts, m.fleet.n
    screened = acc.end_kind[:n] == END_SCREENED
    before = acc.ended_at[:n] < m.horizon
    assert r.summary["accounts_screened"] == int((screened & before).sum()) > 0
    # Blocked before serving: no harvest, ended when they would have gone live.
    assert acc.harvested[:n][screened].sum() == 0
    assert np.all(acc.ended_at[:n][screened] == acc.active_at[:n][screened])


# ---------------------------------------------------------------------------------- attacker
def test_adaptive_operator_moves_away_from_a_supplier_whose_accounts_die():
    r = run(MARKET, "attacker=adaptive", keep_model=True)
    m = r.model
    op = m.operator_list[0]
    t = m.horizon / 2
    even = m.market._split(op, m.market.suppliers, t, 600)
    cheap = int(np.bincount(even, minlength=3).argmax())
    # It learns that the cheap tier's accounts are lost at about 3 a day per 1 alive.
    op.supplier_beliefs[cheap].update(50000.0, 10000.0)
    after = np.bincount(m.market._split(op, m.market.suppliers, t, 600), minlength=3)
    assert after[cheap] < np.bincount(even, minlength=3)[cheap]


def test_adaptive_operator_replaces_only_accounts_worth_their_price():
    r = run("attacker=adaptive", keep_model=True)
    op = r.model.operator_list[0]
    when = np.array([24.0, 30.0])
    assert op.replacements(when).size == 2
    op.cfg.value_usd = 1.0  # capability worth nothing: no account is worth $20
    assert op.replacements(when).size == 0


# ---------------------------------------------------------------------------------- sanctions
def test_an_enacted_blacklist_lands_after_its_lag_and_the_operator_reroutes():
    enacted = [
        HIGH_B,
        "policy=sanctions_enacted",
        "policies.sanctions.enforcement_lag_days=2",
        "policies.sanctions.enforcement_probability=1",
        "policies.sanctions.front_company_share=0.5",
    ]
    r = run(*enacted, keep_model=True)
    m, o = r.model, r.summary["operators"]["qwen"]
    d = m.defender
    assert o["attributed_in_run"]
    assert d.blacklisted_at[0] == pytest.approx(d.attributed_at[0] + 48)
    assert o["blacklisted_at_hours"] == r.summary["blacklisted_at_hours"] == d.blacklisted_at[0]
    assert o["demand_per_day_final"] == pytest.approx(0.5 * m.cfg.operators["qwen"].demand_per_day)
    t = int(d.blacklisted_at[0]) + 48  # a day after the bans took effect and were noticed
    before = m.harvested_h[0, : int(d.attributed_at[0])].mean()
    after = m.harvested_h[0, t:].mean()
    assert 0 < after < 0.75 * before  # half the demand, through front companies
    assert o["stop_reason"] is None
    # A lag past the horizon: attributed in the run, blacklisted never; only the penalty bites.
    late = run(*enacted[:2], keep_model=True)
    assert late.summary["operators"]["qwen"]["attributed_in_run"]
    assert np.isinf(late.model.defender.blacklisted_at[0])


def test_a_proposed_sanction_is_weighed_through_its_chain_not_inside_the_run():
    s = run(HIGH_B, "policy=sanctions").summary
    e = run(HIGH_B, "policy=sanctions_enacted").summary
    b = run(HIGH_B).summary
    # Nothing in the run changes (the measure is not in force; an enacted one lands past it)...
    assert s["capability_extracted"] == e["capability_extracted"] == b["capability_extracted"]
    # ...and the enacted regime's penalty is larger: no enactment risk, a shorter lag.
    assert 0 < s["expected_penalty_usd"] < e["expected_penalty_usd"]


# ---------------------------------------------------------------------------------- export controls
def test_export_controls_raise_the_value_of_distillation_to_the_attacker():
    base = run().summary["operators"]["qwen"]
    ec = run("policy=export_controls").summary["operators"]["qwen"]
    assert ec["value_usd"] == pytest.approx(base["value_usd"] * (1 + 0.6 * 0.5))
    assert ec["net_value_usd"] > base["net_value_usd"]
    # The adaptive operator's go/no-go weighs it: a campaign just short of paying (its
    # break-even value is about $1.2M in this world) goes once its outside option costs more.
    marginal = ["attacker=adaptive", "operators.qwen.value_usd=1.1e6"]
    off = run(*marginal).summary["operators"]["qwen"]
    on = run(*marginal, "policy=export_controls").summary["operators"]["qwen"]
    assert (off["went"], on["went"]) == (False, True)


# ---------------------------------------------------------------------------------- capacity
def test_a_capacity_aware_threshold_flags_what_the_analysts_can_clear():
    """τ is set so the benign population's expected flags per scan are the utilisation share of
    the detector's part of the analysts' throughput; more analysts, a lower τ (money buys reach)."""
    taus = {}
    for b in (30_000, 1_000_000):
        r = run(
            f"detection.budget_usd_per_day={b}",
            "detection.threshold.method=capacity",
            keep_model=True,
        )
        m = r.model
        rc, d = m.cfg.review, m.defender
        per_day = (
            d.n_analysts
            * rc.shift_hours
            * 60
            / (rc.review_minutes_median * np.exp(rc.review_minutes_sigma**2 / 2))
        )
        dets = [x for x in m.detector_list if x.on]
        legit = m.legit
        for det in dets:
            # Expected over the population's persistent terms: P(s > τ) = 1 − Φ(τ − μ).
            mu = det.dprime * det.legit_signal(legit, legit.median_rate * det.period / 24)
            w = legit.weight * det.legit_test_factor(legit, det.period)
            expected = float((w * ndtr(mu - det.tau)).sum()) * det.coverage
            target = 0.8 * per_day * det.period / 24 / len(dets)
            assert expected == pytest.approx(target, rel=0.01), det.name
        taus[b] = [x.tau for x in dets]
        assert r.summary["review_backlog_at_end"] <= 0.01 * r.summary["review_cases"]
    assert all(hi < lo for lo, hi in zip(taus[30_000], taus[1_000_000], strict=True))


def test_with_many_analysts_a_capacity_threshold_catches_more_than_a_fixed_fpr():
    high = "detection.budget_usd_per_day=1000000"
    fpr = run(high).summary
    cap = run(high, "detection.threshold.method=capacity").summary
    assert cap["capability_extracted"] < 0.95 * fpr["capability_extracted"]
    assert cap["accounts_banned"] > 1.5 * fpr["accounts_banned"]
    # The reach is bought with legitimate customers wrongly acted on.
    assert cap["legit_accounts_acted_on"] > fpr["legit_accounts_acted_on"]


def test_account_age_flags_young_accounts_and_spares_aged_ones():
    """With age as a signal, new attacker accounts are caught sooner, aged (hijacked) ones keep
    their cover, and young legitimate accounts are flagged more too."""
    only_age = [
        HIGH_B,
        LEARN,
        "learning.cluster_boost=0",
        "learning.template_boost=0",
        "learning.screening_prob=0",
    ]
    market = [MARKET, "suppliers=[farmed,aged]", "suppliers.aged.base_price_usd=10"]
    off = run(*only_age, *market, keep_model=True)
    on = run(*only_age, *market, "learning.age_boost=2", keep_model=True)

    def hazard(r, supplier: int) -> float:
        m = r.model
        acc, n = m.fleet.accounts, m.fleet.n
        rows = acc.supplier[:n] == supplier
        end = np.minimum(acc.ended_at[:n], m.horizon)
        exposure = np.clip(end - acc.active_at[:n], 0.0, None)[rows].sum() / 24.0
        banned = rows & (acc.end_kind[:n] == END_BANNED) & (acc.ended_at[:n] < m.horizon)
        return banned.sum() / exposure

    assert hazard(on, 0) > 1.5 * hazard(off, 0)  # farmed: new accounts
    assert hazard(on, 1) < 1.2 * hazard(off, 1)  # aged: a year of history
    assert on.summary["fpr_per_account_horizon"] > off.summary["fpr_per_account_horizon"]


def test_kyc_required_level_is_a_config_key_and_moves_the_operator():
    """Requiring identity checks blocks the verified tier too; only aged accounts pass."""
    payment = run(MARKET, "policy=kyc_mandate").summary["market"]
    identity = run(
        MARKET, "policy=kyc_mandate", "policies.kyc.required_verification=identity"
    ).summary["market"]
    assert identity["verified"]["price_end_usd"] > payment["verified"]["price_end_usd"]
    assert identity["aged"]["accounts_bought"] >= payment["aged"]["accounts_bought"]
