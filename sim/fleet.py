"""Attacker accounts and clusters as growable numpy columns (no object per account).

Lifecycle (MODEL §2): requested -> set-up -> active -> (flagged -> in review) -> banned, cleared,
throttled or degraded; a throttled or degraded account is retired once its operator notices; an
operator that stops abandons its accounts. Times are hours; ``inf``
means "not (yet)".
"""

from __future__ import annotations

import numpy as np

#: Why an account ended: banned, abandoned when its campaign stopped, retired by its operator once
#: it noticed the account was throttled or degraded, or blocked at sign-up by screening.
END_NONE, END_BANNED, END_ABANDONED, END_RETIRED, END_SCREENED = 0, 1, 2, 3, 4
#: Enforcement actions other than a ban.
ACT_NONE, ACT_THROTTLE, ACT_DEGRADE = 0, 1, 2
#: ``banned_by`` codes below 0 (detectors use their index >= 0).
BY_SWEEP, BY_BLACKLIST, BY_SCREEN, BY_NONE = -1, -2, -3, -9


class Columns:
    """A table of equally long numpy columns that grows by doubling."""

    def __init__(self, spec: dict[str, tuple[np.dtype, object, tuple[int, ...]]], cap: int = 1024):
        self._spec = spec
        self.n = 0
        self._cap = cap
        for name, (dtype, fill, extra) in spec.items():
            setattr(self, name, np.full((cap, *extra), fill, dtype=dtype))

    def _grow(self, need: int) -> None:
        cap = self._cap
        while cap < need:
            cap *= 2
        for name, (dtype, fill, extra) in self._spec.items():
            old = getattr(self, name)
            new = np.full((cap, *extra), fill, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def append(self, k: int, **values) -> slice:
        """Add ``k`` rows; columns not given keep their fill value. Returns the new rows' slice."""
        if self.n + k > self._cap:
            self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        for name, v in values.items():
            getattr(self, name)[sl] = v
        self.n += k
        return sl

    def view(self, name: str) -> np.ndarray:
        """The filled part of a column."""
        return getattr(self, name)[: self.n]


class Fleet:
    """All attacker accounts of all operators, and the clusters they belong to."""

    def __init__(self, n_detectors: int) -> None:
        f64, f32, i8, i16, i32, b = (np.float64, np.float32, np.int8, np.int16, np.int32, bool)
        inf = np.inf
        self.accounts = Columns(
            {
                "op": (i16, 0, ()),
                "cluster": (i32, 0, ()),
                "requested_at": (f64, inf, ()),
                "active_at": (f64, inf, ()),
                "ended_at": (f64, inf, ()),
                "end_kind": (i8, END_NONE, ()),
                "banned_by": (i16, BY_NONE, ()),
                "action": (i8, ACT_NONE, ()),
                "action_at": (f64, inf, ()),
                "u": (f32, 0.0, (max(n_detectors, 1),)),
                "u_select": (f32, 0.0, ()),
                "intel_u": (f32, 1.0, ()),
                "notice_u": (f32, 1.0, ()),
                "in_review": (b, False, ()),
                "cooldown_until": (f64, 0.0, ()),
                "confirmed": (b, False, ()),
                "attributed": (b, False, ()),
                "poisoned": (b, False, ()),
                "first_flag_at": (f64, inf, ()),
                "expected_cum": (f64, 0.0, ()),
                "sent": (f64, 0.0, ()),
                "harvested": (f64, 0.0, ()),
                "price_usd": (f64, 0.0, ()),
                "attempts": (i16, 1, ()),
                #: Market supplier (index in ``suppliers``; −1: the operator's own accounts).
                "supplier": (i16, -1, ()),
                #: Age at delivery (aged or hijacked accounts), days.
                "age0_days": (f32, 0.0, ()),
            },
            cap=4096,
        )
        self.clusters = Columns(
            {
                "op": (i16, 0, ()),
                "target_size": (i32, 1, ()),
                "assigned": (i32, 0, ()),
                "linked": (b, False, ()),
                "found": (b, False, ()),
                "burned": (b, False, ()),
                #: Hour its infrastructure is ready; hour the defender learned its indicators.
                "ready_at": (f64, 0.0, ()),
                "known_at": (f64, inf, ()),
                "u": (f32, 0.0, (max(n_detectors, 1),)),
            },
            cap=256,
        )
        self._index_n = -1
        self._op_rows_n = -1
        self._op_rows: dict[int, np.ndarray] = {}
        # Accounts not ended by hour _open_t (and every account added after _open_n).
        self._open = np.zeros(0, np.int64)
        self._open_t = -np.inf
        self._open_n = 0

    @property
    def n(self) -> int:
        return self.accounts.n

    def open_indices(self, t: float) -> np.ndarray:
        """Accounts that have not ended before hour ``t`` (set-up ones included)."""
        return np.flatnonzero(self.accounts.view("ended_at") > t)

    def ended_after(self, t: float) -> np.ndarray:
        """:meth:`open_indices` (the same sorted indices), from a list of the accounts open at
        an earlier hour kept up to date instead of a pass over the whole fleet.

        Exact because an account's end only ever moves earlier (``end``, the review's
        decisions and sweeps all set it only if later): one ended by an hour stays ended by
        every later hour. A query before the list's hour scans the fleet.
        """
        if t < self._open_t:
            return self.open_indices(t)
        ended = self.accounts.view("ended_at")
        n = self.n
        if n > self._open_n:
            self._open = np.concatenate([self._open, np.arange(self._open_n, n)])
            self._open_n = n
        keep = ended[self._open] > t
        if t > self._open_t:
            self._open = self._open[keep]
            self._open_t = t
            return self._open
        return self._open[keep]

    def cluster_members(self, cluster: int) -> np.ndarray:
        """Fleet indices of a cluster's accounts (index rebuilt only when accounts were added)."""
        by_cluster, start = self.cluster_index()
        return by_cluster[start[cluster] : start[cluster + 1]]

    def cluster_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Fleet indices ordered by cluster, and where each cluster's start in that order (the
        last entry: the end); rebuilt only when accounts were added."""
        if self._index_n != self.n:
            cl = self.accounts.view("cluster")
            self._by_cluster = np.argsort(cl, kind="stable")
            self._cluster_start = np.searchsorted(
                cl[self._by_cluster], np.arange(self.clusters.n + 1)
            )
            self._index_n = self.n
        return self._by_cluster, self._cluster_start

    def operator_rows(self, op: int) -> np.ndarray:
        """Fleet indices of an operator's accounts (cached until accounts are added)."""
        if self._op_rows_n != self.n:
            self._op_rows = {}
            self._op_rows_n = self.n
        rows = self._op_rows.get(op)
        if rows is None:
            rows = self._op_rows[op] = np.flatnonzero(self.accounts.view("op") == op)
        return rows

    def end(
        self, idx: np.ndarray, t: float | np.ndarray, kind: int, by: int | np.ndarray
    ) -> np.ndarray:
        """End accounts ``idx`` at ``t`` unless they end earlier; returns those actually changed."""
        a = self.accounts
        later = a.ended_at[idx] > t
        idx = idx[later]
        a.ended_at[idx] = t if np.ndim(t) == 0 else np.asarray(t)[later]
        a.end_kind[idx] = kind
        a.banned_by[idx] = by if np.ndim(by) == 0 else np.asarray(by)[later]
        return idx

    def act(self, idx: np.ndarray, t: float | np.ndarray, action: int, by: int) -> np.ndarray:
        """Throttle or degrade ``idx`` from ``t`` (if not already acted on or ended)."""
        a = self.accounts
        t = np.broadcast_to(np.asarray(t, dtype=float), idx.shape)
        ok = (a.action[idx] == ACT_NONE) & (a.ended_at[idx] > t)
        idx, t = idx[ok], t[ok]
        a.action[idx] = action
        a.action_at[idx] = t
        a.banned_by[idx] = by
        return idx
