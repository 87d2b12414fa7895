"""Intervals: means over replicates with a 95% Student-t interval, and paired differences.

Replicate i shares its random streams across the points of a sweep (common random numbers), so
two points are compared replicate by replicate: the interval of the mean paired difference is far
narrower than the two intervals side by side.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of the finite values (NaN bounds below two values)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def paired_ci(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t interval of ``a - b`` over the pairs where both are finite."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return mean_ci(a - b, level)
