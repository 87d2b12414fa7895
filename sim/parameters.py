"""Parameters: the structured schema every configuration is validated against.

Each dataclass is one concern and maps onto one Hydra config group under ``configs/``. Field
metadata carries the allowed range (``ge``, ``gt``, ``le``, ``lt``) or the allowed values
(``choices``); :mod:`sim.validation` reads it to produce one readable message per bad key.

Detectors, policies and attacker strategies are pluggable: their parameters are declared by the
class that implements them (``Params`` on the class, see :mod:`sim.registry`), so adding one is one
class plus one config file. Units: hours, US dollars, dollars per day (``*_usd_per_day``).
Defaults marked [E] are estimates (CALIBRATION.md); scenario files cite their figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def P(default: Any = None, *, ge=None, gt=None, le=None, lt=None, choices=None, factory=None):
    """A dataclass field with its allowed range or values recorded as metadata."""
    meta = {
        k: v for k, v in dict(ge=ge, gt=gt, le=le, lt=lt, choices=choices).items() if v is not None
    }
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def share(default: float) -> Any:
    """A probability or share: a float in [0, 1]."""
    return P(default, ge=0.0, le=1.0)


# --------------------------------------------------------------------------- world and time
@dataclass
class WorldConfig:
    """Horizon, window length and the legitimate-population thinning used by fast tests."""

    days: int = P(45, gt=0, le=3650)
    #: Decision window: detectors score at multiples of it, operators decide once a window.
    window_hours: int = P(24, choices=[1, 2, 3, 4, 6, 8, 12, 24])
    start_date: str = "2026-04-22"
    #: Share of legitimate accounts simulated; each stands for 1/share accounts (tests only).
    legit_sample_share: float = P(1.0, gt=0.0, le=1.0)
    #: Legitimate traffic follows 1 + A·cos(2π(h − peak)/24); attacker traffic is flat (MODEL §1).
    diurnal_amplitude: float = share(0.35)
    diurnal_peak_hour: float = P(15.0, ge=0.0, lt=24.0)


@dataclass
class TeacherConfig:
    """The defended model: list prices, margin on API traffic and release schedule."""

    name: str = "claude-opus-4.6"
    price_in_usd_per_mtok: float = P(5.0, ge=0.0)
    price_out_usd_per_mtok: float = P(25.0, ge=0.0)
    #: Gross margin of the defender on served API traffic [E].
    gross_margin: float = share(0.6)
    #: Hours at which a new teacher release appears (scheduled events).
    releases_hours: list[float] = P(factory=list)
    #: Multiplier on effective exchanges harvested from a release once a newer one exists [E].
    staleness_factor: float = share(0.5)
    #: Open-weights counterfactual (MODEL §8): the teacher's lead over the best open model, as a
    #: share of the full lead; it scales every operator's value of capability (0: nothing to gain).
    lead_over_open_models: float = share(1.0)
    #: The teacher's lead over the best open-weight model, in months (null: not configured). The
    #: tables report months of that lead erased = lead_months x capability extracted (a unit
    #: readers feel; CALIBRATION §8: open-weight models trail the frontier by ~3-4 months [S]).
    lead_months: float | None = P(None, ge=0.0)
    #: Months of lead the best open-weight model gains on this teacher per month (MODEL §8,
    #: sim.frontier): 0 keeps the lead fixed (every shipped scenario); 1 is a constant lag behind
    #: a frontier that moves, so a teacher with no new release is caught up in ``lead_months``.
    #: A release restores the lead to ``lead_months``. Needs ``lead_months``.
    open_catch_up_months_per_month: float = P(0.0, ge=0.0, le=12.0)


# --------------------------------------------------------------------------- capability
@dataclass
class DomainConfig:
    """One capability domain's curve G = Gmax·(1 − (1 + N/N0)^(−a)), with N0 from N_half."""

    value_weight: float = P(1.0, ge=0.0)
    gmax: float = share(0.7)
    n_half: float = P(5.0e5, gt=0.0)
    exponent: float = P(0.7, ge=0.01, le=5.0)


