"""Compiled (numba) loops for the per-account work numpy cannot vectorise without extra passes.

Each kernel computes exactly what the numpy expression it replaces does (same float32
arithmetic, same order), so results are bit-identical; ``tests/test_maths.py`` checks them
against those expressions. ``cache=True`` keeps the compiled code in ``__pycache__`` so a
worker process loads it instead of compiling it again.
"""

from __future__ import annotations

import math
import os
import tempfile

import numba
import numpy as np


def njit(fn=None, **options):
    """``numba.njit(cache=True, **options)``. Numba caches next to the source if it can write
    there, else in the user's cache directory; if it can write neither it refuses to decorate,
    so then the cache goes to a temporary directory instead."""

    def decorate(f):
        try:
            return numba.njit(cache=True, **options)(f)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            numba.config.CACHE_DIR = os.path.join(tempfile.gettempdir(), "distillsim-numba")
            return numba.njit(cache=True, **options)(f)

    return decorate if fn is None else decorate(fn)


#: Cell keys are m-bin × 32 + t-bin with m-bins 0..1000 and t-bins 0..31.
N_KEYS = 1001 * 32


@njit(nogil=True)
def mean_cells(m, lo, inv_width, t, has_t):  # pragma: no cover - compiled
    """The cells of :class:`sim.signal.PersistentMeanSampler`: the accounts ordered by cell key
    (a stable counting sort, the permutation a stable argsort gives), each non-empty cell's
    start in that order, its size and its key.

    The key of account i is ``(clip(floor((m_i − lo)·inv_width), −1, 999) + 1)·32 + tb_i`` in
    float32 arithmetic, ``tb_i`` the power-of-two bin of its test factor (0 without one).
    """
    n = m.size
    key = np.empty(n, np.int16)
    hist = np.zeros(N_KEYS, np.int64)
    floor_t = np.float32(2.0**-40)
    for i in range(n):
        x = np.floor((m[i] - lo) * inv_width)
        if x < -1:
            x = np.float32(-1)
        elif x > 999:
            x = np.float32(999)
        k = (int(x) + 1) * 32
        if has_t:
            ti = t[i]
            if ti <= 0:
                k += 31  # never tested
            else:
                mant, e = math.frexp(max(ti, floor_t))
                if mant == 0.5:
                    e -= 1
                k += min(max(-e, 0), 30)
        key[i] = k
        hist[k] += 1
    cells = 0
    for k in range(N_KEYS):
        if hist[k] > 0:
            cells += 1
    starts = np.empty(cells, np.int64)
    counts = np.empty(cells, np.int64)
    keys = np.empty(cells, np.int64)
    pos = np.empty(N_KEYS, np.int64)
    c = 0
    at = 0
    for k in range(N_KEYS):
        if hist[k] > 0:
            starts[c] = at
            counts[c] = hist[k]
            keys[c] = k
            pos[k] = at
            at += hist[k]
            c += 1
    order = np.empty(n, np.int64)
    for i in range(n):
        k = key[i]
        order[pos[k]] = i
        pos[k] += 1
    return order, starts, counts, keys
