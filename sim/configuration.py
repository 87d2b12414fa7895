"""Configuration: find the config tree, expose scenarios to Hydra, compose and validate.

``configs/`` is the Hydra config tree (one group per concern); ``scenarios/*.yaml`` are registered
in Hydra's ConfigStore as the group ``scenario`` (package ``_global_``), so ``scenario=<name>``
picks a file from ``scenarios/``. The dataclass schema (:class:`sim.parameters.Config`) is stored
as ``schema`` and is the first entry of the primary config's defaults list; after all overrides the
result is validated again (:func:`sim.validation.validate`), so ``+key=`` appends cannot slip
through.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from sim.parameters import Config

_PKG = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    """A shipped data folder: inside the installed package, or at the repository root."""
    packaged = _PKG / "_data" / name
    return packaged if packaged.is_dir() else _PKG.parent / name


CONFIG_DIR = _data_dir("configs")
SCENARIO_DIR = _data_dir("scenarios")
#: Config groups a user picks from on the command line (group -> folder under configs/).
GROUPS = [
    "world",
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
    "displacement",
    "sharing",
    "deterrence",
    "policies",
    "attacker",
    "output",
    "analysis",
    "policy",
    "mix",
    "speed",
    "sweep",
    "uncertainty",
    "study",
    "experiment",
]


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def scenario_descriptions() -> dict[str, str]:
    """Scenario name -> its one-line description."""
    out = {}
    for name in scenario_names():
        node = OmegaConf.load(SCENARIO_DIR / f"{name}.yaml")
        out[name] = str(OmegaConf.select(node, "scenario.description", default="") or "")
    return out


def group_options(group: str) -> list[str]:
    if group == "scenario":
        return scenario_names()
    d = CONFIG_DIR / group
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


_registered = False


def register_configs() -> None:
    """Store the schema and every scenario in Hydra's ConfigStore (idempotent)."""
    global _registered
    if _registered:
        return
    from hydra_plugins.distillsim_sweeper.distillsim_sweeper import SweeperConf

    cs = ConfigStore.instance()
    cs.store(name="schema", node=Config)
    cs.store(group="hydra/sweeper", name="distillsim", node=SweeperConf)
    for name in scenario_names():
        node = OmegaConf.load(SCENARIO_DIR / f"{name}.yaml")
        cs.store(group="scenario", name=name, node=node, package="_global_")
    _registered = True


@dataclass
class Loaded:
    """A validated config with the composed tree it came from."""

    cfg: Config
    tree: DictConfig  # as composed, without the hydra node
    scenario: str
    overrides: list[str]

    @property
    def resolved(self) -> DictConfig:
        """The full validated config, every plug-in's defaults filled in (what actually runs)."""
        return resolved_tree(self.cfg)


def resolved_tree(cfg: Config) -> DictConfig:
    """The validated :class:`Config` as a plain tree."""
    return OmegaConf.create(dataclasses.asdict(cfg))


def compose_tree(overrides: list[str], return_hydra_config: bool = False) -> DictConfig:
    """Compose ``configs/config.yaml`` with overrides (raises Hydra/OmegaConf errors)."""
    register_configs()
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(
            config_name="config", overrides=list(overrides), return_hydra_config=return_hydra_config
        )


def load(overrides: list[str] | None = None, command_line: bool = False) -> Loaded:
    """Compose and validate; raises :class:`sim.validation.ConfigError` with one clear message.

    From a command line a key given twice is an error; in code the last value wins (Hydra).
    """
    from sim.validation import check_overrides, translate, validate

    overrides = list(overrides or [])
    check_overrides(overrides, allow_repeats=not command_line)
    try:
        tree = compose_tree(overrides, return_hydra_config=True)
    except Exception as exc:  # Hydra and OmegaConf errors, translated to one line
        raise translate(exc, overrides) from None
    choices = dict(tree.hydra.runtime.choices)
    with_hydra = tree
    tree = OmegaConf.masked_copy(with_hydra, [k for k in with_hydra if k != "hydra"])
    cfg = validate(tree)
    return Loaded(
        cfg=cfg,
        tree=tree,
        scenario=str(choices.get("scenario", cfg.scenario.name)),
        overrides=overrides,
    )