@dataclass
class CapabilityConfig:
    """Capability extraction: domains, spill-over and exchange quality factors (MODEL §6)."""

    domains: dict[str, DomainConfig] = P(factory=dict)
    #: Share of the other domains' (traffic-weighted) gain that spills into a domain [E].
    spillover: float = share(0.1)
    #: Quality of an answer-only exchange relative to one with a visible reasoning trace [E].
    answer_only_quality: float = share(0.3)
    #: Quality lost per unit of obfuscation [E].
    obfuscation_quality_penalty: float = share(0.5)
    #: Value of a near-duplicate exchange relative to a fresh one [E].
    duplicate_quality: float = share(0.4)


# --------------------------------------------------------------------------- legitimate users
@dataclass
class TierConfig:
    """A legitimate customer tier: size, usage distribution, revenue and churn."""

    accounts: int = P(0, ge=0)
    #: Lognormal per-account mean usage: median and shape.
    median_exchanges_per_day: float = P(5.0, gt=0.0, le=1e5)
    sigma: float = P(1.0, ge=0.0, le=4.0)
    revenue_per_exchange_usd: float = P(0.05, ge=0.0)
    lifetime_months: float = P(24.0, ge=0.0)
    monthly_discount_rate: float = P(0.01, ge=0.0, lt=1.0)
    churn_on_false_ban: float = share(0.5)
    support_cost_usd: float = P(50.0, ge=0.0)
    #: New sign-ups per day (they meet identity checks, and KYC friction loses some).
    signups_per_day: float = P(0.0, ge=0.0)
    #: How much the tier's traffic looks like distillation to the content classifier (g in [0,1]).
    content_lookalike: float = share(0.0)
    #: How much the tier's accounts look linked (shared corporate infrastructure) (g in [0,1]).
    linkage_lookalike: float = share(0.0)


@dataclass
class LegitConfig:
    """Legitimate user population as tiers (MODEL §3)."""

    tiers: dict[str, TierConfig] = P(factory=dict)


