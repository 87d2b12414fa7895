"""Displacement: how each operator splits its demand across providers and moves it (MODEL §12).

An operator's share of its demand at provider p is

    s_p ∝ q_p^θ · c_p^(−ε),   q_p = Σ_d mix_d · gmax_p,d,   c_p = fee_p + h_p · price_p / cadence_p

q_p is the teacher's answer quality in the operator's targets (its reachable gap there), c_p what
one harvested exchange costs it there: the fee, plus the accounts it loses per account-day (h_p,
the losses it noticed there over its accounts' active days there, updated every window) at the
price it last paid, spread over the exchanges an account harvests a day. A new split is decided
at each window's end from what the operator has seen so far and takes effect ``lag_hours``
later, at the first window start at or after that hour (MiniMax moved about half its traffic to
a new model within ~24 h [S]), if some share moves by at least ``switch_share``; θ, ε and the
switch share are estimates [E]. Demand that falls at a provider is shed there (the latest
accounts abandoned); demand that rises is bought there by the operator's usual top-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.attackers.base import Operator
from sim.parameters import DisplacementConfig, OperatorConfig, TeacherConfig


def split(quality: np.ndarray, cost: np.ndarray, theta: float, eps: float) -> np.ndarray:
    """Shares over providers, s_p ∝ q_p^θ · c_p^(−ε) (no share where the teacher has nothing
    the operator targets; equal shares if no teacher has)."""
    q = np.asarray(quality, dtype=float)
    c = np.maximum(np.asarray(cost, dtype=float), 1e-12)
    w = np.where(q > 0, q**theta * c ** (-eps), 0.0)
    total = w.sum()
    return w / total if total > 0 else np.full(q.size, 1.0 / q.size)


def target_quality(mix: np.ndarray, gmax: np.ndarray) -> float:
    """q_p = Σ_d mix_d · gmax_p,d: the teacher's reachable gap in the operator's targets."""
    return float(np.dot(mix, gmax))


def fee_per_exchange(op: OperatorConfig, teacher: TeacherConfig) -> float:
    """The operator's cash per harvested exchange at a teacher's list prices, as
    :attr:`sim.attackers.base.Operator.fee_per_exchange` computes it (tested equal)."""
    price = (
        op.tokens_in * teacher.price_in_usd_per_mtok
        + op.tokens_out * teacher.price_out_usd_per_mtok
    ) / 1e6
    mix = op.mixing_cost_per_exchange_usd if op.traffic_mixing > 0 else 0.0
    return price * op.price_factor + mix


@dataclass
class Observed:
    """What an operator's branch at one provider last showed it."""

    #: Losses it noticed there so far, and its accounts' active days there so far.
    losses: float = 0.0
    exposure_days: float = 0.0
    #: Mean price of the accounts it last bought there.
    price_usd: float = 0.0

    @property
    def hazard_per_day(self) -> float:
        """Losses per account-day over everything seen (0 before any exposure): the constant
        hazard that best explains it. Pooling every window, not the last alone, keeps a window
        without a noticed ban (detection latency, a quiet day) from reading as a safe provider."""
        return self.losses / self.exposure_days if self.exposure_days > 0 else 0.0

    def update(self, op: Operator, t0: float, t1: float) -> None:
        """Add the window ``[t0, t1)``: losses noticed, the accounts' active days, and the price
        of the accounts bought (a window without purchases keeps the last price)."""
        acc = op.model.fleet.accounts
        rows = op.mine()
        if rows.size == 0:
            return
        a = np.maximum(acc.active_at[rows], t0)
        b = np.minimum(acc.ended_at[rows], t1)
        self.exposure_days += float(np.clip(b - a, 0.0, None).sum()) / 24.0
        self.losses += op.noticed_losses(t0, t1).size
        req = acc.requested_at[rows]
        bought = rows[(req >= t0) & (req < t1)]
        if bought.size:
            self.price_usd = float(acc.price_usd[bought].mean())

    def cost(self, op: Operator) -> float:
        """c_p: fee plus lost accounts per harvested exchange at the last price paid."""
        cadence = max(op.harvest_cadence, 1e-12)
        return op.fee_per_exchange + self.hazard_per_day * self.price_usd / cadence


@dataclass
class Displacement:
    """The split of every operator's demand across providers, and the traffic it moved.

    ``branches[k][p]`` is operator k's agent at provider p. Shares are per operator and provider;
    ``history[w]`` the shares in force during window w.
    """

    params: DisplacementConfig
    branches: list[list[Operator]]
    shares: np.ndarray  # operators x providers, the split in force
    quality: np.ndarray  # operators x providers, q_p
    observed: list[list[Observed]] = field(default_factory=list)
    pending: list[list[tuple[float, np.ndarray]]] = field(default_factory=list)
    history: list[np.ndarray] = field(default_factory=list)
    #: Exchanges a day of demand moved to and from each provider, summed over every change.
    moved_in_per_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    moved_out_per_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Accounts abandoned at each provider because demand left it.
    shed_accounts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def __post_init__(self) -> None:
        n_ops, n_prov = self.shares.shape
        self.observed = [
            [Observed(price_usd=float(op.cfg.account_base_price_usd)) for op in row]
            for row in self.branches
        ]
        self.pending = [[] for _ in range(n_ops)]
        self.moved_in_per_day = np.zeros(n_prov)
        self.moved_out_per_day = np.zeros(n_prov)
        self.shed_accounts = np.zeros(n_prov, dtype=int)

    def apply_due(self, t: float) -> None:
        """Put in force, at window start ``t``, each operator's latest split decided at least
        ``lag_hours`` before; shed what left a provider."""
        for k, row in enumerate(self.branches):
            due = [s for when, s in self.pending[k] if when <= t + 1e-9]
            if not due:
                continue
            self.pending[k] = [(w, s) for w, s in self.pending[k] if w > t + 1e-9]
            new, old = due[-1], self.shares[k]
            for p, op in enumerate(row):
                if old[p] <= 0:
                    continue  # a teacher with nothing the operator targets never gains share
                before = op.demand
                op.demand = float(before * new[p] / old[p])
                moved = op.demand - before
                self.moved_in_per_day[p] += max(moved, 0.0)
                self.moved_out_per_day[p] += max(-moved, 0.0)
            self.shares[k] = new
            for p, op in enumerate(row):
                self.shed_accounts[p] += op.shed(t)
        self.history.append(self.shares.copy())

    def decide(self, t0: float, t1: float) -> None:
        """At the end of window ``[t0, t1)``: each operator's new split from what it showed, in
        force ``lag_hours`` later."""
        th, eps = self.params.quality_exponent, self.params.cost_exponent
        for k, row in enumerate(self.branches):
            if all(op.stopped_at <= t1 for op in row):
                continue
            cost = np.empty(len(row))
            for p, op in enumerate(row):
                self.observed[k][p].update(op, t0, t1)
                cost[p] = self.observed[k][p].cost(op)
            s = split(self.quality[k], cost, th, eps)
            last = self.pending[k][-1][1] if self.pending[k] else self.shares[k]
            # Moving traffic costs accounts (shed at one provider, bought at another): an
            # operator moves only for a change of at least switch_share somewhere.
            if np.abs(s - last).max() >= self.params.switch_share:
                self.pending[k].append((t1 + self.params.lag_hours, s))

    def demand_shares(self) -> np.ndarray:
        """Operators x providers: each branch's share of the operator's demand now."""
        d = np.array([[op.demand for op in row] for row in self.branches], dtype=float)
        tot = d.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(tot > 0, d / tot, 0.0)
