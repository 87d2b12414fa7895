"""Latency model: every delay in the simulation is drawn here (ABIDES-style).

Lognormal delays are parametrised by their median and log-scale sigma so that a config reads in
hours a human can check. Review service times live with the review queue (:mod:`sim.review`)
because they are capacity, not latency.
"""

from __future__ import annotations

import math

import numpy as np

from sim.parameters import LatencyConfig
from sim.rng import DrawBuffer


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    """``n`` lognormal draws with the given median and log-scale sigma (0 -> constant)."""
    if median <= 0.0:
        return np.zeros(n)
    if sigma <= 0.0:
        return np.full(n, float(median))
    return median * np.exp(sigma * rng.standard_normal(n))


class LatencyModel:
    """Draws the delays of account set-up, detection, enforcement and operator reaction."""

    def __init__(self, cfg: LatencyConfig, rng: np.random.Generator) -> None:
        self.cfg = cfg
        #: Every delay is lognormal: the stream gives standard normals only, through a buffer
        #: the compiled review decisions draw from too (the same sequence either way).
        self.rng = DrawBuffer(rng, normal=True, block=1024) if rng is not None else None

    def setup_hours(self, n: int) -> np.ndarray:
        """Time from an account's creation slot to its first usable hour."""
        return lognormal(self.rng, self.cfg.setup_hours_median, self.cfg.setup_hours_sigma, n)

    def detector_hours(self, name: str, kind: str) -> float:
        """Processing latency from a scoring window's end to its flags reaching review.

        Looked up by the detector's name, then by its kind; 0 h if neither is listed.
        """
        hours = self.cfg.detector_hours
        return float(hours.get(name, hours.get(kind, 0.0)))

    def enforcement_hours(self, n: int) -> np.ndarray:
        """Delay from a decision to the ban, throttle or degradation taking effect."""
        return lognormal(
            self.rng, self.cfg.enforcement_hours_median, self.cfg.enforcement_hours_sigma, n
        )

    def enforcement_hour(self) -> float:
        """One enforcement delay (the same draw as ``enforcement_hours(1)[0]``, as a float)."""
        c = self.cfg
        if c.enforcement_hours_median <= 0.0:
            return 0.0
        if c.enforcement_hours_sigma <= 0.0:
            return float(c.enforcement_hours_median)
        z = self.rng.standard_normal()
        return c.enforcement_hours_median * math.exp(c.enforcement_hours_sigma * z)

    @property
    def sweep_hours(self) -> float:
        return self.cfg.sweep_hours

    @property
    def notice_hours(self) -> float:
        return self.cfg.operator_notice_hours

    @property
    def reaction_hours(self) -> float:
        return self.cfg.operator_reaction_hours