# --------------------------------------------------------------------------- attackers
@dataclass
class OperatorConfig:
    """One attacker operator's campaign facts (MODEL §2). Its behaviour comes from ``attacker``."""

    label: str = ""
    start_hour: float = P(0.0, ge=0.0)
    #: Planned end of the campaign (hours); null runs to the horizon.
    end_hour: float | None = P(None, gt=0.0)
    budget_usd: float = P(5.0e6, ge=0.0)
    #: What the capability is worth to the operator (avoided training, lead time) [E].
    value_usd: float = P(1.0e8, ge=0.0)
    #: Exchanges per day the operator wants (fitted in calibrated scenarios).
    demand_per_day: float = P(5.0e5, ge=0.0, le=1e10)
    #: Per-account cadence the operator believes the volume detector tolerates (evasion policy):
    #: the account's total traffic, reseller customers' mixed-in exchanges included.
    tolerated_cadence_per_day: float = P(30.0, ge=0.01, le=1e6)
    #: Targeting weights over capability domains (must sum to 1).
    targets: dict[str, float] = P(factory=dict)
    #: Share of exchanges that elicit a visible reasoning trace.
    cot_share: float = share(0.8)
    obfuscation: float = share(0.1)
    duplication_share: float = share(0.1)
    #: Share of an account's traffic that is reseller customers' own (traffic mixing): the
    #: operator's own harvest per account is (1 − traffic_mixing) × its cadence.
    traffic_mixing: float = P(0.0, ge=0.0, lt=1.0)
    #: [E] What serving a reseller customer's exchange costs the operator (no published figure).
    mixing_cost_per_exchange_usd: float = P(0.002, ge=0.0)
    tokens_in: float = P(8000.0, gt=0.0)
    tokens_out: float = P(2000.0, gt=0.0)
    #: Price paid per exchange = list price × price_factor (resellers, farmed credits).
    price_factor: float = P(0.3, gt=0.0, le=1.0)
    #: Share of the operator's API fees that reaches the defender as real money; the rest goes to
    #: resellers whose access cost the defender nothing (farmed credits, stolen cards).
    paid_to_defender_share: float = share(0.5)
    account_base_price_usd: float = P(20.0, ge=0.0)
    #: Cap on accounts the operator can bring up per day.
    creation_per_day: float = P(5000.0, gt=0.0)
    cluster_size: int = P(50, ge=1, le=1_000_000)
    #: Infrastructure cost per account-day for a lone account; falls as k^(−exponent) with k.
    infra_usd_per_account_day: float = P(0.5, ge=0.0)
    #: [E] 0.5: shared proxies and devices, a square-root economy of scale (no published figure).
    infra_scale_exponent: float = P(0.5, ge=0.0, le=1.0)
    #: Scales Gmax of every domain: the student's base capacity (Gudibande; capacity gap).
    gmax_scale: float = P(1.0, ge=0.0, le=2.0)
    #: Share of traffic moved to a new teacher release, and how fast (MiniMax: ~half in ~24 h).
    retarget_share: float = share(0.0)
    #: Hours before that share moves [S] (MiniMax: ~24 h after a release, Anthropic Feb 2026).
    retarget_lag_hours: float = P(24.0, ge=0.0)
    #: Probability the operator notices that an account's outputs are degraded (it sees a
    #: throttle at once: requests fail) [E].
    degraded_notice_prob: float = share(0.5)
    #: A fresh cluster after a ban burned the last one: new proxies, payment instruments and
    #: devices cost this much and take this long before its accounts can serve [E] (clusters
    #: opened when the campaign starts were prepared in advance).
    cluster_setup_usd: float = P(0.0, ge=0.0)
    cluster_setup_hours: float = P(0.0, ge=0.0)
    #: Share of the accounts that would open a fresh cluster placed on burned infrastructure
    #: instead: free and at once, but on infrastructure the defender knows [E].
    reuse_burned_share: float = share(0.0)
    #: Who runs the campaign: campaigns of one actor share what earlier ones left (deterrence,
    #: sim.deterrence, MODEL §8); empty: the operator's own name (no other campaign of it).
    actor: str = ""


# --------------------------------------------------------------------------- detection
@dataclass
class ThresholdConfig:
    """How every detector sets its threshold (MODEL §4).

    ``bayes`` derives its prior, its costs and the attacker's mean score from the model itself
    (:func:`sim.thresholds.bayes_terms`): nothing to set here.
    """

    method: str = P("fpr", choices=["fpr", "bayes", "capacity"])
    #: τ = Φ⁻¹(1 − FPR) for a typical legitimate account (``typical``, MODEL §4), or τ such that
    #: the whole benign population's mean FPR is the target (``population``: benign-calibrated).
    #: Per 24 h of scanning: a detector that scores every c hours targets c/24 of it per scan, so
    #: a faster cadence does not multiply the false flags a day.
    target_fpr_per_day: float = P(1e-4, gt=0.0, lt=1.0)
    calibrate_on: str = P("typical", choices=["typical", "population"])
    #: ``capacity``: each running detector flags, on average over the benign population, this
    #: share of its part of the analysts' case throughput per scan (MODEL §4) [E].
    capacity_utilisation: float = P(0.8, gt=0.0, le=1.0)


@dataclass
class DetectionConfig:
    """The defender's detection budget B and how it is split (MODEL §4)."""

    #: At most $100M/day (25x the largest budget the ready sweeps try): far beyond any lab's
    #: trust-and-safety spend, and what keeps the review team (one SimPy crew per shift) in memory.
    budget_usd_per_day: float = P(30000.0, ge=0.0, le=1e8)
    #: Allocation of B over the detectors in ``detectors`` and ``review``; must sum to 1.
    shares: dict[str, float] = P(factory=dict)
    #: Weight of the persistent per-account score term (0 = independent windows).
    rho: float = share(0.5)
    threshold: ThresholdConfig = P(factory=ThresholdConfig)
    #: A detector buys quality until its d′ is within this of its ceiling d∞; what its share
    #: leaves beyond that is reported unspent [E] (0.01 d′ is below what a validation can tell).
    dprime_tolerance: float = P(0.01, gt=0.0, le=1.0)


