"""Validation: every bad input fails before any work starts, with one message naming the key.

Checks, in order: group choices on the command line (unknown scenario -> the list of scenarios),
the structured schema (unknown keys, wrong types), the ranges and choices recorded on each field,
the pluggable classes' own parameters (detectors, policies, attacker strategy), and the rules that
span keys (shares summing to 1, targeting weights, a non-empty fleet, ...).
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import math
import os
import re
import shutil
import tempfile
import typing
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.parameters import Config
from sim.registry import attackers, detectors, load_all, policies, suppliers

MULTI_GROUPS = {"detectors", "policies", "suppliers"}


class ConfigError(ValueError):
    """A configuration problem: the key at fault and what is allowed."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def __reduce__(self):  # raised in a worker process, it must travel back whole
        return (ConfigError, (self.key, self.message))


#: Per-account state is a few dozen bytes per column: this keeps a run within a few GiB.
MAX_SIMULATED_ACCOUNTS = 20_000_000


def _fmt(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v)


# --------------------------------------------------------------------------- command line
def _empties_list(key: str, value: str) -> bool:
    """Whether ``key=[]`` names a list of the schema (``sharing.participants=[]``): Hydra
    replaces a list, so ``[]`` empties it (a mapping it would merge into, changing nothing)."""
    from sim.parameters import Config

    if value.strip() != "[]":
        return False
    node: Any = Config()
    try:
        for part in key.lstrip("+~").split("."):
            node = node[part] if isinstance(node, dict) else getattr(node, part)
    except (AttributeError, KeyError, TypeError):
        return False
    return isinstance(node, list)


def check_overrides(overrides: list[str], allow_repeats: bool = True) -> None:
    """Reject unknown config-group options (and, from a command line, repeated keys) before
    Hydra composes anything."""
    from sim.configuration import GROUPS, group_options

    seen: set[str] = set()
    for ov in overrides:
        if "=" not in ov:
            if ov.startswith("~"):  # deletion: ~key
                continue
            raise ConfigError(ov, "expected key=value (Hydra override syntax)")
        key, value = ov.split("=", 1)
        if key in seen and not allow_repeats:
            raise ConfigError(key, "given twice on the command line")
        seen.add(key)
        key = key.lstrip("+~")
        if value.strip() in ("{}", "[]") and key not in GROUPS and not _empties_list(key, value):
            raise ConfigError(
                key,
                f"{value.strip()} changes nothing (Hydra merges it into what is there); "
                f"remove an entry with ~{key}.<name>, or set the entries you want",
            )
        if key.startswith("override "):
            key = key[len("override ") :].strip().lstrip("/")
        if key not in GROUPS and key != "scenario":
            continue
        options = group_options(key)
        if not value.strip() and key not in MULTI_GROUPS:
            raise ConfigError(key, f"missing value; allowed: {', '.join(options)}")
        values = (
            [v.strip() for v in value.strip("[]").split(",")] if key in MULTI_GROUPS else [value]
        )
        for v in values:
            if v and v not in options and v != "null":
                what = "scenario" if key == "scenario" else f"option for {key}"
                raise ConfigError(key, f"unknown {what} {v!r}; allowed: {', '.join(options)}")


def translate(exc: BaseException, overrides: list[str] | None = None) -> ConfigError:
    """Turn a Hydra/OmegaConf composition error into one ConfigError."""
    from hydra.errors import OverrideParseException

    if isinstance(exc, ConfigError):
        return exc
    if isinstance(exc, OverrideParseException):
        # The parser's message quotes the override it could not read: name its key.
        for ov in overrides or []:
            if ov in str(exc) and "=" in ov:
                key, value = ov.split("=", 1)
                return ConfigError(
                    key.lstrip("+~"),
                    f"cannot read the value {value!r} (Hydra override syntax: quote text with "
                    f"spaces, non-ASCII or special characters, e.g. {key}='text')",
                )
    e: BaseException | None = exc
    while e is not None:
        if isinstance(e, OmegaConfBaseException):
            return _with_full_key(_from_omegaconf(e), overrides or [])
        e = e.__cause__ or e.__context__
    text = str(exc)
    if "Ambiguous value for argument" in text or "requires --multirun" in text:
        # Hydra's words for a sweep (a,b or range(...)) given to a command that takes one world.
        for ov in overrides or []:
            if ov in text and "=" in ov:
                return ConfigError(
                    ov.split("=", 1)[0].lstrip("+~"),
                    "takes one value here; to sweep it use `distillsim sweep` "
                    f"(e.g. distillsim sweep {ov})",
                )
    if "Could not append to config" in str(exc):
        for ov in overrides or []:
            key = ov.split("=", 1)[0]
            if key.startswith("+") and key.lstrip("+") in str(exc):
                k = key.lstrip("+")
                return ConfigError(k, f"exists already: set it without '+' ({k}=<value>)")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConfigError("config", first)


