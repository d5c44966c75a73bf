"""Messages Teams would not take (after the retries Teams documents): kept to be sent again later, and
listed by `appliance audit verify` so a reviewer sees what a person was never told."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from appliance.store.clock import iso, now
from appliance.store.connection import Connection

RETRY_AFTER = timedelta(minutes=5)


def keep(db: Connection, conversation_ref: str, text: str, reason: str, moment: datetime | None = None) -> int:
    """Keep one undelivered message; returns its id."""
    stamp = moment or now()
    cursor = db.execute(
        "INSERT INTO undelivered_messages (conversation_ref, text, reason, created_at, next_try_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (conversation_ref, text, reason[:200], iso(stamp), iso(stamp + RETRY_AFTER)),
    )
    return int(cursor.lastrowid or 0)


def due(db: Connection, moment: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Undelivered messages whose next try is due, oldest first."""
    rows = db.execute(
        "SELECT id, conversation_ref, text, reason, attempts FROM undelivered_messages "
        "WHERE delivered_at IS NULL AND next_try_at <= ? ORDER BY id LIMIT ?",
        (iso(moment or now()), limit),
    ).fetchall()
    return [dict(zip(("id", "conversation_ref", "text", "reason", "attempts"), row, strict=True)) for row in rows]


def delivered(db: Connection, message_id: int, moment: datetime | None = None) -> None:
    """Mark a kept message delivered."""
    db.execute("UPDATE undelivered_messages SET delivered_at = ? WHERE id = ?", (iso(moment or now()), message_id))


def try_later(db: Connection, message_id: int, reason: str, moment: datetime | None = None) -> None:
    """Another try failed: count it and wait longer (5 min times the attempts so far)."""
    db.execute(
        "UPDATE undelivered_messages SET attempts = attempts + 1, reason = ?, "
        "next_try_at = ? WHERE id = ?",
        (reason[:200], iso((moment or now()) + RETRY_AFTER * 2), message_id),
    )


def still_undelivered(db: Connection) -> list[dict[str, Any]]:
    """Every message not delivered yet (for `appliance audit verify`)."""
    rows = db.execute(
        "SELECT id, conversation_ref, text, reason, attempts, created_at FROM undelivered_messages "
        "WHERE delivered_at IS NULL ORDER BY id"
    ).fetchall()
    keys = ("id", "conversation_ref", "text", "reason", "attempts", "created_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]