@dataclass
class MarketConfig:
    """The account market (MODEL §2): off, each operator buys at its own flat price."""

    #: Buy from the suppliers under ``suppliers`` (prices rise with purchases and burns).
    enabled: bool = False


@dataclass
class LearningConfig:
    """What the defender learns from confirmed accounts (MODEL §4, :mod:`sim.learning`) [E]."""

    enabled: bool = False
    #: Score boost (d′ units) of accounts on a confirmed account's infrastructure, fresh.
    cluster_boost: float = P(1.0, ge=0.0, le=10.0)
    #: Share of an operator's later accounts matching its learned templates, fresh, and their
    #: score boost.
    template_match_share: float = share(0.3)
    template_boost: float = P(1.0, ge=0.0, le=10.0)
    #: Indicators lose their power as exp(−age / decay_hours).
    decay_hours: float = P(336.0, gt=0.0)
    #: Probability sign-up screening blocks a new account matching fresh indicators.
    screening_prob: float = share(0.5)
    #: Account age as a signal: every account's scores get age_boost × exp(−age / age_scale_days)
    #: (d′ units), legitimate ones too (their ages uniform over their tier's lifetime: the steady
    #: state). 0: not used (its strength is unsourced).
    age_boost: float = P(0.0, ge=0.0, le=10.0)
    age_scale_days: float = P(14.0, gt=0.0)


@dataclass
class DefenderConfig:
    """What the defender puts on the capability it leaks (MODEL §7)."""

    #: Value to the defender of one capability point (0.01 of the teacher-student gap) leaked to
    #: one student [E]: the Alibaba operator's $300M for the whole gap gives $3M a point.
    value_usd_per_capability_point: float = P(3.0e6, ge=0.0)


@dataclass
class AnalysisConfig:
    """How a run's headline figures are defined (MODEL §10)."""

    #: Headline capability of a world with several operators: ``max`` (the operator whose student
    #: gained most, per run), ``total`` (capability summed over operators) or an operator's name.
    headline: str = "max"
    #: Absolute capability levels (share of the gap) whose time to reach is reported.
    capability_levels: list[float] = P(factory=lambda: [0.1, 0.2, 0.3])
    #: Run a twin with B = 0 (same seed) to report times and delays relative to the undefended
    #: capability; sweeps pair with their own B = 0 points instead when the grid has them.
    undefended_reference: bool = True


@dataclass
class ReviewConfig:
    """Human review: a finite team of analysts working shifts (SimPy resource)."""

    analyst_usd_per_hour: float = P(70.0, gt=0.0)
    shift_hours: float = P(8.0, gt=0.0, le=24.0)
    shifts_per_day: int = P(3, ge=1, le=3)
    review_minutes_median: float = P(20.0, gt=0.0)
    review_minutes_sigma: float = P(0.4, ge=0.0, le=3.0)
    #: A pooled case of n accounts takes n^scaling times one review.
    pooled_case_scaling: float = P(0.5, ge=0.0, le=1.0)
    confirm_attacker_prob: float = share(0.9)
    false_confirm_legit_prob: float = share(0.02)
    #: A cleared account is not re-flagged for this long.
    cooldown_hours: float = P(720.0, ge=0.0)
    #: fifo, or the highest score first.
    discipline: str = P("fifo", choices=["fifo", "score"])


@dataclass
class AttributionConfig:
    """Attribution of a campaign to its operator (MODEL §8)."""

    #: P(attribution from confirmations) = 1 − exp(−confirmed / confirmed_scale) [E].
    confirmed_scale: float = P(200.0, gt=0.0)


