"""Priors: the uncertain inputs of a study (EMA Workbench's "parameters"), configs/uncertainty/.

A :class:`Factor` is one uncertain quantity with a distribution and bounds. It drives one or more
config keys (ties without Hydra tricks): ``apply: set`` gives each key the factor's value,
``apply: scale`` multiplies each key's value in the base config by it. ``*`` in a key matches every
entry of a mapping (``operators.*.value_usd``), so one prior serves every scenario. Samplers work
in the unit cube; :meth:`Priors.values` maps a unit sample through each factor's quantile function.

Every bad prior fails in :func:`parse`, before anything runs, naming the key: an unknown factor
field, a key that is not in the config, a key driven by two factors, bounds whose extreme values
leave the schema's range for any key they drive.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.calibration import get_path, set_path
from sim.parameters import Config, FactorConfig
from sim.validation import ConfigError, _check_value, check_ranges

DISTRIBUTIONS = ("uniform", "loguniform", "triangular")
APPLY = ("set", "scale")
FIELDS = tuple(f.name for f in dataclasses.fields(FactorConfig))


@dataclass
class Factor:
    """One uncertain input: its distribution over ``bounds`` and the keys it drives."""

    name: str
    keys: list[str]
    dist: str = "uniform"
    bounds: tuple[float, float] = (0.0, 1.0)
    #: Mode of a triangular prior (default: the middle of the bounds).
    peak: float | None = None
    apply: str = "set"
    #: Round the keys' values to whole numbers (counts, cluster sizes).
    integer: bool = False
    #: Where the range comes from (docs/CALIBRATION.md section, or the reasoning).
    source: str = ""
    #: The concrete keys ``keys`` expands to in the base config, with their base values.
    resolved: dict[str, float] = field(default_factory=dict)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: unit-cube coordinates -> values of the factor."""
        lo, hi = self.bounds
        u = np.asarray(u, dtype=float)
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        if self.dist == "loguniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        c = self.peak if self.peak is not None else 0.5 * (lo + hi)
        fc = (c - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (c - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - c))
        return np.where(u < fc, left, right)

    def key_values(self, x: float) -> dict[str, float]:
        """What each driven key is set to when the factor takes the value ``x``."""
        out = {}
        for key, base in self.resolved.items():
            v = x * base if self.apply == "scale" else x
            out[key] = round(v) if self.integer else float(v)
        return out


@dataclass
class Priors:
    """The factors of a study, in a fixed order (the columns of every sample matrix)."""

    name: str
    factors: list[Factor]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Unit-cube samples (n x k) -> factor values (n x k)."""
        unit = np.atleast_2d(unit)
        return np.column_stack([f.ppf(unit[:, j]) for j, f in enumerate(self.factors)])

    def apply(self, cfg: Config, x: np.ndarray) -> Config:
        """A copy of ``cfg`` with every factor's keys set from the factor values ``x``."""
        out = copy.deepcopy(cfg)
        for f, xj in zip(self.factors, x, strict=True):
            for key, v in f.key_values(float(xj)).items():
                set_path(out, key, v)
        return out

    def table(self) -> list[dict[str, Any]]:
        """One row per factor, for summaries and manifests."""
        return [
            {
                "factor": f.name,
                "dist": f.dist,
                "low": f.bounds[0],
                "high": f.bounds[1],
                "apply": f.apply,
                "keys": ", ".join(f.resolved),
                "source": f.source,
            }
            for f in self.factors
        ]


