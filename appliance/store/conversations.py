"""Conversation turns: what the user wrote and tool-result shapes, with timestamps.

Context is bounded: each conversation keeps at most `MAX_TURNS_PER_CONVERSATION` turns (older ones
are dropped as new ones arrive), and retention removes turns older than their lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import get_args

from appliance.store.clock import iso, now
from appliance.store.connection import Connection, transaction
from appliance.store.errors import StoreError
from appliance.types import ContextMessage, Role

MAX_TURN_CHARS = 20_000
MAX_TURNS_PER_CONVERSATION = 50
ROLES = frozenset(get_args(Role))


@dataclass(frozen=True)
class Turn:
    """One stored turn."""

    id: int
    conversation_ref: str
    role: Role
    text: str
    created_at: str


def append_turn(
    db: Connection, conversation_ref: str, role: str, text: str, *, keep_last: int = MAX_TURNS_PER_CONVERSATION
) -> int:
    """Append a turn (text cut at MAX_TURN_CHARS); drop the conversation's turns beyond the newest `keep_last`."""
    if role not in ROLES:
        raise StoreError(f"a turn's role is one of {sorted(ROLES)}, not {role!r}", hint="This is a bug in the caller.")
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO conversation_turns (conversation_ref, role, text, created_at) VALUES (?, ?, ?, ?)",
            (conversation_ref, role, text[:MAX_TURN_CHARS], iso(now())),
        )
        oldest_kept = db.execute(
            "SELECT id FROM conversation_turns WHERE conversation_ref = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
            (conversation_ref, keep_last - 1),
        ).fetchone()
        if oldest_kept is not None:
            db.execute(
                "DELETE FROM conversation_turns WHERE conversation_ref = ? AND id < ?",
                (conversation_ref, oldest_kept[0]),
            )
    return int(cursor.lastrowid or 0)


def recent_turns(db: Connection, conversation_ref: str, limit: int = 20) -> list[Turn]:
    """The newest `limit` turns of a conversation, oldest first."""
    rows = db.execute(
        "SELECT id, conversation_ref, role, text, created_at FROM conversation_turns "
        "WHERE conversation_ref = ? ORDER BY id DESC LIMIT ?",
        (conversation_ref, limit),
    ).fetchall()
    return [Turn(*row) for row in reversed(rows)]


def context_messages(db: Connection, conversation_ref: str, limit: int = 20) -> list[ContextMessage]:
    """The newest `limit` turns as the model's context messages, oldest first."""
    return [ContextMessage(role=turn.role, text=turn.text) for turn in recent_turns(db, conversation_ref, limit)]


def iter_turns(db: Connection) -> Iterator[Turn]:
    """Every stored turn, oldest first (for export)."""
    for row in db.execute("SELECT id, conversation_ref, role, text, created_at FROM conversation_turns ORDER BY id"):
        yield Turn(*row)


def forget_conversation(db: Connection, conversation_ref: str) -> int:
    """Delete every turn of one conversation (a person's erasure request); returns how many."""
    return db.execute("DELETE FROM conversation_turns WHERE conversation_ref = ?", (conversation_ref,)).rowcount
