"""Random streams: one independent child stream per model component (MODEL §10).

A run's streams derive from ``SeedSequence(seed)``; replicate ``i`` of a sweep with root seed ``r``
uses ``SeedSequence(r, spawn_key=(i,))``. Each component gets a child keyed by a stable hash of its
name, so adding a component never shifts another component's draws.
"""

from __future__ import annotations

import zlib

import numpy as np


def root_sequence(seed: int, replicate: int | None = None) -> np.random.SeedSequence:
    """The root SeedSequence of a run (or of replicate ``replicate`` of a sweep)."""
    if replicate is None:
        return np.random.SeedSequence(seed)
    return np.random.SeedSequence(seed, spawn_key=(replicate,))


class Streams:
    """Named, independent generators derived from one root SeedSequence."""

    def __init__(self, root: np.random.SeedSequence) -> None:
        self.root = root
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            key = zlib.crc32(name.encode())
            child = np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, key))
            gen = np.random.Generator(np.random.PCG64(child))
            self._cache[name] = gen
        return gen


class BlockDraws:
    """Scalar draws served from pre-drawn blocks (one numpy call per block, not per draw).

    For code that needs one number at a time in a Python loop (a review decision, a service
    time): the values come from the generator in the same order as scalar calls would.
    """

    def __init__(self, rng: np.random.Generator, block: int = 4096) -> None:
        self.rng = rng
        self.block = block
        self._u: list[float] = []
        self._z: list[float] = []

    def uniform(self) -> float:
        if not self._u:
            self._u = self.rng.random(self.block).tolist()[::-1]
        return self._u.pop()

    def normal(self) -> float:
        if not self._z:
            self._z = self.rng.standard_normal(self.block).tolist()[::-1]
        return self._z.pop()


class DrawBuffer:
    """A generator's draws of one kind (uniforms or standard normals) served in order from a
    buffer that compiled code can read too (:attr:`buf` from :attr:`pos`).

    For a stream used only through it: whoever takes them, the values are the generator's own
    sequence, as one ``random(n)`` or ``standard_normal(n)`` call after another would give.
    """

    def __init__(self, rng: np.random.Generator, normal: bool, block: int = 4096) -> None:
        self.rng = rng
        self.normal = normal
        self.block = block
        self.buf = np.empty(0)
        self.pos = 0

    def ensure(self, n: int) -> None:
        """At least ``n`` draws in the buffer from :attr:`pos` (which becomes 0)."""
        left = self.buf.size - self.pos
        if left >= n:
            return
        k = max(self.block, n - left)
        new = self.rng.standard_normal(k) if self.normal else self.rng.random(k)
        self.buf = np.concatenate([self.buf[self.pos :], new]) if left else new
        self.pos = 0

    def _take(self, size):
        if size is None:
            if self.pos >= self.buf.size:
                self.ensure(1)
            v = float(self.buf[self.pos])
            self.pos += 1
            return v
        n = int(size)
        self.ensure(n)
        out = self.buf[self.pos : self.pos + n].copy()
        self.pos += n
        return out

    def random(self, size: int | None = None):
        """Uniforms on [0, 1), as ``Generator.random``."""
        assert not self.normal
        return self._take(size)

    def standard_normal(self, size: int | None = None):
        """Standard normals, as ``Generator.standard_normal``."""
        assert self.normal
        return self._take(size)


#: Recent large draws: (stream state before, size) -> (the draws, read-only; state after).
_REPLAYS: dict[tuple[str, int], tuple[np.ndarray, dict]] = {}
_REPLAYS_KEPT = 8


def standard_normal_f32(rng: np.random.Generator, n: int) -> np.ndarray:
    """``rng.standard_normal(n, dtype=float32)``, read-only, replayed when the stream is where
    it was at a recent call of the same size.

    A study plays every sampled world from the same seed (common random numbers), so the
    streams that draw a million persistent terms at set-up (legitimate usage, each detector's
    persistent scores) start from the same state in world after world: the same numbers, and
    the stream is left exactly where the draw would leave it.
    """
    before = repr(rng.bit_generator.state)
    hit = _REPLAYS.get((before, n))
    if hit is not None:
        rng.bit_generator.state = hit[1]
        return hit[0]
    out = rng.standard_normal(n, dtype=np.float32)
    out.flags.writeable = False
    if len(_REPLAYS) >= _REPLAYS_KEPT:
        _REPLAYS.pop(next(iter(_REPLAYS)))  # the oldest
    _REPLAYS[(before, n)] = (out, rng.bit_generator.state)
    return out
