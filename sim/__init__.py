"""distillsim: the economics of distillation attacks on AI model APIs.

A run goes CLI (:mod:`sim.cli`) → configuration (:mod:`sim.configuration`, validated by
:mod:`sim.validation` against :mod:`sim.parameters`) → the Mesa model (:mod:`sim.model`) →
outcomes (:mod:`sim.outcomes`) → the run folder (:mod:`sim.outputs`).
"""

__version__ = "0.1.0"
#: Bumped whenever a change alters what a given config and seed produce (result caches key on it).
MODEL_VERSION = "1"
