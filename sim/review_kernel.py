"""The review queue and the commonest review decisions as compiled (numba) loops.

:class:`sim.review.CompiledReviewQueue` keeps the queue in arrays and calls these kernels; they
do what :class:`sim.review.ReviewQueue` and :meth:`sim.defender.Defender.decide` do, step for
step: the same heaps (CPython's ``heapq`` sifts, so equal and NaN scores order alike), the same
random numbers in the same order (from :class:`sim.rng.DrawBuffer` s of the same streams), the
same float expressions. An attacker account or pool confirmed and banned, its cluster searched
and swept, a cleared account or pool, a legitimate account cleared or wrongly banned, and load
are decided here; a decision the kernel does not make (one whose action is not a ban) is handed
back with its verdict draw (a ``BAIL_*`` code) and the kernel resumes after
it. ``tests/test_review.py`` compares whole runs with the Python queue and per-case SimPy events.
"""

from __future__ import annotations

import math

import numpy as np

from sim.kernels import njit

#: Case kinds: one attacker account, an attacker pool, one legitimate account, load only.
ATTACKER, POOL, LEGIT, LOAD = 0, 1, 2, 3
#: Integer state (``qi``) slots: the queue's counters, a pending decision, the ledger buffer's
#: rows, positions in the draw buffers, the sweeps made, draws a sweep may need.
(
    N_CASES,
    HEAD,
    W_SIZE,
    R_SIZE,
    STARTS,
    IDLE_HEAD,
    IDLE_LEN,
    BY_SCORE,
    PEND_A,
    BAIL_K,
    LED_N,
    ZQ,
    UV,
    ZL,
    US,
    SWEEPS,
    NEED_ZQ,
    NEED_UV,
    NEED_ZL,
    NEED_US,
) = range(20)
N_QI = 20
#: Float state (``qf``) slots: the queue's parameters, the decisions' parameters, running values.
(
    MED,
    SIG,
    SCALE,
    P_CONFIRM,
    P_FALSE,
    COOLDOWN,
    ENF_MED,
    ENF_SIG,
    P_FOUND,
    HORIZON,
    RESELLER_USD,
    RATE,
    LEARN,
    BAN,
    PEND_NOW,
    U,
    FIRST_DET,
    RESELLER_HIT,
    SWEEP_H,
    SWEEP_SHARE,
    MARGIN,
    LIVE_RATE,
    FALSE_ACTIONS,
    FALSE_BANS,
) = range(24)
N_QF = 24
#: Ledger rows the kernel books: reseller collateral, and a wrong ban's three rows.
COLLATERAL, FALSE_POSITIVES, SUPPORT, USER_FALSE_ACTIONS = range(4)
#: What :func:`advance` returns: done, the ledger buffer is full, a draw buffer is empty, or a
#: decision for Python.
DONE, FLUSH, DRAWS, BAIL_ATTACKER, BAIL_LEGIT_FALSE = range(5)


# ---------------------------------------------------------------- heaps (CPython heapq's sifts)
@njit(inline="always")
def _wlt(x, y, neg):  # pragma: no cover - compiled
    """``(neg[x], x) < (neg[y], y)`` as Python compares tuples (NaN equals nothing)."""
    a, b = neg[x], neg[y]
    if a == b:
        return x < y
    return a < b