@dataclass
class EnforcementConfig:
    """What follows a confirmation: the action, cluster sweeps and attribution."""

    action: str = P("ban", choices=["ban", "throttle", "degrade"])
    #: Throttled accounts get this share of their requests answered.
    throttle_factor: float = share(0.2)
    #: Degraded accounts' outputs keep this share of their quality.
    degrade_quality: float = share(0.3)
    #: Link signals and the probability each exposes a confirmed account's cluster.
    sweep_signals: dict[str, float] = P(factory=dict)
    #: Share of a found cluster's live accounts that a sweep takes down (Thomas et al.: 95%).
    sweep_share: float = share(0.95)
    #: After the campaign, the investigation of an operator with a confirmed account links each of
    #: its clusters not yet found with this probability (accounts attributed, not banned) [E].
    retrospective_find_prob: float = share(0.9)
    #: A legitimate customer wrongly throttled or degraded churns with this share of the
    #: probability a wrongly banned one does (``churn_on_false_ban`` of its tier) [E].
    legit_churn_share_if_not_banned: float = share(0.25)
    #: Cost to the defender of cutting off one reseller customer when a mixed account is banned
    #: (support and reputation; they are the reseller's customers, not the defender's) [E].
    reseller_customer_usd: float = P(5.0, ge=0.0)
    attribution: AttributionConfig = P(factory=AttributionConfig)


@dataclass
class LatencyConfig:
    """Every latency in the model, in hours, in one place (ABIDES-style latency model)."""

    setup_hours_median: float = P(12.0, ge=0.0)
    setup_hours_sigma: float = P(0.8, ge=0.0, le=3.0)
    #: Processing latency from a window's end to its flags reaching review, by detector name or
    #: kind (the name wins; 0 h for a detector listed under neither).
    detector_hours: dict[str, float] = P(factory=dict)
    enforcement_hours_median: float = P(2.0, ge=0.0)
    enforcement_hours_sigma: float = P(0.5, ge=0.0, le=3.0)
    sweep_hours: float = P(24.0, ge=0.0)
    #: Time for an operator to notice a ban on one of its accounts.
    operator_notice_hours: float = P(6.0, ge=0.0)
    #: Lag before an adaptive operator's response takes effect.
    operator_reaction_hours: float = P(24.0, ge=0.0)


@dataclass
class OutputConfig:
    """Where and what a run writes."""

    results_dir: str = "results"
    plots: bool = True
    #: Progress bar on stderr: auto (only on a terminal), on, off.
    progress: str = P("auto", choices=["auto", "on", "off"])


# --------------------------------------------------------------------------- scenario metadata
@dataclass
class FittedParam:
    """A parameter the calibration fits: its config key and search bounds."""

    key: str = ""
    #: Other keys that always take the same value (a parameter shared by several operators).
    tied: list[str] = P(factory=list)
    bounds: list[float] = P(factory=list)
    note: str = ""


@dataclass
class Target:
    """A disclosed figure the calibration targets: a summary metric and its value."""

    metric: str = ""
    value: float = P(0.0, ge=0.0)
    tolerance: float = P(0.1, gt=0.0, lt=1.0)
    source: str = ""


@dataclass
class FitRecord:
    """When and how the shipped fitted values were obtained."""

    date: str = ""
    seeds: list[int] = P(factory=list)
    method: str = ""
    evaluations: int = 0
    max_abs_rel_error: float | None = None


@dataclass
class CalibrationSpec:
    """Fitted parameters and targets of a scenario (MODEL §9); no quantity on both lists."""

    fitted: list[FittedParam] = P(factory=list)
    targets: list[Target] = P(factory=list)
    fit: FitRecord = P(factory=FitRecord)


@dataclass
class ScenarioMeta:
    """Name, one-line description and sources of the scenario in use."""

    name: str = "custom"
    description: str = ""
    sources: list[str] = P(factory=list)
    estimates: list[str] = P(factory=list)
    calibration: CalibrationSpec = P(factory=CalibrationSpec)


