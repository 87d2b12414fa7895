"""Samplers: designs in the unit cube (EMA-Workbench naming), mapped to values by the priors.

Morris trajectories and Saltelli's Sobol' design come from SALib, Latin hypercubes and scrambled
Sobol' sequences from ``scipy.stats.qmc``. Every design is a pure function of its seed, so a study
that is run again draws the same worlds (and finds them in the cache).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

#: Designs a study can ask for.
DESIGNS = ("morris", "saltelli", "lhs", "sobol")


def unit_problem(names: list[str]) -> dict:
    """SALib's problem for factors that live in the unit cube."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def morris(names: list[str], trajectories: int, levels: int, seed: int) -> np.ndarray:
    """Morris one-at-a-time trajectories: trajectories x (k + 1) rows."""
    from SALib.sample import morris as sample

    return sample.sample(unit_problem(names), trajectories, num_levels=levels, seed=seed)


def saltelli(names: list[str], n: int, seed: int, second_order: bool = False) -> np.ndarray:
    """Saltelli's design for Sobol' indices on a scrambled Sobol' sequence: n x (k + 2) rows
    (n x (2k + 2) with second order). ``n`` must be a power of two."""
    from SALib.sample import sobol as sample

    return sample.sample(
        unit_problem(names), n, calc_second_order=second_order, scramble=True, seed=seed
    )


def lhs(names: list[str], n: int, seed: int) -> np.ndarray:
    """A Latin hypercube of n rows."""
    return qmc.LatinHypercube(d=len(names), seed=seed).random(n)


def sobol(names: list[str], n: int, seed: int) -> np.ndarray:
    """The first n points of a scrambled Sobol' sequence (balanced when n is a power of two)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "balance properties" for n not 2^m
        return qmc.Sobol(d=len(names), scramble=True, seed=seed).random(n)


def design(kind: str, names: list[str], n: int, seed: int, **kw) -> np.ndarray:
    """The unit-cube design ``kind`` (one of :data:`DESIGNS`)."""
    if kind == "morris":
        return morris(names, n, kw.get("levels", 4), seed)
    if kind == "saltelli":
        return saltelli(names, n, seed, kw.get("second_order", False))
    if kind == "lhs":
        return lhs(names, n, seed)
    if kind == "sobol":
        return sobol(names, n, seed)
    raise ValueError(f"unknown design {kind!r}; allowed: {', '.join(DESIGNS)}")