@njit
def _w_siftdown(h, start, pos, neg):  # pragma: no cover - compiled
    new = h[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if _wlt(new, h[parent], neg):
            h[pos] = h[parent]
            pos = parent
            continue
        break
    h[pos] = new


@njit
def _w_pop(h, qi, neg):  # pragma: no cover - compiled
    n = qi[W_SIZE] - 1
    qi[W_SIZE] = n
    last = h[n]
    if n == 0:
        return last
    top = h[0]
    h[0] = last
    pos, child = 0, 1
    while child < n:
        right = child + 1
        if right < n and not _wlt(h[child], h[right], neg):
            child = right
        h[pos] = h[child]
        pos = child
        child = 2 * pos + 1
    h[pos] = last
    _w_siftdown(h, 0, pos, neg)
    return top


@njit(inline="always")
def _rlt(i, j, rd, ro):  # pragma: no cover - compiled
    return rd[i] < rd[j] or (rd[i] == rd[j] and ro[i] < ro[j])


@njit
def _r_swap(i, j, rd, ro, ra, rc):  # pragma: no cover - compiled
    rd[i], rd[j] = rd[j], rd[i]
    ro[i], ro[j] = ro[j], ro[i]
    ra[i], ra[j] = ra[j], ra[i]
    rc[i], rc[j] = rc[j], rc[i]


@njit
def _r_push(done, a, k, qi, rd, ro, ra, rc):  # pragma: no cover - compiled
    pos = qi[R_SIZE]
    qi[R_SIZE] = pos + 1
    qi[STARTS] += 1
    rd[pos], ro[pos], ra[pos], rc[pos] = done, qi[STARTS], a, k
    while pos > 0:
        parent = (pos - 1) >> 1
        if _rlt(pos, parent, rd, ro):
            _r_swap(pos, parent, rd, ro, ra, rc)
            pos = parent
        else:
            break


@njit
def _r_pop(qi, rd, ro, ra, rc):  # pragma: no cover - compiled
    """Remove the earliest finishing review (keys are unique: any correct heap pops alike)."""
    n = qi[R_SIZE] - 1
    qi[R_SIZE] = n
    _r_swap(0, n, rd, ro, ra, rc)
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and _rlt(child + 1, child, rd, ro):
            child += 1
        if _rlt(child, pos, rd, ro):
            _r_swap(child, pos, rd, ro, ra, rc)
            pos = child
        else:
            break
    return rd[n], ra[n], rc[n]


# ---------------------------------------------------------------- the queue
@njit
def _waiting(qi):  # pragma: no cover - compiled
    return qi[W_SIZE] if qi[BY_SCORE] else qi[N_CASES] - qi[HEAD]


@njit
def _next_case(qi, wh, neg):  # pragma: no cover - compiled
    if qi[BY_SCORE]:
        return _w_pop(wh, qi, neg)
    k = qi[HEAD]
    qi[HEAD] = k + 1
    return k


@njit(inline="always")
def _draw(buf, qi, slot):  # pragma: no cover - compiled
    v = buf[qi[slot]]
    qi[slot] += 1
    return v


@njit
def _start(a, k, now, qi, qf, busy, c_n, c_start, rd, ro, ra, rc, zq):  # pragma: no cover
    busy[a] = 1
    c_start[k] = now
    minutes = qf[MED] * math.exp(qf[SIG] * _draw(zq, qi, ZQ))
    hours = minutes / 60.0 * c_n[k] ** qf[SCALE]
    _r_push(now + hours, a, k, qi, rd, ro, ra, rc)


@njit
def _make_idle(a, qi, in_idle, idle):  # pragma: no cover - compiled
    if not in_idle[a]:
        in_idle[a] = 1
        idle[(qi[IDLE_HEAD] + qi[IDLE_LEN]) % idle.size] = a
        qi[IDLE_LEN] += 1


@njit
def _dispatch(now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq):  # pragma: no cover
    on, busy, in_idle, idle = an[0], an[1], an[2], an[3]
    while qi[IDLE_LEN] > 0 and _waiting(qi) > 0:
        a = idle[qi[IDLE_HEAD]]
        qi[IDLE_HEAD] = (qi[IDLE_HEAD] + 1) % idle.size
        qi[IDLE_LEN] -= 1
        in_idle[a] = 0
        if not on[a]:
            continue  # went off shift while idle
        _start(a, _next_case(qi, wh, neg), now, qi, qf, busy, c_n, c_start, rd, ro, ra, rc, zq)


@njit
def _after_review(
    a, now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq
):  # pragma: no cover
    """What an analyst does once a review has ended and been decided (``ReviewQueue._finish``):
    at most one review starts."""
    on, busy, in_idle, idle = an[0], an[1], an[2], an[3]
    if on[a] and _waiting(qi) > 0:
        k = _next_case(qi, wh, neg)
        _start(a, k, now, qi, qf, busy, c_n, c_start, rd, ro, ra, rc, zq)
        return
    busy[a] = 0
    if on[a]:
        _make_idle(a, qi, in_idle, idle)
        _dispatch(now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq)


@njit
def arrive(lo, hi, now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq):  # pragma: no cover
    """Cases ``lo..hi-1`` (already in the table) join the queue at ``now``; idle analysts start
    (``zq`` must hold a service draw for each analyst)."""
    for k in range(lo, hi):
        if qi[BY_SCORE]:
            pos = qi[W_SIZE]
            wh[pos] = k
            qi[W_SIZE] = pos + 1
            _w_siftdown(wh, 0, pos, neg)
    qi[N_CASES] = hi
    _dispatch(now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq)


@njit
def shift_begins(
    crew, now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq
):  # pragma: no cover
    """The analysts ``crew`` come on shift and take waiting cases."""
    on, busy, in_idle, idle = an[0], an[1], an[2], an[3]
    for a in crew:
        on[a] = 1
        if not busy[a]:
            _make_idle(a, qi, in_idle, idle)
    _dispatch(now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq)


# ---------------------------------------------------------------- decisions and the clock
@njit
def _collateral_of(op, n, t, qi, qf, per_op, led_h, led_u):  # pragma: no cover - compiled
    """``Defender._collateral_of``: a ledger row into the buffer."""
    mix = per_op[4][op]
    if mix <= 0 or t >= qf[HORIZON]:
        return
    customers = n * per_op[3][op] * mix / qf[RATE]
    cost = customers * qf[RESELLER_USD]
    qf[RESELLER_HIT] += customers
    _book(COLLATERAL, t, cost, qi, led_h, led_u)


@njit
def _book(category, t, usd, qi, led_h, led_u):  # pragma: no cover - compiled
    """A ledger row into the buffer (``Ledger.book`` skips zero amounts): hour and category code
    in ``led_h``'s two rows, the amount in ``led_u``."""
    if usd != 0:
        i = qi[LED_N]
        led_h[0, i] = t
        led_h[1, i] = category
        led_u[i] = usd
        qi[LED_N] = i + 1


@njit
def _false_ban(
    j, t, qi, qf, legit_b, legit_f, legit_tier, tier_f, led_h, led_u
):  # pragma: no cover
    """``Defender._false_action`` of legitimate account ``j`` at ``t`` for a ban (with
    ``LegitPopulation.ban`` and ``_loss`` on one account: a sum over it is its value)."""
    banned, acted = legit_b[1], legit_b[2]
    banned_at, weight, rate, revenue = legit_f[1], legit_f[2], legit_f[3], legit_f[4]
    if not banned[j] and not acted[j]:
        qf[FALSE_ACTIONS] += weight[j]
        qf[FALSE_BANS] += weight[j]
    revenue_usd, support_usd = 0.0, 0.0
    if not banned[j]:
        banned[j] = True
        banned_at[j] = t
        w, r, k = weight[j], rate[j], legit_tier[j]
        qf[LIVE_RATE] -= w * r
        days_left = max(qf[HORIZON] - t, 0.0) / 24.0
        stay = 1.0 * r * days_left * revenue[j]
        leave = tier_f[0][k] * r
        p = tier_f[1][k]
        revenue_usd = w * (p * leave + (1.0 - p) * stay)
        support_usd = w * tier_f[2][k]
    _book(FALSE_POSITIVES, t, qf[MARGIN] * revenue_usd, qi, led_h, led_u)
    _book(SUPPORT, t, support_usd, qi, led_h, led_u)
    _book(USER_FALSE_ACTIONS, t, revenue_usd, qi, led_h, led_u)


@njit
def _sweep(
    cl, now, qi, qf, acc_b, acc_f, acc_i, cl_b, index, per_op, led_h, led_u, us
):  # pragma: no cover
    """``Defender.cluster_found`` for bans: attribute the cluster, sweep its live accounts."""
    cl_b[0][cl] = True  # found
    cl_b[1][cl] = True  # linked
    by_cluster, start = index[0], index[1]
    attributed, ended_at, end_kind, banned_by, acc_op = (
        acc_b[2],
        acc_f[1],
        acc_i[0],
        acc_i[1],
        acc_i[2],
    )
    lo, hi = start[cl], start[cl + 1]
    for i in range(lo, hi):
        attributed[by_cluster[i]] = True
    t = now + qf[SWEEP_H]
    n_ops = per_op[4].size
    counts = np.zeros(n_ops, np.int64)
    hits = 0
    for i in range(lo, hi):
        j = by_cluster[i]
        # alive at t, and hit (the draw is made for live accounts only, in member order)
        if ended_at[j] > t and _draw(us, qi, US) < qf[SWEEP_SHARE]:
            # Fleet.end(hit, t, END_BANNED, BY_SWEEP): every hit is alive at t
            ended_at[j] = t
            end_kind[j] = 1
            banned_by[j] = -1
            counts[acc_op[j]] += 1
            hits += 1
    if hits == 0:
        return
    qi[SWEEPS] += 1
    if t >= qf[HORIZON]:
        return
    for k in range(n_ops):
        if counts[k]:
            _collateral_of(k, counts[k], t, qi, qf, per_op, led_h, led_u)


@njit
def _enforce_pool(
    members, t, by, op, qi, qf, acc_b, acc_f, acc_i, per_op, led_h, led_u
):  # pragma: no cover
    """``Defender.enforce(members, t, by, confirmed=True, decisions=1)`` for a ban, with numpy's
    semantics (each mask is taken before anything is set)."""
    confirmed, attributed, ended_at, acc_op = acc_b[1], acc_b[2], acc_f[1], acc_i[2]
    n_ops = per_op[4].size
    new = np.zeros(n_ops, np.int64)
    is_new = np.empty(members.size, np.bool_)
    for i in range(members.size):
        is_new[i] = not confirmed[members[i]]
    for i in range(members.size):
        j = members[i]
        if is_new[i]:
            confirmed[j] = True
            new[acc_op[j]] += 1
        attributed[j] = True
    for q in range(n_ops):
        per_op[0][q] += new[q]  # confirmed_by_op += bincount(op[new])
    per_op[1][op] += 1  # one decision
    # Fleet.end(members, t, END_BANNED, by), then the collateral of those it ended
    ended = np.zeros(n_ops, np.int64)
    later = np.empty(members.size, np.bool_)
    for i in range(members.size):
        later[i] = ended_at[members[i]] > t
    n_ended = 0
    for i in range(members.size):
        if later[i]:
            j = members[i]
            ended_at[j] = t
            acc_i[0][j] = 1
            acc_i[1][j] = by
            ended[acc_op[j]] += 1
            n_ended += 1
    if n_ended == 0 or t >= qf[HORIZON]:
        return
    for q in range(n_ops):
        if ended[q]:
            _collateral_of(q, ended[q], t, qi, qf, per_op, led_h, led_u)


@njit
def _decide(
    k,
    now,
    qi,
    qf,
    cases_i,
    acc_b,
    acc_f,
    acc_i,
    legit_b,
    legit_f,
    legit_tier,
    tier_f,
    cl_b,
    cl_known,
    index,
    pools,
    per_op,
    led_h,
    led_u,
    uv,
    zl,
    us,
):  # pragma: no cover
    """``Defender.decide`` of case ``k`` at ``now``: 0 if decided, else a ``BAIL_*`` code."""
    kind = cases_i[0, k]
    if kind == LOAD:
        return DONE
    j = cases_i[1, k]
    if kind == LEGIT:
        legit_b[0][j] = False  # in_review
        if _draw(uv, qi, UV) < qf[P_FALSE]:
            if not qf[BAN]:
                return BAIL_LEGIT_FALSE
            _false_ban(j, now, qi, qf, legit_b, legit_f, legit_tier, tier_f, led_h, led_u)
            return DONE
        legit_f[0][j] = now + qf[COOLDOWN]
        return DONE
    u = _draw(uv, qi, UV)
    if u < qf[P_CONFIRM] and not qf[BAN]:
        qf[U] = u
        return BAIL_ATTACKER
    members = pools[0][pools[1][j] : pools[1][j + 1]] if kind == POOL else pools[0][:0]
    if kind == POOL:
        for i in range(members.size):
            acc_b[0][members[i]] = False  # in_review
    else:
        acc_b[0][j] = False
    if u >= qf[P_CONFIRM]:
        if kind == POOL:
            for i in range(members.size):
                acc_f[0][members[i]] = now + qf[COOLDOWN]  # cooldown_until
        else:
            acc_f[0][j] = now + qf[COOLDOWN]
        return DONE
    op, cl, by = cases_i[2, k], cases_i[3, k], cases_i[4, k]
    # Latency.enforcement_hour
    if qf[ENF_MED] <= 0.0:
        delay = 0.0
    elif qf[ENF_SIG] <= 0.0:
        delay = qf[ENF_MED]
    else:
        delay = qf[ENF_MED] * math.exp(qf[ENF_SIG] * _draw(zl, qi, ZL))
    t = now + delay
    if kind == POOL:
        _enforce_pool(members, t, by, op, qi, qf, acc_b, acc_f, acc_i, per_op, led_h, led_u)
    else:  # Defender._enforce_one (a ban)
        if not acc_b[1][j]:
            acc_b[1][j] = True  # confirmed
            per_op[0][op] += 1  # confirmed_by_op
        acc_b[2][j] = True  # attributed
        per_op[1][op] += 1  # decisions_by_op
        if acc_f[1][j] > t:  # ended_at
            acc_f[1][j] = t
            acc_i[0][j] = 1  # end_kind: END_BANNED
            acc_i[1][j] = by  # banned_by
            _collateral_of(op, 1, t, qi, qf, per_op, led_h, led_u)
    qf[FIRST_DET] = min(qf[FIRST_DET], now)
    if qf[LEARN]:  # Learning.learn
        cl_known[cl] = min(cl_known[cl], now)
        per_op[2][op] = max(per_op[2][op], now)  # templates_at
    # Defender.investigate
    if cl_b[0][cl]:
        return DONE
    if _draw(us, qi, US) >= qf[P_FOUND]:
        return DONE
    _sweep(cl, now, qi, qf, acc_b, acc_f, acc_i, cl_b, index, per_op, led_h, led_u, us)
    return DONE


@njit
def advance(
    until,
    qi,
    qf,
    an,
    wh,
    neg,
    c_n,
    c_start,
    c_done,
    rd,
    ro,
    ra,
    rc,
    cases_i,
    acc_b,
    acc_f,
    acc_i,
    legit_b,
    legit_f,
    legit_tier,
    tier_f,
    cl_b,
    cl_known,
    index,
    pools,
    per_op,
    led_h,
    led_u,
    zq,
    uv,
    zl,
    us,
):  # pragma: no cover
    """End and decide, in time order, the reviews that finish before ``until`` (each analyst
    going straight on to the next case). Returns ``DONE``, ``FLUSH`` (ledger rows to book),
    ``DRAWS`` (a draw buffer to refill) or a ``BAIL_*`` code for case ``qi[BAIL_K]``; called
    again, it resumes."""
    a = qi[PEND_A]
    if a >= 0:
        if qi[ZQ] >= zq.size:
            qi[NEED_ZQ], qi[NEED_UV], qi[NEED_ZL], qi[NEED_US] = 1, 0, 0, 0
            return DRAWS
        qi[PEND_A] = -1
        _after_review(a, qf[PEND_NOW], qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq)
    while qi[R_SIZE] > 0 and rd[0] < until:
        if qi[LED_N] + per_op[4].size + 3 > led_u.size:
            return FLUSH
        # The next decision draws at most one verdict, one delay, one cluster search and a
        # sweep of that cluster; the analyst then starts at most one review.
        k = rc[0]
        kind = cases_i[0, k]
        qi[NEED_ZQ] = 1
        qi[NEED_UV] = kind != LOAD
        qi[NEED_ZL] = kind <= POOL  # ATTACKER or POOL
        if kind <= POOL:
            cl = cases_i[3, k]
            qi[NEED_US] = 1 + index[1][cl + 1] - index[1][cl]
        else:
            qi[NEED_US] = 0
        if (
            qi[ZQ] + 1 > zq.size
            or qi[UV] + qi[NEED_UV] > uv.size
            or qi[ZL] + qi[NEED_ZL] > zl.size
            or qi[US] + qi[NEED_US] > us.size
        ):
            return DRAWS
        now, a, k = _r_pop(qi, rd, ro, ra, rc)
        c_done[k] = now
        code = _decide(
            k,
            now,
            qi,
            qf,
            cases_i,
            acc_b,
            acc_f,
            acc_i,
            legit_b,
            legit_f,
            legit_tier,
            tier_f,
            cl_b,
            cl_known,
            index,
            pools,
            per_op,
            led_h,
            led_u,
            uv,
            zl,
            us,
        )
        if code != DONE:
            qi[PEND_A] = a
            qf[PEND_NOW] = now
            qi[BAIL_K] = k
            return code
        _after_review(a, now, qi, qf, an, wh, neg, c_n, c_start, rd, ro, ra, rc, zq)
    return DONE


def empty_state(n_analysts: int, by_score: bool) -> tuple[np.ndarray, np.ndarray]:
    """Fresh integer and float state vectors."""
    qi = np.zeros(N_QI, np.int64)
    qi[BY_SCORE] = int(by_score)
    qi[PEND_A] = -1
    return qi, np.zeros(N_QF)