# --------------------------------------------------------------------------- paths
def _children(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {}


def expand(cfg: Config, pattern: str) -> list[str]:
    """The concrete numeric keys a dotted pattern (``*`` = every mapping entry) names in ``cfg``."""
    found = [("", cfg)]
    for part in pattern.split("."):
        nxt = []
        for prefix, obj in found:
            kids = _children(obj)
            names = list(kids) if part == "*" else [part] if part in kids else []
            nxt += [(f"{prefix}.{n}" if prefix else n, kids[n]) for n in names]
        found = nxt
    return [
        k
        for k, v in found
        if isinstance(v, int | float) and not isinstance(v, bool) and v is not None
    ]


def _parent(cfg: Any, key: str) -> tuple[Any, str]:
    *head, last = key.split(".")
    obj = cfg
    for part in head:
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj, last


def _meta(cfg: Any, key: str) -> dict:
    """The schema's range metadata of a key (empty for a free mapping's entries)."""
    obj, last = _parent(cfg, key)
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name == last:
                return dict(f.metadata)
    return {}


# --------------------------------------------------------------------------- parsing
def _number(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(key, f"must be a finite number (got {v!r})")
    return float(v)


def parse_factor(name: str, node: Any, cfg: Config, where: str) -> Factor:
    """One factor from its config node, checked against ``cfg`` (the base world)."""
    at = f"{where}.{name}"
    if not isinstance(node, dict):
        raise ConfigError(at, f"must be a mapping with keys {', '.join(FIELDS)}")
    for k in node:
        if k not in FIELDS:
            raise ConfigError(f"{at}.{k}", f"unknown key; allowed keys: {', '.join(FIELDS)}")
    keys = node.get("keys")
    if isinstance(keys, str):
        keys = [keys]
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ConfigError(f"{at}.keys", "must list at least one config key (e.g. world.days)")
    resolved: dict[str, float] = {}
    for pattern in keys:
        found = expand(cfg, pattern)
        if not found:
            raise ConfigError(
                f"{at}.keys",
                f"{pattern!r} names no numeric key of the config (check the spelling; '*' "
                "matches every entry of a mapping, e.g. operators.*.value_usd)",
            )
        for k in found:
            resolved[k] = float(get_path(cfg, k))
    dist = node.get("dist", "uniform")
    if dist not in DISTRIBUTIONS:
        raise ConfigError(
            f"{at}.dist", f"unknown distribution {dist!r}; allowed: {', '.join(DISTRIBUTIONS)}"
        )
    apply = node.get("apply", "set")
    if apply not in APPLY:
        raise ConfigError(f"{at}.apply", f"must be one of {', '.join(APPLY)} (got {apply!r})")
    b = node.get("bounds")
    if not isinstance(b, list | tuple) or len(b) != 2:
        raise ConfigError(f"{at}.bounds", f"must be [low, high] (got {b!r})")
    lo, hi = (_number(f"{at}.bounds", v) for v in b)
    if not lo < hi:
        raise ConfigError(f"{at}.bounds", f"low must be below high (got [{lo}, {hi}])")
    if dist == "loguniform" and lo <= 0:
        raise ConfigError(f"{at}.bounds", f"a loguniform prior needs low > 0 (got {lo})")
    peak = node.get("peak")
    if peak is not None:
        if dist != "triangular":
            raise ConfigError(f"{at}.peak", "applies only with dist: triangular")
        peak = _number(f"{at}.peak", peak)
        if not lo <= peak <= hi:
            raise ConfigError(f"{at}.peak", f"must lie in the bounds [{lo}, {hi}] (got {peak})")
    f = Factor(
        name=name,
        keys=list(keys),
        dist=dist,
        bounds=(lo, hi),
        peak=peak,
        apply=apply,
        integer=bool(node.get("integer", False)),
        source=str(node.get("source", "") or ""),
        resolved=resolved,
    )
    for x in (lo, hi):  # both extremes must be valid for every driven key
        for k, v in f.key_values(x).items():
            try:
                _check_value(k, v, _meta(cfg, k))
            except ConfigError as e:
                raise ConfigError(
                    f"{at}.bounds", f"the bound {x:g} sets {k} = {v:g}, which {e.message}"
                ) from None
    return f


def parse(
    node: Any, cfg: Config, only: list[str] | None = None, where: str = "uncertainty"
) -> Priors:
    """The priors of ``node`` (``uncertainty`` in the composed config), checked against ``cfg``.

    ``only``: the factors a study uses (all if empty), in the priors' order.
    """
    if dataclasses.is_dataclass(node):  # the validated UncertaintyConfig
        node = {"name": node.name, "factors": dict(node.factors)}
    if not isinstance(node, dict) or not isinstance(node.get("factors"), dict):
        raise ConfigError(
            f"{where}.factors",
            "missing: pick priors with uncertainty=<name> (configs/uncertainty/)",
        )
    factors_node = node["factors"]
    unknown = [n for n in only or [] if n not in factors_node]
    if unknown:
        raise ConfigError(
            "study.factors",
            f"unknown factor {unknown[0]!r}; allowed: {', '.join(factors_node)}",
        )
    factors = [
        parse_factor(n, v, cfg, f"{where}.factors")
        for n, v in factors_node.items()
        if not only or n in only
    ]
    if not factors:
        raise ConfigError(f"{where}.factors", "at least one factor is required")
    owner: dict[str, str] = {}
    for f in factors:
        for k in f.resolved:
            if k in owner:
                raise ConfigError(
                    f"{where}.factors.{f.name}.keys",
                    f"{k} is driven by factor {owner[k]!r} already (a key takes one factor)",
                )
            owner[k] = f.name
    priors = Priors(str(node.get("name", "") or "priors"), factors)
    # Every corner of the box is a valid world (ranges that hold only jointly, too).
    for corner in (np.zeros(len(factors)), np.ones(len(factors))):
        check_ranges(priors.apply(cfg, priors.values(corner)[0]), "")
    return priors
