"""`RecordFilter`: which audit records a reader asks for (the audit API and the store share it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RecordFilter:
    """Recorded in [since, until), by requester (UPN, any case), tool and outcome; after `seq`; at most `limit`."""

    since: datetime | None = None
    until: datetime | None = None
    requester: str | None = None
    tool: str | None = None
    outcome: str | None = None
    after: int = 0
    limit: int = 100
