"""Run a block as on a machine in another time zone (TZ + time.tzset), then restore the zone.

For tests that prove a timestamp is written in UTC whatever the machine's own zone is: on a machine
that already runs in UTC, `astimezone()` and `astimezone(UTC)` cannot be told apart."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """The process's local time zone is `name` inside the block."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
