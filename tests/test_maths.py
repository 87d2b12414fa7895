"""The model's maths on known values: capability curve, thresholds, TPR/FPR, thinning, harvest."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from sim.capability import CapabilityCurve
from sim.fleet import ACT_DEGRADE, ACT_THROTTLE, Fleet
from sim.harvest import OperatorWindow, harvest_window
from sim.parameters import CapabilityConfig, DomainConfig, ThresholdConfig
from sim.signal import ThinningSampler, d_prime, flag_probability, quality_cap, scores
from sim.thresholds import BayesTerms, calibrated_threshold, threshold


def curve(spill: float = 0.0, **dom) -> CapabilityCurve:
    d = DomainConfig(**({"gmax": 0.6, "n_half": 1e5, "exponent": 0.7} | dom))
    return CapabilityCurve(CapabilityConfig(domains={"x": d}, spillover=spill))


@pytest.mark.parametrize("a", [0.5, 0.7, 1.0])
def test_capability_curve_half_gap_at_n_half(a):
    c = curve(exponent=a)
    assert c.gains(np.array([1e5]))[0] == pytest.approx(0.3, rel=1e-9)
    assert c.gains(np.array([0.0]))[0] == 0.0


def test_capability_curve_monotone_and_saturating():
    c = curve()
    n = np.logspace(0, 12, 200)[:, None]
    g = c.gains(n)[:, 0]
    assert np.all(np.diff(g) > 0)
    assert g[-1] == pytest.approx(0.6, rel=1e-3) and g[-1] <= 0.6
    # Diminishing returns: the gain from doubling falls once past N_half.
    doubling = c.gains(2 * n)[:, 0] - g
    past = n[:, 0] > 1e5
    assert np.all(np.diff(doubling[past]) < 0)


def test_spillover_to_untargeted_domain_is_bounded():
    cfg = CapabilityConfig(
        domains={"t": DomainConfig(gmax=0.8, n_half=1e4), "u": DomainConfig(gmax=0.8, n_half=1e4)},
        spillover=0.1,
    )
    c = CapabilityCurve(cfg)
    g = c.gains(np.array([1e9, 0.0]))
    assert g[1] == pytest.approx(0.1 * g[0], rel=1e-6)
    assert c.gains(np.array([0.0, 0.0])).sum() == 0.0


def test_marginal_value_matches_finite_difference():
    c = curve()
    n, mix = np.array([3e5]), np.array([1.0])
    h = 1.0
    fd = (c.overall(c.gains(n + h)) - c.overall(c.gains(n))) / h
    assert c.marginal_per_exchange(n, mix) == pytest.approx(float(fd), rel=1e-4)


def test_d_prime_diminishing_returns():
    assert d_prime(0, 0.5, 3.0, 1000) == 0.5
    assert d_prime(1000, 0.5, 3.0, 1000) == pytest.approx(1.75)
    assert d_prime(1e9, 0.5, 3.0, 1000) == pytest.approx(3.0)


def test_fpr_threshold_and_tpr():
    cfg = ThresholdConfig(method="fpr", target_fpr_per_day=1e-3)
    tau = threshold(cfg, 3.0)
    assert tau == pytest.approx(ndtri(1 - 1e-3))
    rng = np.random.default_rng(0)
    n = 400_000
    benign = scores(np.zeros(n), rng.standard_normal(n), 0.5, rng)
    attack = scores(np.full(n, 3.0), rng.standard_normal(n), 0.5, rng)
    assert (benign > tau).mean() == pytest.approx(1e-3, rel=0.15)
    assert (attack > tau).mean() == pytest.approx(ndtr(3.0 - tau), rel=0.02)


def test_bayes_threshold_is_the_posterior_cut_at_the_attackers_mean_score():
    cfg = ThresholdConfig(method="bayes")
    terms = BayesTerms(
        prior=0.05, cost_false_positive_usd=100, cost_false_negative_usd=900, attacker_signal=0.4
    )
    d = 2.0
    tau = threshold(cfg, d, bayes=terms)
    mu = d * 0.4  # attacker accounts score N(d′·g, 1), not N(d′, 1)
    lr = math.exp(mu * tau - mu * mu / 2)
    post = 0.05 * lr / (0.05 * lr + 0.95)
    assert post == pytest.approx(100 / (100 + 900), rel=1e-9)
    assert threshold(cfg, 0.0, bayes=terms) == math.inf
    assert threshold(cfg, d) == math.inf  # no terms derived: nothing flagged


def test_quality_is_bought_up_to_the_tolerance_only():
    cap = quality_cap(0.5, 2.5, 3000.0, 0.01)
    assert d_prime(cap, 0.5, 2.5, 3000.0) == pytest.approx(2.5 - 0.01)
    assert cap == pytest.approx(3000.0 * math.log2(2.0 / 0.01))
    assert quality_cap(1.0, 1.005, 3000.0, 0.01) == 0.0


def test_population_calibrated_threshold_meets_target_fpr():
    rng = np.random.default_rng(3)
    mu = np.concatenate([np.zeros(90_000), rng.uniform(0.5, 2.0, 10_000)])
    tau = calibrated_threshold(mu, None, 1e-3)
    assert np.mean(1 - ndtr(tau - mu)) == pytest.approx(1e-3, rel=1e-3)
    assert tau > ndtri(1 - 1e-3)  # power users use up part of the budget


def test_thinning_sampler_is_exact_in_distribution():
    rng = np.random.default_rng(7)
    q = np.concatenate([rng.uniform(0, 0.02, 500), np.full(10, 0.9), np.zeros(5), [1.0]])
    sampler = ThinningSampler(q)
    reps = 20_000
    counts = np.zeros(q.size)
    for _ in range(reps):
        counts[sampler.draw(rng, c=0.5)] += 1
    p = 0.5 * q
    se = np.sqrt(p * (1 - p) / reps) + 1e-12
    z = (counts / reps - p) / se
    assert np.all(np.abs(z[p > 0]) < 5)
    assert counts[q == 0].sum() == 0
    # Flags of different accounts are independent: the count's variance is the Bernoulli sum's.
    totals = [sampler.draw(rng).size for _ in range(5000)]
    assert np.var(totals) == pytest.approx((q * (1 - q)).sum(), rel=0.1)


def test_persistent_mean_sampler_is_exact_in_distribution():
    from sim.signal import PersistentMeanSampler

    rng = np.random.default_rng(5)
    n, tau, rho = 600, 1.5, 0.5
    m = rng.normal(0.0, 1.2, n).astype(np.float32)
    t = np.concatenate([np.ones(n // 2), rng.uniform(0, 1, n // 2)]).astype(np.float32)
    for test in (None, t):
        s = PersistentMeanSampler(m, tau, rho, test)
        q = s.q
        direct = ThinningSampler(q)
        assert q == pytest.approx(direct.q)
        reps = 4000
        counts = np.zeros(n)
        for _ in range(reps):
            counts[s.draw(rng, c=0.7)] += 1
        p = 0.7 * q
        z = (counts / reps - p) / (np.sqrt(p * (1 - p) / reps) + 1e-12)
        assert np.all(np.abs(z[p > 1e-4]) < 5)
        assert counts[p < 1e-9].sum() <= 1


def test_mean_cells_kernel_equals_the_numpy_expressions():
    """The compiled cell builder gives the keys and stable order of the numpy code it replaced."""
    from sim.kernels import mean_cells

    rng = np.random.default_rng(11)
    n, lo, w = 20_000, np.float32(-3.7), np.float32(1.0 / 0.05)
    m = np.concatenate([rng.normal(0, 3, n - 4), [-1e9, 1e9, lo, lo + 1 / w]]).astype(np.float32)
    t = rng.uniform(0, 1, n).astype(np.float32) ** 8
    t[::7] = 0.0
    t[::11] = 0.5
    for test in (None, t):
        mb = np.floor((m - lo) * w)
        key = (np.clip(mb, -1, 999) + 1).astype(np.int16) * np.int16(32)
        if test is not None:
            mant, e = np.frexp(np.maximum(test, np.float32(2.0**-40)))
            e -= mant == 0.5
            tb = np.clip(-e, 0, 30).astype(np.int16)
            tb[test <= 0] = 31
            key = key + tb
        order = np.argsort(key, kind="stable")
        sk = key[order]
        starts = np.flatnonzero(np.diff(sk, prepend=np.int16(-1)))
        got = mean_cells(
            m, lo, w, np.ones(1, np.float32) if test is None else test, test is not None
        )
        assert np.array_equal(got[0], order)
        assert np.array_equal(got[1], starts)
        assert np.array_equal(got[2], np.diff(np.append(starts, n)))
        assert np.array_equal(got[3], sk[starts].astype(np.int64))


def test_flag_probability_given_persistent_term():
    rng = np.random.default_rng(2)
    m, rho, tau = 1.0, 0.6, 2.0
    e = rng.standard_normal(400_000)
    s = m + math.sqrt(1 - rho) * e
    assert (s > tau).mean() == pytest.approx(
        float(flag_probability(tau, np.array([m]), rho)[0]), rel=0.02
    )


def _fleet(n: int, active_at, ended_at):
    f = Fleet(1)
    f.accounts.append(n, op=0, cluster=0, requested_at=0.0, active_at=active_at, ended_at=ended_at)
    return f


def _window(mix=(0.5, 0.5)):
    return OperatorWindow(
        cadence_per_day=48.0,
        end_hour=math.inf,
        quality=1.0,
        mix=np.array(mix),
        staleness=np.ones(24),
    )


def test_harvest_pooled_split_matches_per_exchange_placement():
    """The shortcut (one multinomial for accounts live all window) against the direct method.

    50 accounts at 48 exchanges a day: each hour's count is Poisson(100) under either path, the
    pooled multinomial (accounts live all day) and one uniform time per exchange (accounts that
    end a hair before the window closes).
    """
    rng = np.random.default_rng(11)
    reps = 400
    pooled = np.empty((reps, 24))
    direct = np.empty((reps, 24))
    dom_pooled = np.empty((reps, 2))
    dom_direct = np.empty((reps, 2))
    kw = dict(throttle_factor=1, degrade_quality=1, poison_quality=1, n_domains=2, rng=rng)
    for r in range(reps):
        h = harvest_window(_fleet(50, 0.0, math.inf), 0.0, 24.0, [_window()], **kw)
        pooled[r], dom_pooled[r] = h.harvested_h[0], h.effective_hd[0].sum(axis=0)
        h2 = harvest_window(_fleet(50, 0.0, 24.0 - 1e-9), 0.0, 24.0, [_window()], **kw)
        direct[r], dom_direct[r] = h2.harvested_h[0], h2.effective_hd[0].sum(axis=0)
    for x in (pooled, direct):
        assert np.all(np.abs(x.mean(axis=0) - 100) < 5 * math.sqrt(100 / reps))
        assert x.var(axis=0, ddof=1).mean() == pytest.approx(100, rel=0.1)
    # Domains: each exchange independently in domain 0 or 1 with probability 1/2.
    for d in (dom_pooled, dom_direct):
        assert d.mean(axis=0) == pytest.approx([1200, 1200], rel=0.02)
        assert d[:, 0].var(ddof=1) == pytest.approx(2400 * 0.25 + 2400 * 0.25, rel=0.2)


def test_harvest_respects_live_intervals_and_budget():
    rng = np.random.default_rng(5)
    f = _fleet(100, np.linspace(0, 23, 100), np.linspace(12, 48, 100))
    h = harvest_window(
        f,
        0.0,
        24.0,
        [_window()],
        throttle_factor=1,
        degrade_quality=1,
        poison_quality=1,
        n_domains=2,
        rng=rng,
    )
    assert np.all(h.harvested <= h.sent)
    assert h.harvested_h.sum() == h.harvested.sum()
    assert h.sent_h.sum() == h.sent.sum()
    a = f.accounts
    live = np.minimum(a.ended_at[h.idx], 24) - np.maximum(a.active_at[h.idx], 0)
    assert np.allclose(h.live_hours, live)
    # Budget: 10 exchanges' worth of money at $1 each keeps at most 10 harvested exchanges.
    h = harvest_window(
        _fleet(100, 0.0, math.inf),
        0.0,
        24.0,
        [_window()],
        throttle_factor=1,
        degrade_quality=1,
        poison_quality=1,
        n_domains=2,
        rng=rng,
        fee_room=np.array([10.0]),
        fee_per_exchange=np.array([1.0]),
    )
    assert h.harvested.sum() <= 10
    assert h.harvested_h.sum() == h.harvested.sum()


def _mixed_fleet(rng: np.random.Generator) -> Fleet:
    """Ten accounts each: live all day; set up, banned, throttled or degraded inside the window;
    throttled before it and banned inside it."""
    f = Fleet(1)
    inside = rng.uniform(0.5, 23.5, size=(5, 10))
    inf = math.inf
    for active, ended, action, at in (
        (0.0, inf, 0, inf),
        (inside[0], inf, 0, inf),
        (0.0, inside[1], 0, inf),
        (0.0, inf, ACT_THROTTLE, inside[2]),
        (0.0, inf, ACT_DEGRADE, inside[3]),
        (0.0, inside[4], ACT_THROTTLE, -5.0),
    ):
        f.accounts.append(
            10, op=0, cluster=0, active_at=active, ended_at=ended, action=action, action_at=at
        )
    return f


def _per_exchange(f: Fleet, lam: float, tf: float, accept: float, dq: float, rng, room=None):
    """The direct method: one uniform time per exchange, each thinned on its own; with
    ``room``, that many of the kept exchanges chosen uniformly among all of them."""
    a = f.accounts
    lo, hi = np.maximum(a.view("active_at"), 0.0), np.minimum(a.view("ended_at"), 24.0)
    n = rng.poisson(lam * np.clip(hi - lo, 0.0, None))
    who = np.repeat(np.arange(n.size), n)
    t = lo[who] + rng.random(who.size) * (hi - lo)[who]
    after = t >= a.action_at[who]
    p = accept * np.where(after & (a.action[who] == ACT_THROTTLE), tf, 1.0)
    keep = rng.random(who.size) < p
    if room is not None and keep.sum() > room:
        kept = np.flatnonzero(keep)
        keep[:] = False
        keep[rng.choice(kept, room, replace=False)] = True
    q = np.where(after & (a.action[who] == ACT_DEGRADE), dq, 1.0)
    hour = t.astype(int)
    return np.concatenate(
        [
            np.bincount(hour, minlength=24),
            np.bincount(hour[keep], minlength=24),
            [q[keep].sum()],
            np.bincount(who[keep], minlength=n.size)[[5, 15, 25, 35, 45, 55]],
        ]
    )


@pytest.mark.parametrize("room", [None, 1500])
def test_harvest_pieces_match_per_exchange_times(room):
    """The piecewise Poisson draw for accounts whose state changes inside the window (and the
    budget's uniform choice among kept exchanges) against one uniform time per exchange: 55
    statistics (sent and harvested per hour, effective exchanges, six accounts' harvests) agree
    (Welch, every p > 1e-4 over 300 windows each), and the test has the power to see a
    throttle ignored."""
    from scipy.stats import ttest_ind

    rng = np.random.default_rng(23)
    f = _mixed_fleet(rng)
    lam, tf, accept, dq = 4.0, 0.3, 0.8, 0.5
    w = _window()
    w.cadence_per_day, w.accept_share = lam * 24.0, accept
    kw = dict(throttle_factor=tf, degrade_quality=dq, poison_quality=1, n_domains=2, rng=rng)
    if room is not None:
        kw |= dict(fee_room=np.array([float(room)]), fee_per_exchange=np.array([1.0]))
    shortcut, direct, wrong = [], [], []
    for _ in range(300):
        h = harvest_window(f, 0.0, 24.0, [w], **kw)
        per = np.zeros(f.n)
        per[h.idx] = h.harvested
        shortcut.append(
            np.concatenate(
                [
                    h.sent_h[0],
                    h.harvested_h[0],
                    [h.effective_hd.sum()],
                    per[[5, 15, 25, 35, 45, 55]],
                ]
            )
        )
        assert h.harvested_h.sum() == h.harvested.sum() and h.sent_h.sum() == h.sent.sum()
        direct.append(_per_exchange(f, lam, tf, accept, dq, rng, room))
        wrong.append(_per_exchange(f, lam, 1.0, accept, dq, rng, room))
    shortcut, direct, wrong = map(np.array, (shortcut, direct, wrong))
    if room is not None:
        assert np.all(shortcut[:, 24:48].sum(axis=1) <= room)
    p = ttest_ind(shortcut, direct, equal_var=False).pvalue
    assert np.nanmin(p) > 1e-4, np.nanargmin(p)
    assert np.nanmin(ttest_ind(shortcut, wrong, equal_var=False).pvalue) < 1e-6


def test_kernels_cache_somewhere_writable(tmp_path):
    """Where numba can write neither next to the source nor in the user's cache (here: only
    its user-provided locator allowed, and no directory given), kernels still compile, cached in
    a temporary directory, instead of failing at import."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
        "TMPDIR": str(tmp_path),
    }
    env.pop("NUMBA_CACHE_DIR", None)
    code = (
        "import numba, numpy as np\n"
        "import sim.review_kernel\n"
        "from sim.kernels import mean_cells\n"
        "m = np.zeros(3, np.float32)\n"
        "assert mean_cells(m, np.float32(0), np.float32(20), m, False)[2].sum() == 3\n"
        "print(numba.config.CACHE_DIR)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(tmp_path / "distillsim-numba")
    assert any((tmp_path / "distillsim-numba").rglob("*.nbi"))


def test_a_reused_legitimate_population_is_the_one_a_fresh_draw_gives():
    """The last legitimate population drawn is reused for the same config and stream state
    (a world's undefended twin, then the world): the same arrays, the stream left where the
    draws leave it, read-only; a different stream or config draws anew."""
    from conftest import small_cfg

    import sim.legit as legit_mod

    cfg = small_cfg()

    def build(seed: int, c=cfg):
        rng = np.random.default_rng(seed)
        pop = legit_mod.LegitPopulation(c.legit, c.world, rng)
        return pop, rng.random()

    legit_mod._LAST = None
    fresh, after_fresh = build(5)
    reused, after_reused = build(5)
    assert reused.rate is fresh.rate  # reused, not redrawn
    assert after_reused == after_fresh  # the stream continues as after a fresh draw
    legit_mod._LAST = None
    redrawn, after_redrawn = build(5)
    assert redrawn.rate is not fresh.rate and after_redrawn == after_fresh
    for name in legit_mod._FIXED:
        a, b = getattr(fresh, name), getattr(redrawn, name)
        assert np.array_equal(a, b), name
    with pytest.raises(ValueError):
        fresh.rate[0] = 1.0  # shared between worlds: read-only
    other, _ = build(6)
    assert not np.array_equal(other.rate, fresh.rate)
    tiers = dict(cfg.legit.tiers)
    name = next(iter(tiers))
    tiers[name] = dataclasses.replace(tiers[name], sigma=tiers[name].sigma * 1.5)
    changed = dataclasses.replace(cfg, legit=dataclasses.replace(cfg.legit, tiers=tiers))
    legit_mod._LAST = None
    build(5)
    moved, _ = build(5, changed)
    assert not np.array_equal(moved.rate, fresh.rate)


def test_replayed_normals_are_the_draws_a_direct_call_gives():
    """``standard_normal_f32`` replays a recent draw when the stream is where it was: the same
    numbers as ``standard_normal(n, dtype=float32)``, and the stream continues the same."""
    from sim import rng as rng_mod

    def fresh(seed: int):
        return np.random.Generator(np.random.PCG64(seed))

    direct = fresh(3)
    want = direct.standard_normal(1000, dtype=np.float32)
    want_next = direct.random(4)
    first = rng_mod.standard_normal_f32(fresh(3), 1000)
    g = fresh(3)
    again = rng_mod.standard_normal_f32(g, 1000)
    assert again is first and np.array_equal(again, want)  # replayed, and the same numbers
    assert np.array_equal(g.random(4), want_next)
    assert not again.flags.writeable
    # A stream elsewhere, or another size, draws anew.
    g = fresh(3)
    g.random()
    assert rng_mod.standard_normal_f32(g, 1000) is not first
    assert rng_mod.standard_normal_f32(fresh(3), 999) is not first
    # Only a few recent draws are kept.
    for s in range(rng_mod._REPLAYS_KEPT + 1):
        rng_mod.standard_normal_f32(fresh(100 + s), 10)
    assert len(rng_mod._REPLAYS) <= rng_mod._REPLAYS_KEPT
    assert rng_mod.standard_normal_f32(fresh(3), 1000) is not first
