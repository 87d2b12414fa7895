"""Functions whose sensitivity indices are known, played as a study's evaluator.

They check the study path itself (design, evaluation, rows, response vectors, indices) against
analytical answers: the same code runs them as runs the model, only the evaluator differs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on [-pi, pi]^3."""
    x = np.atleast_2d(x)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, tuple[float, float]]:
    """Analytical (S1, ST) of the Ishigami function (Saltelli et al. 2008, Global Sensitivity
    Analysis: The Primer, §4.1)."""
    v = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return {"x1": (v1 / v, (v1 + v13) / v), "x2": (v2 / v, v2 / v), "x3": (0.0, v13 / v)}


class Ishigami:
    """A study evaluator returning the Ishigami function of the factor values as ``y``."""

    def __call__(self, x: np.ndarray | None, point: Any) -> tuple[dict[str, Any], bool]:
        return {"y": float(ishigami(np.asarray(x))[0])}, False


class Linear:
    """A study evaluator returning sum_i coef_i * x_i as ``y`` (Morris: mu* = |coef_i| x range)."""

    def __init__(self, coef: list[float]):
        self.coef = np.asarray(coef, dtype=float)

    def __call__(self, x: np.ndarray | None, point: Any) -> tuple[dict[str, Any], bool]:
        return {"y": float(np.dot(self.coef, np.asarray(x)))}, False
