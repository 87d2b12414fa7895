"""Experiments: what runs worlds rather than what a world is.

``evaluators`` runs one world into a summary, ``cache`` keeps summaries, ``sweeps`` runs grids
through Hydra's launchers, ``calibration`` fits a scenario to its disclosures, ``best_response``
chooses an attacker's levers against a defence and ``stackelberg`` the defence that anticipates
it; ``storage`` writes results folders atomically. The model imports nothing from here, and
nothing here imports :mod:`sim.analysis` or the command line.
"""
