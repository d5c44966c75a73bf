"""Teams activities already handled: each activity id starts at most one turn, across restarts.

Bot Framework and Teams redeliver an activity when they did not see our answer in time, and a captured
channel token can replay one for as long as the token lives. `claim` records the activity's key in the
same transaction that checks it, so a second delivery (even a concurrent one, even after a restart) is
told "already handled". Keys are kept for `KEEP`, longer than any token the edge accepts can live
(`teams/auth.py` refuses tokens valid for more than `MAX_TOKEN_SECONDS`); every claim sweeps a few
keys older than that, and retention's purge sweeps the rest, so the table cannot grow without bound.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.store.clock import iso, now
from appliance.store.connection import Connection, transaction

KEEP = timedelta(hours=24)
SWEEP_PER_CLAIM = 8


def activity_key(conversation_id: str, activity_id: str) -> str:
    """The key one inbound activity is remembered by (activity ids are unique within a conversation)."""
    return f"{conversation_id}\n{activity_id}"


def claim(db: Connection, key: str, moment: datetime | None = None) -> bool:
    """True the first time `key` is claimed (the caller may run the turn); False for a redelivery.

    In the same transaction, up to `SWEEP_PER_CLAIM` keys older than `KEEP` are deleted.
    """
    at = moment or now()
    with transaction(db):
        db.execute(
            "DELETE FROM handled_activities WHERE activity_key IN (SELECT activity_key FROM handled_activities "
            "WHERE handled_at < ? ORDER BY handled_at LIMIT ?)",
            (iso(at - KEEP), SWEEP_PER_CLAIM),
        )
        cursor = db.execute(
            "INSERT INTO handled_activities (activity_key, handled_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, iso(at)),
        )
        return cursor.rowcount == 1


def sweep(db: Connection, moment: datetime | None = None) -> int:
    """Delete every key older than `KEEP`; returns how many (retention's purge calls it)."""
    cutoff = iso((moment or now()) - KEEP)
    return int(db.execute("DELETE FROM handled_activities WHERE handled_at < ?", (cutoff,)).rowcount)


def count(db: Connection) -> int:
    """How many activity keys are remembered (for `store info` and tests)."""
    return int(db.execute("SELECT count(*) FROM handled_activities").fetchone()[0])
