"""Fault injection for the tests: a sweep point or study world that kills its own worker.

``DISTILLSIM_KILL_POINT=<override>`` (sweeps) and ``DISTILLSIM_KILL_SAMPLE=<sample>`` (studies)
make the process running the matching point or world SIGKILL itself, as the out-of-memory
killer would; with ``:once:<marker file>`` appended it does so only the first time. Unset (the
only case outside the tests), nothing happens.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path


def kill_if_injected(variable: str, matches: Callable[[str], bool]) -> None:
    """SIGKILL this process if ``variable`` names a target that ``matches``."""
    spec = os.environ.get(variable)
    if not spec:
        return
    target, _, marker = spec.partition(":once:")
    if not matches(target):
        return
    if marker:
        if os.path.exists(marker):
            return
        Path(marker).touch()
    os.kill(os.getpid(), signal.SIGKILL)
