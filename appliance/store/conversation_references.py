"""Teams conversation references: where a proactive message for a conversation goes.

Bot Framework's `ConversationReference` (service URL, conversation id, the bot and the user) is kept as
JSON, refreshed on every inbound message, so the Aid can report an outcome after a restart or update
an expired card. It lives in the encrypted store like everything else and follows conversation retention.
"""

from __future__ import annotations

from appliance.store.clock import iso, now
from appliance.store.connection import Connection


def save_reference(db: Connection, conversation_ref: str, reference_json: str) -> None:
    """Insert or replace the reference of one conversation."""
    db.execute(
        "INSERT INTO conversation_references (conversation_ref, reference_json, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (conversation_ref) DO UPDATE SET reference_json = excluded.reference_json, "
        "updated_at = excluded.updated_at",
        (conversation_ref, reference_json, iso(now())),
    )


def load_reference(db: Connection, conversation_ref: str) -> str | None:
    """The stored reference JSON, or None if this conversation was never seen (or was purged)."""
    row = db.execute(
        "SELECT reference_json FROM conversation_references WHERE conversation_ref = ?", (conversation_ref,)
    ).fetchone()
    return str(row[0]) if row else None