def _with_full_key(err: ConfigError, overrides: list[str]) -> ConfigError:
    """OmegaConf names a new mapping entry by its own name only: give its path from the
    override that added it, and say what to do."""
    if "." in err.key:
        return err
    for ov in overrides:
        parts = ov.split("=", 1)[0].lstrip("+~").split(".")
        if err.key in parts[1:]:
            full = ".".join(parts[: parts.index(err.key, 1) + 1])
            if "Invalid type assigned" in err.message:
                return ConfigError(
                    full,
                    "a new entry of this mapping cannot be added from the command line (OmegaConf "
                    "builds typed entries only from files); define it in a scenario (scenarios/) "
                    "or a config group file",
                )
            return ConfigError(full, err.message)
    return err


_CONVERT = re.compile(r"Value '(.*)' of type '(\w+)' could not be converted to (\w+)")
_KINDS = {
    "Integer": "an integer",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "a string",
}


def _from_omegaconf(e: OmegaConfBaseException) -> ConfigError:
    key = str(getattr(e, "full_key", None) or getattr(e, "key", None) or "config")
    msg = str(getattr(e, "msg", "") or e).splitlines()[0]
    conv = _CONVERT.search(msg)
    if conv:
        return ConfigError(
            key, f"must be {_KINDS.get(conv.group(3), conv.group(3))} (got {conv.group(1)!r})"
        )
    if "not in" in msg or ("Key '" in msg and "not" in msg):
        text = unknown_key_message(key)
        parent = getattr(e, "parent_node", None)
        if text.startswith("no such entry") and isinstance(parent, DictConfig):
            # A free mapping (operators, detectors, ...): name the entries that do exist.
            existing = ", ".join(str(k) for k in parent) or "none"
            structured = any(isinstance(parent._get_node(k), DictConfig) for k in parent)
            add = "" if structured else f" (to add one: +{key}=<value>)"
            text = f"no such entry; existing: {existing}{add}"
        return ConfigError(key, text)
    if "is not a valid bool" in msg:
        return ConfigError(key, f"{msg.split(' (')[0]}; allowed: true, false")
    return ConfigError(key, msg)


def unknown_key_message(key: str) -> str:
    """What to say about an unknown ``key``: the allowed keys, or how to add a mapping entry."""
    if key.split(".")[:2] in (["attacker", "search"], ["attacker", "levers"]):
        return "applies only with attacker=best_response"
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    allowed = _allowed_keys(parent)
    if allowed is None:
        return f"no such entry in {parent} (to add one: +{key}=<value>)"
    if not allowed:
        return "unknown key"
    import difflib

    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown key; {hint}allowed keys: {', '.join(allowed)}"


