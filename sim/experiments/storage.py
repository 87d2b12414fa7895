"""Results on disk: JSON that is always valid, timestamped folders that appear only when complete.

Every results folder (a run, a sweep's study, a calibration) is written under a hidden temporary
name next to its final one and renamed when everything is in it, so a failure or an interrupt
never leaves a half-written folder where a reader would look.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any


class WriteFailed(BaseException):
    """An OSError while writing results, carried past Hydra (which prints a traceback for any
    ``Exception`` a sweep raises) to the command line, which reports it in one line."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> null, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def dump_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(clean(obj), indent=2, allow_nan=False) + "\n")


def stamp() -> str:
    """The name of a results folder created now (microseconds keep two launches apart)."""
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")


@contextlib.contextmanager
def atomic_folder(final: Path) -> Iterator[Path]:
    """A temporary folder to fill, renamed to ``final`` on success and removed on failure."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