@dataclass
class SweepMeta:
    """The ready sweep in use (``sweep=<name>``), for aggregation and labels."""

    name: str = ""
    description: str = ""
    #: What the aggregation reports: spend_curve, policy_compare, detector_mix (or custom); over
    #: worlds of several providers, sharing or displacement (sim/analysis/worlds.py).
    kind: str = P(
        "custom",
        choices=[
            "custom",
            "spend_curve",
            "policy_compare",
            "detector_mix",
            "sharing",
            "displacement",
        ],
    )


# --------------------------------------------------------------------------- studies
@dataclass
class FactorConfig:
    """One prior (configs/uncertainty/): a distribution over bounds, and the keys it drives."""

    #: Dotted config keys; ``*`` matches every entry of a mapping (operators.*.value_usd).
    keys: list[str] = P(factory=list)
    dist: str = P("uniform", choices=["uniform", "loguniform", "triangular"])
    bounds: list[float] = P(factory=list)
    #: Mode of a triangular prior (default: the middle of the bounds).
    peak: float | None = None
    #: set: the keys take the factor's value; scale: their scenario value is multiplied by it.
    apply: str = P("set", choices=["set", "scale"])
    #: Round the keys' values to whole numbers.
    integer: bool = False
    source: str = ""


@dataclass
class UncertaintyConfig:
    """The priors a study samples (``uncertainty=<name>``)."""

    name: str = ""
    #: Factor name -> its FactorConfig fields. Untyped here so that a factor can be added from
    #: the command line (+uncertainty.factors.x={keys:[...],bounds:[a,b]}); the fields are
    #: checked, naming the key, by sim.experiments.priors.parse.
    factors: dict[str, Any] = P(factory=dict)


@dataclass
class QuestionConfig:
    """A yes/no question asked of every sampled world (scenario discovery).

    ``output`` at (``budget``, ``option``) is compared with ``threshold`` by ``op``; with
    ``against_budget`` or ``against_option`` the compared quantity is the relative change
    (value - reference) / |reference| in the same world and replicate.
    """

    name: str = ""
    text: str = ""
    output: str = "capability_extracted"
    budget: float | None = None
    option: str | None = None
    against_budget: float | None = None
    against_option: str | None = None
    op: str = P("<=", choices=["<", "<=", ">", ">="])
    threshold: float = 0.0


@dataclass
class RobustConfig:
    """How a robust study ranks its options (robust decision making)."""

    #: The figure to rank by and whether lower (min) or higher (max) is better.
    output: str = "defender_cost_with_leak_usd"
    sense: str = P("min", choices=["min", "max"])
    #: Regret is summarised at this percentile over worlds (Herman et al. 2015 use the 90th).
    percentile: float = P(90.0, gt=0.0, le=100.0)
    #: Satisficing: a world is acceptable when the figure meets ``op threshold``.
    satisficing_op: str = P("<=", choices=["<", "<=", ">", ">="])
    satisficing_threshold: float | None = None


@dataclass
class StackelbergConfig:
    """``study=stackelberg``: the defender's choice against the best response (MODEL §2)."""

    budgets: list[float] = P(factory=lambda: [0.0, 10000.0, 100000.0, 1000000.0])
    mixes: list[str] = P(factory=lambda: ["balanced", "content_heavy", "review_heavy"])
    values: list[float] = P(factory=lambda: [3e5, 1e6, 3e6, 1e7])
    #: The choice is made on replicates 0..replicates-1, reported on the next report_replicates.
    replicates: int = P(2, ge=1)
    report_replicates: int = P(3, ge=1)
    full_check: bool = True


