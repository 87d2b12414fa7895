"""Experiments: what runs worlds rather than what a world is (searches over the model).

The model (:mod:`sim.model` and what it uses) imports nothing from here. ``best_response`` chooses
an attacker's levers against a defence.
"""
