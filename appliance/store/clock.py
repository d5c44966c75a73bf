"""Timestamps as ISO-8601 UTC text (sortable as strings, which retention relies on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`2026-05-21T10:14:05.123456+00:00`: fixed width, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def days_ago(days: int, moment: datetime | None = None) -> str:
    """The ISO time `days` before `moment` (default now)."""
    return iso((moment or now()) - timedelta(days=days))
