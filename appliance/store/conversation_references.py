"""Teams conversation references: where a proactive message for a conversation goes.

Bot Framework's `ConversationReference` (service URL, conversation id, the bot and the user) is kept as
JSON, refreshed on every inbound message, so the Aid can report an outcome after a restart or update
an expired card. It lives in the encrypted store like everything else and follows conversation retention.
"""

from __future__ import annotations

from appliance.store.clock import iso, now
from appliance.store.connection import Connection


def save_reference(db: Connection, conversation_ref: str, reference_json: str, person_id: str | None = None) -> None:
    """Insert or replace the reference of one conversation (and whose 1:1 chat it is)."""
    db.execute(
        "INSERT INTO conversation_references (conversation_ref, reference_json, updated_at, person_id) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (conversation_ref) DO UPDATE SET reference_json = excluded.reference_json, "
        "updated_at = excluded.updated_at, person_id = coalesce(excluded.person_id, person_id)",
        (conversation_ref, reference_json, iso(now()), person_id),
    )


def load_reference(db: Connection, conversation_ref: str) -> str | None:
    """The stored reference JSON, or None if this conversation was never seen (or was purged)."""
    row = db.execute(
        "SELECT reference_json FROM conversation_references WHERE conversation_ref = ?", (conversation_ref,)
    ).fetchone()
    return str(row[0]) if row else None


def conversation_of_person(db: Connection, person_id: str) -> str | None:
    """The newest 1:1 conversation of a person (by Entra object id) with the Aid, or None."""
    row = db.execute(
        "SELECT conversation_ref FROM conversation_references WHERE person_id = ? ORDER BY updated_at DESC LIMIT 1",
        (person_id,),
    ).fetchone()
    return str(row[0]) if row else None


def owner_of(db: Connection, conversation_ref: str) -> str | None:
    """The object id of the person a stored conversation belongs to, or None if it is not stored (or was
    stored before people were recorded)."""
    row = db.execute(
        "SELECT person_id FROM conversation_references WHERE conversation_ref = ?", (conversation_ref,)
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def conversations_of(db: Connection, person_id: str) -> int:
    """How many conversations are stored for one person (the edge caps it per sender)."""
    return int(db.execute("SELECT count(*) FROM conversation_references WHERE person_id = ?", (person_id,))
               .fetchone()[0])
