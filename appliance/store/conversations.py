"""Conversation turns: what the user wrote and tool-result shapes, with timestamps."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.store.clock import iso, now
from appliance.store.connection import Connection

MAX_TURN_CHARS = 20_000


@dataclass(frozen=True)
class Turn:
    """One stored turn."""

    id: int
    conversation_ref: str
    role: str
    text: str
    created_at: str


def append_turn(db: Connection, conversation_ref: str, role: str, text: str, *, keep_last: int = 50) -> int:
    """Append a turn; keep at most `keep_last` turns per conversation (older ones are dropped)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        cursor = db.execute(
            "INSERT INTO conversation_turns (conversation_ref, role, text, created_at) VALUES (?, ?, ?, ?)",
            (conversation_ref, role, text[:MAX_TURN_CHARS], iso(now())),
        )
        db.execute(
            "DELETE FROM conversation_turns WHERE conversation_ref = ? AND id NOT IN "
            "(SELECT id FROM conversation_turns WHERE conversation_ref = ? ORDER BY id DESC LIMIT ?)",
            (conversation_ref, conversation_ref, keep_last),
        )
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return int(cursor.lastrowid)


def recent_turns(db: Connection, conversation_ref: str, limit: int = 20) -> list[Turn]:
    """The newest `limit` turns of a conversation, oldest first."""
    rows = db.execute(
        "SELECT id, conversation_ref, role, text, created_at FROM conversation_turns "
        "WHERE conversation_ref = ? ORDER BY id DESC LIMIT ?",
        (conversation_ref, limit),
    ).fetchall()
    return [Turn(*row) for row in reversed(rows)]


def all_turns(db: Connection) -> list[Turn]:
    """Every stored turn (for export), oldest first."""
    rows = db.execute(
        "SELECT id, conversation_ref, role, text, created_at FROM conversation_turns ORDER BY id"
    ).fetchall()
    return [Turn(*row) for row in rows]
