"""Score thresholds: a target false-positive rate, or cost-sensitive Bayes (MODEL §4).

Scores of a typical legitimate account are N(0, 1) and those of an attacker account N(μ_a, 1) with
``μ_a = d′·g`` (the persistent and fresh terms have unit variance together). The Bayes threshold
flags when P(attacker | s) > C_FP / (C_FP + C_FN) (Elkan 2001), which for two unit-variance
Gaussians is ``s > ln(c(1−π)/((1−c)π)) / μ_a + μ_a / 2``. Nothing in it is a free parameter:
:func:`bayes_terms` derives the prior π, both costs and μ_a from the model's own quantities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from sim.parameters import ThresholdConfig

if TYPE_CHECKING:
    from sim.detectors.base import Detector
    from sim.model import DistillationModel


@dataclass(frozen=True)
class BayesTerms:
    """What a cost-sensitive threshold weighs, for one detector."""

    #: Base rate of attacker accounts among the accounts scored.
    prior: float
    #: Cost of flagging a legitimate account: a review, and the chance of a false ban.
    cost_false_positive_usd: float
    #: What not flagging an attacker account forgoes: the net value of catching it (the leak and
    #: serving loss a confirmation averts, less the review).
    cost_false_negative_usd: float
    #: The attacker accounts' mean signal g (μ_a = d′·g).
    attacker_signal: float


def threshold(
    cfg: ThresholdConfig,
    dprime: float,
    benign_means: np.ndarray | None = None,
    benign_weights: np.ndarray | None = None,
    bayes: BayesTerms | None = None,
    period_hours: float = 24.0,
) -> float:
    """Score threshold τ: a target FPR a day of scanning, or cost-sensitive Bayes.

    A detector that scores every ``period_hours`` targets ``period_hours / 24`` of the daily
    FPR per scan.

    ``fpr`` on ``typical`` (default): τ = Φ⁻¹(1 − FPR) for a typical account (μ = 0; MODEL §4),
    so legitimate look-alikes (power users) are flagged more as the detector sharpens.
    ``fpr`` on ``population``: τ is calibrated on the benign population's signal means μ_i and
    test weights, as a detector calibrated on benign traffic is (Liu/Guo/Dong 2026): the weighted
    mean of P(s > τ) = 1 − Φ(τ − μ_i) over tested benign accounts equals the target.
    ``bayes``: the cut above with ``bayes``'s terms; with μ_a = 0 nothing is flagged (and
    without terms, before the model has derived them, nothing either).
    """
    if cfg.method == "fpr":
        fpr = min(cfg.target_fpr_per_day * (period_hours / 24.0), 1.0 - 1e-12)
        if (
            cfg.calibrate_on == "typical"
            or benign_means is None
            or benign_means.size == 0
            or dprime <= 0
        ):
            return float(ndtri(1.0 - fpr))
        return calibrated_threshold(benign_means, benign_weights, fpr)
    if bayes is None:
        return math.inf
    return bayes_threshold(dprime * bayes.attacker_signal, bayes)


def bayes_threshold(mu_attacker: float, terms: BayesTerms) -> float:
    """s > ln(c(1−π)/((1−c)π)) / μ_a + μ_a/2 with c = C_FP / (C_FP + C_FN)."""
    if mu_attacker <= 0:
        return math.inf
    c_fp, c_fn = terms.cost_false_positive_usd, terms.cost_false_negative_usd
    if c_fn <= 0:
        return math.inf  # missing an attacker costs nothing: never worth a review
    c = c_fp / (c_fp + c_fn)
    pi = terms.prior
    return math.log(c * (1 - pi) / ((1 - c) * pi)) / mu_attacker + mu_attacker / 2.0


def calibrated_threshold(means: np.ndarray, weights: np.ndarray | None, fpr: float) -> float:
    """τ with weighted mean of 1 − Φ(τ − μ_i) equal to ``fpr``.

    The means are binned into 4,096 bins (bin width ≪ 0.01 score units) so the root search costs
    O(bins) per evaluation instead of O(accounts).
    """
    w = np.ones_like(means) if weights is None else weights
    if w.sum() <= 0:
        return float(ndtri(1.0 - fpr))
    lo, hi = float(means.min()), float(means.max())
    if hi - lo < 1e-12:
        return lo + float(ndtri(1.0 - fpr))
    hist, edges = np.histogram(means, bins=4096, range=(lo, hi), weights=w)
    mid = 0.5 * (edges[:-1] + edges[1:])
    keep = hist > 0
    mid, hist = mid[keep], hist[keep] / hist.sum()

    def excess(tau: float) -> float:
        return float((hist * ndtr(mid - tau)).sum()) - fpr

    a, b = lo + float(ndtri(1.0 - fpr)) - 1.0, hi + float(ndtri(1.0 - fpr)) + 1.0
    return float(brentq(excess, a, b, xtol=1e-6))


def bayes_terms(model: DistillationModel, det: Detector) -> BayesTerms:
    """The prior, costs and attacker signal of a Bayes threshold, from the model's quantities.

    The defender plans on the operators' campaigns as configured (their planned fleets and
    behaviour: what its labelled attacker traffic shows), its own review, enforcement and
    false-ban costs, and the value it puts on leaked capability
    (``defender.value_usd_per_capability_point``):

    - prior π = planned attacker accounts / (those + legitimate accounts);
    - C_FP = one review (analyst $/h × mean review hours) + P(false confirmation) × the mean
      false-ban cost of a legitimate account (lost margin and support, MODEL §7);
    - C_FN = P(confirm) × the loss a confirmation averts − one review. A banned account is
      replaced once the operator notices and a new one is set up, so a ban averts the harvest of
      that gap (notice + mean set-up hours), and the cluster sweep it may trigger averts the same
      for ``p_found × sweep_share × (k − 1)`` more accounts; each averted exchange is worth the
      defender's value of capability per effective exchange (the mean marginal value over the
      planned campaign, G(N)/N) × its quality, plus the loss of serving it. The evidence a
      confirmation adds towards attribution is left out: C_FN is a lower bound where sanctions
      are in force;
    - g = the detector's signal of each operator's planned account, weighted by planned fleet.
    """
    cfg = model.cfg
    ops = [op for op in model.operator_list if op.planned_fleet > 0]
    fleets = np.array([op.planned_fleet for op in ops], dtype=float)
    legit = model.legit
    n_attack = float(fleets.sum())
    prior = n_attack / (n_attack + legit.accounts_total) if n_attack > 0 else 1e-9
    prior = min(max(prior, 1e-9), 1 - 1e-9)
    rv = cfg.review
    review = rv.analyst_usd_per_hour * (
        rv.review_minutes_median * math.exp(rv.review_minutes_sigma**2 / 2) / 60.0
    )
    c_fp = review + rv.false_confirm_legit_prob * legit.mean_false_ban_cost(model.margin)
    lat = cfg.latency
    gap_days = (
        lat.operator_notice_hours + lat.setup_hours_median * math.exp(lat.setup_hours_sigma**2 / 2)
    ) / 24.0
    per_point = cfg.defender.value_usd_per_capability_point
    swept = model.defender.p_cluster_found * cfg.enforcement.sweep_share
    averted = g = 0.0
    if ops:
        w = fleets / fleets.sum()
        for wk, op in zip(w, ops, strict=True):
            value = per_point * 100.0 * op.planned_capability_per_effective_exchange()
            per_account = (
                gap_days * op.harvest_cadence * (op.quality * value + op.serving_loss_per_exchange)
            )
            averted += wk * per_account * (1.0 + swept * max(op.cluster_size - 1, 0))
            g += wk * float(det.planned_attacker_signal(op))
    c_fn = rv.confirm_attacker_prob * averted - review
    return BayesTerms(prior, c_fp, max(c_fn, 0.0), g)