@dataclass
class StudyConfig:
    """A study (``distillsim study study=<name>``, configs/study/)."""

    kind: str = P(
        "morris", choices=["morris", "sobol", "curve", "discovery", "robust", "stackelberg"]
    )
    name: str = ""
    description: str = ""
    #: Unit-cube design of curve, discovery and robust (morris and sobol use their own).
    design: str = P("lhs", choices=["lhs", "sobol"])
    #: Morris: trajectories; Sobol: the base sample N (a power of two); lhs/sobol: worlds.
    samples: int = P(16, ge=2)
    levels: int = P(4, ge=2)
    second_order: bool = False
    #: Seed of the design (the worlds drawn); the runs' seeds are ``seed`` and the replicates.
    design_seed: int = P(0, ge=0)
    budgets: list[float] = P(factory=lambda: [0.0, 10000.0, 100000.0])
    replicates: int = P(1, ge=1)
    #: Replicates of the baseline world (the scenario's own values), for the seed-noise band.
    baseline_replicates: int = P(0, ge=0)
    #: The priors' factors to sample (all if empty).
    factors: list[str] = P(factory=list)
    outputs: list[str] = P(
        factory=lambda: [
            "capability_extracted",
            "delay_days_50pct_vs_undefended",
            "defender_total_cost_usd",
            "attacker_net_value_usd",
            "defender_cost_with_leak_usd",
        ]
    )
    #: Option name -> overrides composed once (policies, packages, mixes). Empty: the base.
    options: dict[str, list[str]] = P(factory=dict)
    questions: list[QuestionConfig] = P(factory=list)
    robust: RobustConfig = P(factory=RobustConfig)
    stackelberg: StackelbergConfig = P(factory=StackelbergConfig)
    bootstrap: int = P(1000, ge=10)
    confidence: float = P(0.95, gt=0.0, lt=1.0)
    backend: str = P("joblib", choices=["sequential", "joblib", "ray"])
    n_jobs: int = -1
    #: Sampled worlds per task (a task plays its worlds at every budget and replicate).
    batch: int = P(2, ge=1)
    #: Ray: the cluster to join (``auto``, or host:port); null starts a local instance.
    ray_address: str | None = None


# --------------------------------------------------------------------------- several providers
#: Config sections a provider may override: what one lab owns (MODEL §12). The operators, the
#: world's clock and the analysis belong to the whole world.
PROVIDER_SECTIONS = (
    "teacher",
    "capability",
    "legit",
    "detection",
    "defender",
    "detectors",
    "review",
    "enforcement",
    "latency",
    "market",
    "suppliers",
    "learning",
    "policies",
)


@dataclass
class ProviderParams:
    """One defending lab of a world with several (MODEL §12): the base config with overrides."""

    label: str = ""
    #: Dotted config key -> value, applied to the base config for this provider only (e.g.
    #: ``teacher.price_in_usd_per_mtok: 3``); only keys under :data:`PROVIDER_SECTIONS`.
    set: dict[str, Any] = P(factory=dict)


@dataclass
class DisplacementConfig:
    """How operators split and move their demand across providers (MODEL §12, sim.displacement).

    Each operator's share at provider p is s_p ∝ q_p^θ · c_p^(−ε): q_p the teacher's quality in
    its target domains, c_p its cost per harvested exchange there as observed in the last window.
    """

    #: θ, weight of answer quality in the split [E].
    quality_exponent: float = P(2.0, ge=0.0, le=20.0)
    #: ε, price elasticity of the split (cost per harvested exchange) [E].
    cost_exponent: float = P(1.5, ge=0.0, le=20.0)
    #: Hours from the window that shows a change to the new split taking effect [S] (MiniMax
    #: re-targeted about half its traffic to a new model within 24 h; Anthropic, Feb 2026).
    lag_hours: float = P(24.0, ge=0.0, le=720.0)
    #: An operator moves traffic only when some provider's share would change by at least this
    #: much (moving sheds accounts at one provider and buys them at another) [E].
    switch_share: float = share(0.05)


@dataclass
class SharingConfig:
    """Indicator sharing between the world's labs (MODEL §12, sim.sharing): what a participant
    learns from a confirmed account reaches the other participants."""

    #: Provider names that share (each sends and receives); empty: no sharing.
    participants: list[str] = P(factory=list)
    #: Hours from a lab learning an indicator to the others holding it [E].
    latency_hours: float = P(24.0, ge=0.0, le=720.0)
    #: Share of a sharer's indicators that reach each other participant [E].
    coverage: float = share(0.5)
    #: What participating costs each lab, US$ a day (ledger category ``intel_sharing``) [E].
    usd_per_day_per_lab: float = P(560.0, ge=0.0)
    #: Hour sharing begins (0: from the start). It acts from the first window starting at or
    #: after it; indicators learned before it are never passed on, confirmations made before it
    #: are not pooled for attribution, and nothing is paid before it.
    start_hour: float = P(0.0, ge=0.0)


