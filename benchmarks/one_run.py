"""N full-scale runs of ``alibaba_2026`` from a source tree, for instruction counts.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/one_run.py <tree> N

Callgrind's "Collected" total for N = 2 minus N = 0, halved, is the instructions of one run
(imports and composition cancel): repeatable whatever else the machine is doing.
"""

from __future__ import annotations

import dataclasses
import sys

sys.path.insert(0, sys.argv[1])

from sim.configuration import load  # noqa: E402
from sim.model import DistillationModel  # noqa: E402

cfg = load(["scenario=alibaba_2026", "output.progress=off"]).cfg
for s in range(int(sys.argv[2])):
    m = DistillationModel(dataclasses.replace(cfg, seed=s))
    m.run()
    m.release()
