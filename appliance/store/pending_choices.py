"""Choice cards waiting for a pick (`PendingChoice`), taken at most once by their requester."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from appliance.store.clock import iso, now
from appliance.store.connection import Connection
from appliance.types import DirectoryEntry, PendingChoice


def save_choice(db: Connection, choice: PendingChoice) -> None:
    """Insert an open choice."""
    blob = json.dumps(asdict(choice), ensure_ascii=False, sort_keys=True)
    db.execute(
        "INSERT INTO pending_choices (id, conversation_ref, requester_id, choice_json, state, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, 'OPEN', ?, ?)",
        (choice.id, choice.conversation_ref, choice.requester_id, blob, iso(now()),
         iso(datetime.fromisoformat(choice.expires_at))),
    )


def take_choice(db: Connection, choice_id: str, requester_id: str, moment: datetime) -> PendingChoice | None:
    """OPEN -> TAKEN in one conditional UPDATE (same requester, not expired); the choice, or None."""
    cursor = db.execute(
        "UPDATE pending_choices SET state = 'TAKEN' WHERE id = ? AND requester_id = ? AND state = 'OPEN' "
        "AND expires_at > ?",
        (choice_id, requester_id, iso(moment)),
    )
    if cursor.rowcount != 1:
        return None
    row = db.execute("SELECT choice_json FROM pending_choices WHERE id = ?", (choice_id,)).fetchone()
    raw = json.loads(row[0])
    raw["options"] = tuple(DirectoryEntry(**option) for option in raw["options"])
    return PendingChoice(**raw)


def purge_choices(db: Connection, before: datetime) -> int:
    """Delete choices that expired before `before` (they hold names: personal data)."""
    return int(db.execute("DELETE FROM pending_choices WHERE expires_at < ?", (iso(before),)).rowcount)
