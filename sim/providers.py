"""Several defending labs in one world: each provider's config (MODEL §12).

A provider is the base config with its own overrides (``providers.<name>.set``), restricted to
what one lab owns (:data:`sim.parameters.PROVIDER_SECTIONS`). Each derived config goes through the
same validation as a whole config, so an error names ``providers.<name>.set.<key>``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math

from omegaconf import OmegaConf

from sim.parameters import PROVIDER_SECTIONS, Config

#: The name of the single provider of a world without ``providers`` (today's model).
DEFAULT_PROVIDER = "default"


def provider_names(cfg: Config) -> list[str]:
    """The world's providers in order (provider 0 first); one, ``default``, if none is set."""
    return list(cfg.providers) or [DEFAULT_PROVIDER]


def provider_configs(cfg: Config) -> dict[str, Config]:
    """Each provider's validated config: the base config with its ``set`` overrides applied.

    With no providers the base config itself is the one provider (the same object: nothing is
    re-validated, so today's model runs unchanged).
    """
    from sim.validation import ConfigError, validate

    if not cfg.providers:
        return {DEFAULT_PROVIDER: cfg}
    base = dataclasses.asdict(cfg)
    base["providers"] = {}
    base["sharing"]["participants"] = []  # the world's, read by sim.world (not a provider's)
    out: dict[str, Config] = {}
    for name, prov in cfg.providers.items():
        prefix = f"providers.{name}.set"
        _once_each(prov.set, prefix)
        tree = OmegaConf.create(base)
        for key, value in prov.set.items():
            top = str(key).split(".")[0]
            if top not in PROVIDER_SECTIONS:
                fields = [f.name for f in dataclasses.fields(Config)]
                close = difflib.get_close_matches(top, PROVIDER_SECTIONS, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}? " if close else ""
                what = (
                    "belongs to the whole world, not one provider"
                    if top in fields
                    else ("unknown key")
                )
                raise ConfigError(
                    f"{prefix}.{key}",
                    f"{what}; {hint}allowed sections: {', '.join(PROVIDER_SECTIONS)}",
                )
            OmegaConf.update(tree, str(key), value, merge=True, force_add=True)
        try:
            pcfg = validate(tree)
        except ConfigError as e:
            raise ConfigError(f"{prefix}.{e.key}", e.message) from None
        _same_domains(cfg, pcfg, prefix)
        out[name] = pcfg
    return out


def _leaves(node: dict, prefix: str = "") -> list[str]:
    """The dotted leaf keys of a ``set``, flat and nested keys alike."""
    out = []
    for key, value in node.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += _leaves(value, f"{full}.")
        else:
            out.append(full)
    return out


def _once_each(overrides: dict, prefix: str) -> None:
    """A key given twice in one ``set`` — flat (``detection.budget_usd_per_day: 0``) and nested
    (``detection: {budget_usd_per_day: 0}``, what ``+providers.<name>.set.detection…`` adds on the
    command line) — would apply in an order nobody chose: refuse it."""
    from sim.validation import ConfigError

    seen: set[str] = set()
    for leaf in _leaves(dict(overrides)):
        if leaf in seen:
            raise ConfigError(
                f"{prefix}.{leaf}",
                f"given twice, flat (`{leaf}:` in a config file) and nested (a command line's "
                f"`+{prefix}.{leaf}=`, say); give it once: nest it in the file "
                f"(`{leaf.split('.')[0]}: {{{leaf.split('.', 1)[-1]}: …}}`), which the command "
                "line then overrides without `+`",
            )
        seen.add(leaf)


def _same_domains(cfg: Config, pcfg: Config, prefix: str) -> None:
    """Every teacher is scored on the world's domains at the world's value weights: capability
    from several teachers adds up per domain, and the headline must mean one thing."""
    from sim.validation import ConfigError

    base, mine = cfg.capability.domains, pcfg.capability.domains
    if list(mine) != list(base):
        raise ConfigError(
            f"{prefix}.capability.domains",
            f"a provider keeps the world's domains ({', '.join(base)}) (got {', '.join(mine)})",
        )
    for d in base:
        if not math.isclose(mine[d].value_weight, base[d].value_weight):
            raise ConfigError(
                f"{prefix}.capability.domains.{d}.value_weight",
                "the domains' value weights belong to the world (what a domain is worth to "
                f"the headline), not a provider (world: {base[d].value_weight:g})",
            )
