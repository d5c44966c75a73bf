"""The dev tenant's clock and the delay before a directory audit entry can be read.

Microsoft states how late Entra's activity logs are: audit logs appear within 2 minutes at the 95th
percentile and 5 minutes at the 99th (MicrosoftDocs/azure-docs,
articles/active-directory/reports-monitoring/reference-reports-latencies.md, "Activity reports";
now MicrosoftDocs/entra-docs docs/identity/monitoring-health/reference-reports-latencies.md).
Tests play those minutes on a simulated clock (`TenantClock.advance`) instead of waiting for them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PROFILES = ("instant", "dev", "reported")


class TenantClock:
    """Wall-clock time plus an offset that tests move forward (`advance`); thread-safe."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The tenant's idea of now (UTC)."""
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the tenant's clock forward by `seconds`; returns the new now."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()


@dataclass
class AuditLatency:
    """How long after a write its directory audit entry becomes readable.

    - `instant`: at once (unit-level tests of other behaviour).
    - `dev` (default): `seconds` (a few seconds, so the appliance never relies on an entry being there at once).
    - `reported`: sampled like Microsoft's published latency: 95% within 2 minutes, 99% within 5, the rest
      within 10 (seeded, so a test run is repeatable).
    - any profile with `seconds` set and name `fixed`: exactly that many seconds.
    """

    profile: str = "dev"
    seconds: float = 3.0
    seed: int = 7

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def sample(self) -> timedelta:
        """The delay for one new entry."""
        if self.profile == "instant":
            return timedelta()
        if self.profile == "reported":
            draw = self._random.random()
            if draw < 0.95:
                return timedelta(seconds=self._random.uniform(5, 120))
            if draw < 0.99:
                return timedelta(seconds=self._random.uniform(120, 300))
            return timedelta(seconds=self._random.uniform(300, 600))
        return timedelta(seconds=self.seconds)

    @classmethod
    def fixed(cls, seconds: float) -> AuditLatency:
        """Every entry appears exactly `seconds` after its write (on the tenant's clock)."""
        return cls("fixed", seconds)
