"""Harvesting: what the attacker fleet sends and gets back in one window, per account and per hour.

Exact in distribution, vectorised (MODEL §11): an account live over ``[a, b)`` at a flat rate λ
sends ``Poisson(λ·(b − a))`` exchanges, each at a uniform time in ``[a, b)``. Accounts live the
whole window with no change of state inside it are pooled per (operator, quality class): the sum of
their counts is split over the window's hours by one multinomial, which has the same distribution
as splitting each account's count. An account whose state changes inside the window (set-up done,
ban, throttle, degradation) has its live interval cut into pieces that each lie in one hour and
one state; Poisson counts on disjoint pieces are independent, so a ``Poisson(λ·length)`` per
piece is the same in distribution as uniform times for ``Poisson(λ·(b − a))`` exchanges, with
one draw per piece instead of one per exchange (``tests/test_maths.py`` checks it against the
per-exchange method). Each exchange's target domain is an independent draw from the operator's
targeting weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.fleet import ACT_DEGRADE, ACT_THROTTLE, Fleet


@dataclass
class OperatorWindow:
    """Per-operator inputs for one window."""

    cadence_per_day: float
    end_hour: float  # the operator harvests nothing at or after this hour
    quality: float  # base quality of one exchange
    mix: np.ndarray  # targeting weights over domains
    staleness: np.ndarray  # (W,) multiplier on effective exchanges per hour (teacher releases)
    accept_share: float = 1.0  # share of requests a rate limit lets through


@dataclass
class WindowHarvest:
    """What happened in one window: per live account and per operator-hour."""

    idx: np.ndarray  # live accounts (fleet indices)
    live_hours: np.ndarray  # hours each was live in the window
    expected: np.ndarray  # expected exchanges sent (λ·live hours): what detectors see
    sent: np.ndarray
    harvested: np.ndarray
    sent_h: np.ndarray  # (ops, W)
    harvested_h: np.ndarray  # (ops, W)
    effective_hd: np.ndarray  # (ops, W, domains)
    start: np.ndarray | None = None  # when each live account's live part of the window begins
    stop: np.ndarray | None = None  # ... and ends
    rate: np.ndarray | None = None  # its operator's own exchanges an hour (λ)


def live_accounts(fleet: Fleet, t0: float, t1: float, ops: list[OperatorWindow]) -> WindowHarvest:
    """The accounts live in ``[t0, t1)`` as the fleet stands, with no traffic drawn: what a scan
    at a sub-window time sees (detectors look at live intervals and expected volumes only)."""
    op_end = np.array([o.end_hour for o in ops])
    idx, a, b = live_intervals(fleet, t0, t1, op_end)
    lam = np.array([o.cadence_per_day for o in ops])[fleet.accounts.op[idx].astype(np.intp)]
    lam = lam / 24.0
    empty = np.zeros((len(ops), 0))
    return WindowHarvest(
        idx=idx,
        live_hours=b - a,
        expected=lam * (b - a),
        sent=np.zeros(idx.size),
        harvested=np.zeros(idx.size),
        sent_h=empty,
        harvested_h=empty,
        effective_hd=empty[..., None],
        start=a,
        stop=b,
        rate=lam,
    )


def live_intervals(fleet: Fleet, t0: float, t1: float, op_end: np.ndarray):
    """Accounts live in ``[t0, t1)`` and the sub-interval ``[a, b)`` each is live."""
    acc = fleet.accounts
    active, ended, op = acc.view("active_at"), acc.view("ended_at"), acc.view("op")
    cand = fleet.ended_after(t0)
    cand = cand[active[cand] < t1]
    a = np.maximum(active[cand], t0)
    b = np.minimum(np.minimum(ended[cand], t1), op_end[op[cand]])
    live = b > a
    return cand[live], a[live], b[live]


def expected_harvest(
    fleet: Fleet, t0: float, t1: float, ops: list[OperatorWindow], throttle_factor: float
) -> np.ndarray:
    """Expected harvested (paid) exchanges per operator in the window at the given ends."""
    op_end = np.array([o.end_hour for o in ops])
    idx, a, b = live_intervals(fleet, t0, t1, op_end)
    acc = fleet.accounts
    op = acc.op[idx].astype(np.intp)
    lam = np.array([o.cadence_per_day for o in ops])[op] / 24.0
    act = np.where(acc.action[idx] == ACT_THROTTLE, acc.action_at[idx], np.inf)
    before = np.clip(np.minimum(b, act) - a, 0.0, None)
    after = np.clip(b - np.maximum(a, act), 0.0, None)
    accept = np.array([o.accept_share for o in ops])[op]
    paid = lam * accept * (before + throttle_factor * after)
    return np.bincount(op, weights=paid, minlength=len(ops))


def harvest_window(
    fleet: Fleet,
    t0: float,
    t1: float,
    ops: list[OperatorWindow],
    *,
    throttle_factor: float,
    degrade_quality: float,
    poison_quality: float,
    n_domains: int,
    rng: np.random.Generator,
    fee_room: np.ndarray | None = None,
    fee_per_exchange: np.ndarray | None = None,
) -> WindowHarvest:
    """Draw one window's exchanges.

    ``fee_room[k]``/``fee_per_exchange[k]``: if operator k's harvested exchanges would cost more
    than the money it has left, it keeps only as many as it can pay for, so its spending never
    exceeds its budget.
    """
    W = int(round(t1 - t0))
    n_ops = len(ops)
    op_end = np.array([o.end_hour for o in ops])
    idx, a, b = live_intervals(fleet, t0, t1, op_end)
    acc = fleet.accounts
    op = acc.op[idx].astype(np.intp)
    cadence = np.array([o.cadence_per_day for o in ops])
    lam = cadence[op] / 24.0
    live_hours = b - a
    expected = lam * live_hours

    action = acc.action[idx]
    act_at = acc.action_at[idx]
    throttled = action == ACT_THROTTLE
    partial = (a > t0) | (b < t1) | ((act_at > t0) & (act_at < t1))
    # An account live all window in one state was acted on before the window or not at all.
    acted_before = act_at <= t0
    sent = np.zeros(idx.size, dtype=np.int64)
    f_idx = np.flatnonzero(~partial)
    sent[f_idx] = rng.poisson(expected[f_idx])

    harvested = sent.copy()
    full_thr = throttled & ~partial & acted_before
    if full_thr.any():
        harvested[full_thr] = rng.binomial(sent[full_thr], throttle_factor)
    # Rate limits refuse a share of every request, independently of when it is sent.
    accept = np.array([o.accept_share for o in ops])
    limited = (accept < 1.0)[op] & ~partial
    if limited.any():
        harvested[limited] = rng.binomial(harvested[limited], accept[op[limited]])

    sent_h = np.zeros((n_ops, W))
    harv_h = np.zeros((n_ops, W))
    eff_hd = np.zeros((n_ops, W, n_domains))
    poisoned = acc.poisoned[idx]
    degraded = action == ACT_DEGRADE
    qual = np.array([o.quality for o in ops])

    # --- accounts whose state changes inside the window: independent Poisson counts on the
    # pieces of the live interval that lie in one hour and one state
    p_idx = np.flatnonzero(partial)
    pc = _pieces(a[p_idx], b[p_idx], act_at[p_idx], t0) if p_idx.size else None
    if pc is not None:
        owner, hour, after, length = pc
        n_sent = rng.poisson(lam[p_idx][owner] * length)
        per_acc = np.bincount(owner, weights=n_sent, minlength=p_idx.size)
        sent[p_idx] = per_acc
        n_kept = n_sent.copy()
        # Thinning only where a piece keeps less than all: rate-limited operators, or pieces
        # after a throttle (none of either: every piece keeps everything).
        p_acc = accept[op[p_idx]]
        p_thr = throttled[p_idx]
        if (p_acc < 1.0).any() or p_thr.any():
            p_keep = p_acc[owner] * np.where(after & p_thr[owner], throttle_factor, 1.0)
            thin = np.flatnonzero(p_keep < 1.0)
            if thin.size:
                n_kept[thin] = rng.binomial(n_sent[thin], p_keep[thin])
                per_acc = np.bincount(owner, weights=n_kept, minlength=p_idx.size)
        harvested[p_idx] = per_acc
    # --- budget: an operator that cannot pay for every exchange keeps exactly as many as it can
    # afford, chosen uniformly among its exchanges (multivariate hypergeometric over accounts).
    if fee_room is not None and fee_per_exchange is not None and idx.size:
        per_op = np.bincount(op, weights=harvested, minlength=n_ops)
        with np.errstate(divide="ignore"):
            affordable = np.floor(
                np.where(
                    fee_per_exchange > 0, fee_room / np.maximum(fee_per_exchange, 1e-300), np.inf
                )
                + 1e-9
            )
        over = np.flatnonzero(per_op > affordable)
        for j in over:
            rows = np.flatnonzero(op == j)
            harvested[rows] = rng.multivariate_hypergeometric(
                harvested[rows], int(max(affordable[j], 0)), method="marginals"
            )
        if over.size and pc is not None:
            # keep partial accounts' pieces consistent with their new totals
            n_kept = _thin_to_totals(owner, n_kept, harvested[p_idx], rng)
    if pc is not None:
        o = op[p_idx][owner]
        sent_h += np.bincount(o * W + hour, weights=n_sent, minlength=n_ops * W).reshape(n_ops, W)
        # Kept exchanges by (operator, quality class, hour); each one's domain is an independent
        # draw from the targeting weights, so the domain split is one multinomial per cell.
        cls = (o * 4 + poisoned[p_idx][owner].astype(np.intp) * 2) * W + hour
        p_deg = degraded[p_idx]
        if p_deg.any():
            cls += (p_deg[owner] & after) * W
        counts = np.bincount(cls, weights=n_kept, minlength=n_ops * 4 * W)
        counts = counts.astype(np.int64).reshape(n_ops, 4, W)
        harv_h += counts.sum(axis=1)
        for j, c in zip(*np.nonzero(counts.sum(axis=2)), strict=True):
            q = qual[j] * (poison_quality if c // 2 else 1.0) * (degrade_quality if c % 2 else 1.0)
            eff_hd[j] += q * rng.multinomial(counts[j, c], ops[j].mix)

    # --- accounts live all window in one state: pooled multinomial over hours
    if f_idx.size:
        cls = (
            op[f_idx] * 4
            + poisoned[f_idx].astype(np.intp) * 2
            + (degraded[f_idx] & acted_before[f_idx]).astype(np.intp)
        )
        s_tot = np.bincount(cls, weights=sent[f_idx], minlength=n_ops * 4)
        h_tot = np.bincount(cls, weights=harvested[f_idx], minlength=n_ops * 4)
        even = np.full(W, 1.0 / W)
        for c in np.flatnonzero(s_tot):
            j, pois, deg = c // 4, (c // 2) % 2, c % 2
            nh = int(h_tot[c])
            refused = int(s_tot[c]) - nh
            if refused:
                # Refusals (throttling) fall at times independent of the answered exchanges.
                sent_h[j] += rng.multinomial(refused, even)
            if nh:
                hh = rng.multinomial(nh, even)
                sent_h[j] += hh
                harv_h[j] += hh
                q = qual[j] * (poison_quality if pois else 1.0) * (degrade_quality if deg else 1.0)
                eff_hd[j] += q * rng.multinomial(hh, ops[j].mix)
    for j, o in enumerate(ops):
        eff_hd[j] *= o.staleness[:, None]
    return WindowHarvest(
        idx=idx,
        live_hours=live_hours,
        expected=expected,
        sent=sent.astype(float),
        harvested=harvested.astype(float),
        sent_h=sent_h,
        harvested_h=harv_h,
        effective_hd=eff_hd,
        start=a,
        stop=b,
        rate=lam,
    )


def _pieces(a: np.ndarray, b: np.ndarray, act: np.ndarray, t0: float):
    """Cut each live interval ``[a_i, b_i)`` at the window's hours and at its action time.

    Returns per piece: its account (position in ``a``), its hour in the window, whether it lies
    after the action, and its length in hours.
    """
    h_lo = np.floor(a - t0).astype(np.int64)
    n_pc = np.maximum(np.ceil(b - t0).astype(np.int64) - h_lo, 1)
    owner = np.repeat(np.arange(a.size), n_pc)
    first = np.cumsum(n_pc) - n_pc
    # hour = h_lo[owner] + (position − first[owner]), with one repeat instead of two gathers
    hour = np.arange(owner.size) - np.repeat(first - h_lo, n_pc)
    start = t0 + hour
    lo = np.maximum(a[owner], start)
    hi = np.minimum(b[owner], start + 1.0)
    if not (act < np.inf).any():
        # No action time in these intervals (the common case): no cut, no piece after one.
        return owner, hour, np.zeros(owner.size, dtype=bool), np.clip(hi - lo, 0.0, None)
    at = act[owner]
    cut = np.flatnonzero((at > lo) & (at < hi))
    if cut.size:
        owner = np.concatenate([owner, owner[cut]])
        hour = np.concatenate([hour, hour[cut]])
        lo = np.concatenate([lo, at[cut]])
        hi = np.concatenate([hi, hi[cut]])
        hi[cut] = at[cut]
        at = np.concatenate([at, at[cut]])
    return owner, hour, lo >= at, np.clip(hi - lo, 0.0, None)


def _thin_to_totals(owner, kept, totals, rng) -> np.ndarray:
    """Keep, per account, a uniformly chosen ``totals[i]`` of its kept exchanges (``kept`` per
    piece, pieces owned by ``owner``): a multivariate hypergeometric over each one's pieces."""
    rows = np.repeat(np.arange(kept.size), kept.astype(np.int64))  # exchange -> its piece
    rows = rows[rng.permutation(rows.size)]
    own = owner[rows]
    order = np.argsort(own, kind="stable")
    rows, own = rows[order], own[order]
    first = np.searchsorted(own, own, side="left")
    rank = np.arange(rows.size) - first
    return np.bincount(rows[rank < totals[own]], minlength=kept.size)
