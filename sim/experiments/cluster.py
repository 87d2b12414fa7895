"""Ray: join a cluster (or start a local instance) the way both sweeps and studies need.

Two things break a plain ``ray.init`` against a cluster started with ``ray start --head``:

- the Hydra Ray launcher passes a default ``object_store_memory``, which Ray refuses when it
  connects to an existing cluster ("object_store_memory must not be provided");
- Ray >= 2.5x starts clusters with token authentication; a driver (and a joining node) must run
  with ``RAY_AUTH_MODE=token`` and the cluster's token (``~/.ray/auth_token``, or
  ``RAY_AUTH_TOKEN`` / ``RAY_AUTH_TOKEN_PATH``).

:func:`connect` connects once per process with only the settings given, turning token mode on
when a token is available and the user has not chosen a mode; Hydra's launcher then finds Ray
initialised and does not call ``ray.init`` itself. Without an address it always starts a
local instance of its own, never one another process left running.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def token_available() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    return Path(path).is_file()


def connect(address: str | None = None, **init: Any) -> None:
    """Join the cluster at ``address`` (``auto``, ``host:port``), or start a local Ray."""
    import ray

    if ray.is_initialized():
        return
    init = {k: v for k, v in init.items() if v is not None}
    if address:
        init.pop("object_store_memory", None)  # only a new local instance may size it
        if "RAY_AUTH_MODE" not in os.environ and token_available():
            os.environ["RAY_AUTH_MODE"] = "token"
        # Workers run the installed package, not the driver's working directory.
        ray.init(address=address, log_to_driver=False, **init)
    else:
        init.setdefault("include_dashboard", False)
        # "local" always starts a private instance: a bare ray.init() would join whatever
        # cluster RAY_ADDRESS or /tmp/ray/ray_current_cluster names (and then refuse num_cpus).
        ray.init(address="local", log_to_driver=False, **init)


def launcher_init(overrides: list[str]) -> dict[str, Any] | None:
    """The ``ray.init`` settings a sweep's overrides give the Hydra Ray launcher, or None when
    the sweep does not use it."""
    import yaml

    if not any(o.split("=", 1)[0] == "hydra/launcher" and o.endswith("=ray") for o in overrides):
        return None
    prefix = "hydra.launcher.ray.init."
    out: dict[str, Any] = {}
    for o in overrides:
        key, _, value = o.lstrip("+~").partition("=")
        if key.startswith(prefix):
            out[key[len(prefix) :]] = yaml.safe_load(value) if value else None
    return out