def _allowed_keys(path: str) -> list[str] | None:
    """Field names allowed under ``path``; None if ``path`` is a free mapping (operators, ...)."""
    parts = [p for p in path.split(".") if p]
    if len(parts) == 2 and parts[0] in ("detectors", "policies", "suppliers"):
        load_all()
        reg = {"detectors": detectors, "policies": policies, "suppliers": suppliers}[parts[0]]
        kind = parts[1] if parts[1] in reg else None
        if kind is None and parts[0] != "policies":
            return None
        cls = reg.get(kind) if kind else None
        return [f.name for f in dataclasses.fields(cls.Params)] if cls else None
    if parts == ["attacker"]:
        load_all()
        names: set[str] = set()
        for k in attackers.kinds():
            names |= {f.name for f in dataclasses.fields(attackers.get(k).Params)}
        return sorted(names)
    node: Any = Config
    i = 0
    while i < len(parts):
        if not dataclasses.is_dataclass(node):
            return None
        hints = typing.get_type_hints(node)
        if parts[i] not in hints:
            return []
        node = hints[parts[i]]
        if typing.get_origin(node) is dict:
            if i == len(parts) - 1:
                return None  # the unknown key is an entry of a free mapping
            node = typing.get_args(node)[1]
            i += 1  # skip the mapping's entry name
        i += 1
    return [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else None


# --------------------------------------------------------------------------- ranges
def check_ranges(obj: Any, prefix: str) -> None:
    """Apply the ge/gt/le/lt/choices metadata of every field, recursively."""
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        key = f"{prefix}.{f.name}" if prefix else f.name
        _check_value(key, v, f.metadata)
        if dataclasses.is_dataclass(v):
            check_ranges(v, key)
        elif isinstance(v, dict):
            for k, item in v.items():
                if dataclasses.is_dataclass(item):
                    check_ranges(item, f"{key}.{k}")
                else:
                    _check_number(f"{key}.{k}", item, None)
        elif isinstance(v, list):
            for i, item in enumerate(v):
                if dataclasses.is_dataclass(item):
                    check_ranges(item, f"{key}[{i}]")


#: Largest magnitude of a number without a range of its own: no quantity of the model (dollars,
#: exchanges, accounts, hours) comes near it, and the arrays sized from one must fit in memory.
MAX_MAGNITUDE = 1e12


def _check_number(key: str, v: Any, meta) -> None:
    """Every number is finite, and without an upper bound of its own at most ``MAX_MAGNITUDE``."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return
    if isinstance(v, float) and math.isnan(v):
        raise ConfigError(key, "must be a number (got nan)")
    if isinstance(v, float) and math.isinf(v):
        raise ConfigError(
            key, f"must be finite (got {v}); to mean 'no limit' use null where the key allows it"
        )
    if abs(v) > MAX_MAGNITUDE and not ({"le", "lt"} & set(meta or {})):
        raise ConfigError(key, f"must be at most {MAX_MAGNITUDE:g} in magnitude (got {v:g})")


def _check_value(key: str, v: Any, meta) -> None:
    if isinstance(v, list):
        for i, item in enumerate(v):
            _check_number(f"{key}[{i}]", item, None)
        return
    _check_number(key, v, meta)
    if not meta or v is None:
        return
    if "choices" in meta and v not in meta["choices"]:
        allowed = ", ".join(_fmt(c) for c in meta["choices"])
        raise ConfigError(key, f"must be one of {allowed} (got {_fmt(v)})")
    if isinstance(v, bool) or not isinstance(v, int | float):
        return
    lo, hi = meta.get("ge", meta.get("gt")), meta.get("le", meta.get("lt"))
    bad = (
        ("ge" in meta and v < meta["ge"])
        or ("gt" in meta and v <= meta["gt"])
        or ("le" in meta and v > meta["le"])
        or ("lt" in meta and v >= meta["lt"])
    )
    if bad:
        if lo == 0 and hi == 1 and "ge" in meta and "le" in meta:
            raise ConfigError(key, f"must be a share or probability in [0, 1] (got {v})")
        parts = []
        if "ge" in meta:
            parts.append(f">= {meta['ge']}")
        if "gt" in meta:
            parts.append(f"> {meta['gt']}")
        if "le" in meta:
            parts.append(f"<= {meta['le']}")
        if "lt" in meta:
            parts.append(f"< {meta['lt']}")
        raise ConfigError(key, f"must be {' and '.join(parts)} (got {v})")


# --------------------------------------------------------------------------- plug-ins
@functools.cache
def _schema(cls: type) -> DictConfig:
    """The structured template of a dataclass, built once (merging copies it, never changes it);
    building it is a third of a validation, which every sweep point pays."""
    return OmegaConf.structured(cls)


def _plugin(registry, kind: str, node: Any, key: str) -> Any:
    if kind not in registry:
        raise ConfigError(
            f"{key}.kind", f"unknown kind {kind!r}; allowed: {', '.join(registry.kinds())}"
        )
    cls = registry.get(kind)
    try:
        merged = OmegaConf.merge(_schema(cls.Params), node)
    except OmegaConfBaseException as e:
        err = _from_omegaconf(e)
        if "unknown key" in err.message:
            names = [f.name for f in dataclasses.fields(cls.Params)]
            raise ConfigError(
                f"{key}.{err.key.split('.')[-1]}", f"unknown key; allowed keys: {', '.join(names)}"
            ) from None
        raise ConfigError(f"{key}.{err.key}", err.message) from None
    obj = OmegaConf.to_object(merged)
    obj.kind = kind
    check_ranges(obj, key)
    return obj


# --------------------------------------------------------------------------- the whole config
def validate(tree: DictConfig | dict, checked: bool = False) -> Config:
    """Validate a composed config tree and return the typed :class:`Config`.

    ``checked``: every override that composed ``tree`` on the structured schema was validated
    already (a sweep point, after the sweep's up-front check), so it is converted as it is,
    without the plain round trip that catches keys added with '+' (≈0.1 s of each point).
    The value checks below run either way.
    """
    load_all()
    cfg: Config | None = None
    if checked and isinstance(tree, DictConfig) and OmegaConf.get_type(tree) is Config:
        try:
            cfg = OmegaConf.to_object(tree)
        except OmegaConfBaseException:
            cfg = None  # the full path below says what is wrong
    if cfg is None:
        # A plain copy: typed nodes from composition would let keys added with '+' slip through.
        try:
            plain = (
                OmegaConf.to_container(tree, resolve=True) if isinstance(tree, DictConfig) else tree
            )
            tree = OmegaConf.create(plain)
            merged = OmegaConf.merge(_schema(Config), tree)
            cfg = OmegaConf.to_object(merged)
        except OmegaConfBaseException as e:
            raise _from_omegaconf(e) from None
    check_ranges(cfg, "")
    cfg.detectors = {
        name: _plugin(detectors, (node or {}).get("kind") or name, node or {}, f"detectors.{name}")
        for name, node in cfg.detectors.items()
    }
    cfg.policies = {
        name: _plugin(policies, (node or {}).get("kind") or name, node or {}, f"policies.{name}")
        for name, node in cfg.policies.items()
    }
    cfg.suppliers = {
        name: _plugin(suppliers, (node or {}).get("kind") or name, node or {}, f"suppliers.{name}")
        for name, node in cfg.suppliers.items()
    }
    if cfg.market.enabled and not cfg.suppliers:
        raise ConfigError(
            "suppliers",
            f"market.enabled needs at least one supplier; allowed: {', '.join(suppliers.kinds())}",
        )
    mode = (cfg.attacker or {}).get("mode")
    if mode is None:
        raise ConfigError("attacker.mode", f"missing; allowed: {', '.join(attackers.kinds())}")
    if mode not in attackers:
        raise ConfigError(
            "attacker.mode", f"unknown mode {mode!r}; allowed: {', '.join(attackers.kinds())}"
        )
    try:
        cfg.attacker = _plugin(attackers, mode, cfg.attacker, "attacker")
    except ConfigError as e:
        if e.key.split(".")[:2] in (["attacker", "search"], ["attacker", "levers"]):
            raise ConfigError(e.key, "applies only with attacker=best_response") from None
        raise
    if mode == "best_response":
        _check_search(cfg)
    _cross_checks(cfg, tree)
    if cfg.providers:
        # Each provider's config is the base with its overrides, validated like a whole one.
        from sim.providers import provider_configs

        if mode == "best_response":
            raise ConfigError(
                "attacker.mode", "best_response is not built for several providers yet"
            )
        provider_configs(cfg)
    _check_sharing(cfg)
    return cfg


def _check_sharing(cfg: Config) -> None:
    """``sharing.participants`` names providers of this world, each once."""
    from sim.providers import provider_names

    names = provider_names(cfg)
    if cfg.sharing.participants and len(names) < 2:
        raise ConfigError(
            "sharing.participants",
            "sharing needs a world of two or more providers (providers:, e.g. "
            f"experiment=two_labs); this one has {', '.join(names)}",
        )
    seen: set[str] = set()
    for name in cfg.sharing.participants:
        if name not in names:
            close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(
                "sharing.participants",
                f"unknown provider {name!r}; {hint}the providers: {', '.join(names)}",
            )
        if name in seen:
            raise ConfigError("sharing.participants", f"{name!r} is listed twice")
        seen.add(name)
    horizon = cfg.world.days * 24
    if cfg.sharing.participants and cfg.sharing.start_hour >= horizon:
        raise ConfigError(
            "sharing.start_hour",
            f"must be before the horizon, world.days x 24 = {horizon:g} "
            f"(got {cfg.sharing.start_hour:g}); sharing would never begin",
        )


#: Free space a results folder needs before work starts (a full-scale run's folder is ~20 MiB).
MIN_FREE_BYTES = 64 * 2**20


def _check_results_dir(path: str) -> None:
    """The results folder is writable, or can be created: known before any work, not after."""
    key = "output.results_dir"
    if not path.strip():
        raise ConfigError(key, "missing value; give a folder (default: results)")
    p = Path(path).expanduser()
    probe = p  # the nearest folder that exists (the root at worst)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(key, f"{str(probe)!r} is a file, not a folder (got {path!r})")
    free = shutil.disk_usage(probe).free
    if free < MIN_FREE_BYTES:
        raise ConfigError(
            key,
            f"only {free / 2**20:.0f} MiB free at {str(probe)!r}; a run writes up to "
            f"{MIN_FREE_BYTES // 2**20} MiB: free some space or choose another folder",
        )
    try:  # a real attempt: permission bits say nothing to root or on read-only mounts
        os.rmdir(tempfile.mkdtemp(prefix=".distillsim-probe-", dir=probe))
    except OSError as e:
        where = "is" if probe == p else f"cannot be created: {str(probe)!r} is"
        raise ConfigError(
            key, f"{path!r} {where} not writable ({e.strerror}); choose a writable folder"
        ) from None


def _cross_checks(cfg: Config, tree: DictConfig) -> None:
    _check_results_dir(cfg.output.results_dir)
    try:
        datetime.date.fromisoformat(cfg.world.start_date)
    except (TypeError, ValueError):
        raise ConfigError(
            "world.start_date", f"must be a date as YYYY-MM-DD (got {cfg.world.start_date!r})"
        ) from None
    domains = list(cfg.capability.domains)
    if not domains:
        raise ConfigError("capability.domains", "at least one capability domain is required")
    if not cfg.operators:
        raise ConfigError("operators", "the fleet is empty: define at least one operator")
    for name, op in cfg.operators.items():
        key = f"operators.{name}"
        for d in op.targets:
            if d not in domains:
                raise ConfigError(
                    f"{key}.targets.{d}", f"unknown domain; allowed: {', '.join(domains)}"
                )
        for d, w in op.targets.items():
            _check_value(f"{key}.targets.{d}", w, {"ge": 0.0, "le": 1.0})
        total = sum(op.targets.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ConfigError(f"{key}.targets", f"targeting weights must sum to 1 (got {total:g})")
        if op.end_hour is not None and op.end_hour <= op.start_hour:
            raise ConfigError(
                f"{key}.end_hour",
                f"must be after start_hour ({op.start_hour:g}) (got {op.end_hour:g})",
            )
        # The fleet the operator keeps at once: its demand at the cadence it tolerates.
        fleet = op.demand_per_day / op.tolerated_cadence_per_day
        if fleet > MAX_SIMULATED_ACCOUNTS:
            raise ConfigError(
                f"{key}.tolerated_cadence_per_day",
                f"demand_per_day / tolerated_cadence_per_day = {fleet:,.3g} accounts at once; at "
                f"most {MAX_SIMULATED_ACCOUNTS:,} (raise the cadence or lower the demand)",
            )
        horizon = cfg.world.days * 24
        if op.start_hour >= horizon:
            raise ConfigError(
                f"{key}.start_hour",
                f"must be before the horizon, world.days x 24 = {horizon} (got {op.start_hour:g})",
            )
    # Attacker accounts at most as fast as they can be bought, plus the simulated legitimate ones.
    sizes = {
        f"operators.{name}.creation_per_day": op.creation_per_day * cfg.world.days
        for name, op in cfg.operators.items()
    }
    sizes["world.legit_sample_share"] = (
        sum(t.accounts for t in cfg.legit.tiers.values()) * cfg.world.legit_sample_share
    )
    if sum(sizes.values()) > MAX_SIMULATED_ACCOUNTS:
        key = max(sizes, key=sizes.get)
        hint = (
            "lower the share: each simulated account then stands for 1/share real ones"
            if key == "world.legit_sample_share"
            else "lower it or world.days"
        )
        raise ConfigError(
            key,
            f"up to {sum(sizes.values()):,.0f} simulated accounts in all ({sizes[key]:,.0f} "
            f"from this); at most {MAX_SIMULATED_ACCOUNTS:,} ({hint})",
        )
    head = cfg.analysis.headline
    if head not in ("max", "total") and head not in cfg.operators:
        raise ConfigError(
            "analysis.headline",
            f"must be max, total or an operator ({', '.join(cfg.operators)}) (got {head!r})",
        )
    for i, lv in enumerate(cfg.analysis.capability_levels):
        _check_value(f"analysis.capability_levels[{i}]", lv, {"gt": 0.0, "le": 1.0})
    allowed = list(cfg.detectors) + ["review"]
    shares = cfg.detection.shares
    for k, v in shares.items():
        _check_value(f"detection.shares.{k}", v, {"ge": 0.0, "le": 1.0})
    unused = [k for k, v in shares.items() if k not in allowed and v != 0]
    total = sum(v for k, v in shares.items() if k in allowed)
    if unused or not math.isclose(total, 1.0, abs_tol=1e-6):
        got = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        fix = " ".join(f"detection.shares.{k}=0" for k in unused)
        hint = f"; set the unused ones to 0 ({fix}) and" if unused else ";"
        raise ConfigError(
            "detection.shares",
            f"shares of the detectors in use ({', '.join(allowed)}) must sum to 1 "
            f"(got {got}){hint} make the rest sum to 1",
        )
    for name in cfg.detectors:
        if name not in shares:
            raise ConfigError(
                f"detection.shares.{name}",
                f"detector {name!r} has no budget share, so it would never run; give it one "
                f"(+detection.shares.{name}=<share>, the shares summing to 1) or 0 to keep it off",
            )
    known = sorted({*detectors.kinds(), *cfg.detectors})
    for k, v in cfg.latency.detector_hours.items():
        if k not in known:
            raise ConfigError(
                f"latency.detector_hours.{k}",
                f"not a detector name or kind; allowed: {', '.join(known)}",
            )
        _check_value(f"latency.detector_hours.{k}", v, {"ge": 0.0})
    w = cfg.world.window_hours
    for name, d in cfg.detectors.items():
        c = d.cadence_hours
        if not (_whole(c / w) or (_whole(w / c) and _whole(4 * c))):
            raise ConfigError(
                f"detectors.{name}.cadence_hours",
                f"must be a multiple of world.window_hours ({w}) or a whole number of quarter "
                f"hours that divides it (e.g. 6, 1, 0.5, 0.25 for streaming)",
            )
    for k, v in cfg.enforcement.sweep_signals.items():
        _check_value(f"enforcement.sweep_signals.{k}", v, {"ge": 0.0, "le": 1.0})
    rel = cfg.teacher.releases_hours
    for i, r in enumerate(rel):
        _check_value(f"teacher.releases_hours[{i}]", r, {"ge": 0.0})
        if i and r <= rel[i - 1]:
            raise ConfigError(
                f"teacher.releases_hours[{i}]",
                f"releases must be in increasing order (got {r:g} after {rel[i - 1]:g})",
            )
    if cfg.teacher.open_catch_up_months_per_month > 0 and not cfg.teacher.lead_months:
        raise ConfigError(
            "teacher.open_catch_up_months_per_month",
            "the open frontier closes on a lead in months: set teacher.lead_months > 0 too "
            "(e.g. 4, CALIBRATION §8), or keep the catch-up at 0",
        )
    cal = cfg.scenario.calibration
    fitted = {f.key for f in cal.fitted}
    for f in cal.fitted:
        for k in [f.key, *f.tied]:
            if OmegaConf.select(tree, k, default=None) is None:
                raise ConfigError("scenario.calibration.fitted", f"{k!r} is not a config key")
        if len(f.bounds) != 2 or not (0 <= f.bounds[0] < f.bounds[1]):
            raise ConfigError(
                "scenario.calibration.fitted",
                f"{f.key}: bounds must be [low, high] with 0 <= low < high",
            )
    for t in cal.targets:
        if t.metric in fitted:
            raise ConfigError(
                "scenario.calibration.targets", f"{t.metric!r} is both fitted and a target"
            )


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-9 and round(x) >= 1


def _check_search(cfg: Config) -> None:
    """The best-response search moves known levers and weighs known suppliers."""
    from sim.attackers.best_response import LEVERS

    s = cfg.attacker.search
    for name in s.levers:
        if name not in LEVERS:
            raise ConfigError(
                "attacker.search.levers", f"unknown lever {name!r}; allowed: {', '.join(LEVERS)}"
            )
    for name in s.suppliers:
        if name not in cfg.suppliers:
            raise ConfigError(
                "attacker.search.suppliers",
                f"unknown supplier {name!r}; allowed: {', '.join(cfg.suppliers)}",
            )
    for b in s.warm_start_budgets:
        if not (isinstance(b, int | float) and math.isfinite(b) and b >= 0):
            raise ConfigError(
                "attacker.search.warm_start_budgets",
                f"budgets are $/day, finite and >= 0 (got {b!r})",
            )
