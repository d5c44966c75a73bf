"""One `serve` per store, and no offline store surgery (restore, key rotation) while it runs.

`appliance serve` holds an exclusive `flock` on `$APPLIANCE_HOME/serve.lock` for its lifetime; the
kernel drops it when the process ends, however it ends (kill -9 included), so a stale lock is impossible.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from appliance.store.errors import StoreError

LOCK_NAME = "serve.lock"


class ServeRunningError(StoreError):
    """`appliance serve` is running on this store."""

    hint = "Stop `appliance serve` (scale the Deployment to 0 in Kubernetes), then run the command again."


def hold(home: Path) -> IO[bytes]:
    """Take the serve lock for this process (keep the returned file open); ServeRunningError if taken."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.fdopen(os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600), "r+b")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ServeRunningError(f"another `appliance serve` is already running on {home}") from None
    return handle


def refuse_while_serving(home: Path, what: str) -> None:
    """Raise ServeRunningError if a `serve` holds the lock of `home` (checked without keeping it)."""
    path = home / LOCK_NAME
    if not path.exists():
        return
    with path.open("rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServeRunningError(f"`appliance serve` is running on {home}; refusing to {what} under it") from None
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
