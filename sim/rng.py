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
