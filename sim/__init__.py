"""distillsim: the economics of distillation attacks on AI model APIs.

A run goes CLI (:mod:`sim.cli`) → configuration (:mod:`sim.configuration`, validated by
:mod:`sim.validation` against :mod:`sim.parameters`) → the Mesa model (:mod:`sim.model`) →
outcomes (:mod:`sim.outcomes`) → the run folder (:mod:`sim.outputs`).

Layers, each importing only from those before it: the model (this package's modules and
``attackers``, ``detectors``, ``policies``, ``suppliers``) → :mod:`sim.experiments` (what runs
worlds: evaluators, cache, sweeps, calibration, best response, studies) → :mod:`sim.analysis`
(tables and figures from results) → the command line, the run folder and the terminal
(:mod:`sim.cli`, :mod:`sim.commands`, :mod:`sim.outputs`, :mod:`sim.terminal`).
"""

__version__ = "0.1.0"
#: Bumped whenever a change alters what a given config and seed produce (result caches key on it).
MODEL_VERSION = "1"