@dataclass
class DeterrenceConfig:
    """What an actor's earlier campaigns leave for its later ones (MODEL §8, sim.deterrence):
    acts only where two operators share an ``actor`` and one starts after the other."""

    #: Share of an attributed earlier campaign's evidence (confirmation decisions) that counts
    #: against the same actor's later campaign: the defender knows its tradecraft [E].
    evidence_carryover: float = share(0.5)
    #: Whether the later campaign starts from the earlier one's posterior beliefs about ban
    #: hazards (what it learned) rather than from the prior.
    belief_carryover: bool = True
    #: Whether a blacklist of the actor (sanctions) applies to its later campaigns from their
    #: start: the designation names the entity, not the campaign.
    blacklist_carryover: bool = True


# --------------------------------------------------------------------------- the whole config
@dataclass
class Config:
    """The full, validated configuration of one run."""

    seed: int = P(0, ge=0)
    #: Replicate index within a sweep: streams come from SeedSequence(seed, spawn_key=(replicate,)).
    replicate: int | None = P(None, ge=0)
    scenario: ScenarioMeta = P(factory=ScenarioMeta)
    sweep: SweepMeta = P(factory=SweepMeta)
    world: WorldConfig = P(factory=WorldConfig)
    teacher: TeacherConfig = P(factory=TeacherConfig)
    capability: CapabilityConfig = P(factory=CapabilityConfig)
    legit: LegitConfig = P(factory=LegitConfig)
    operators: dict[str, OperatorConfig] = P(factory=dict)
    #: The account market and its suppliers; ``kind`` picks the class (sim.suppliers).
    market: MarketConfig = P(factory=MarketConfig)
    suppliers: dict[str, Any] = P(factory=dict)
    learning: LearningConfig = P(factory=LearningConfig)
    #: Attacker strategy parameters; ``mode`` picks the class (sim.attackers).
    attacker: dict[str, Any] = P(factory=lambda: {"mode": "fixed"})
    detection: DetectionConfig = P(factory=DetectionConfig)
    defender: DefenderConfig = P(factory=DefenderConfig)
    analysis: AnalysisConfig = P(factory=AnalysisConfig)
    #: Detector name -> parameters; ``kind`` picks the class (sim.detectors).
    detectors: dict[str, Any] = P(factory=dict)
    review: ReviewConfig = P(factory=ReviewConfig)
    enforcement: EnforcementConfig = P(factory=EnforcementConfig)
    latency: LatencyConfig = P(factory=LatencyConfig)
    #: Policy name -> parameters; ``kind`` (default: the name) picks the class (sim.policies).
    policies: dict[str, Any] = P(factory=dict)
    output: OutputConfig = P(factory=OutputConfig)
    #: Defending labs of the world, name -> overrides of the base config; empty: one provider,
    #: the base config itself (every shipped scenario).
    providers: dict[str, ProviderParams] = P(factory=dict)
    displacement: DisplacementConfig = P(factory=DisplacementConfig)
    #: Indicator sharing between the providers (world level; MODEL §12).
    sharing: SharingConfig = P(factory=SharingConfig)
    #: What an actor's earlier campaigns leave for its later ones (MODEL §8).
    deterrence: DeterrenceConfig = P(factory=DeterrenceConfig)
    #: A study's settings (``distillsim study study=<name>``, configs/study/); not part of a world.
    study: StudyConfig | None = None
    #: The priors a study samples (``uncertainty=<name>``, configs/uncertainty/); not a world's.
    uncertainty: UncertaintyConfig | None = None
