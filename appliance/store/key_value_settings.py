"""Key/value settings: small pieces of plain state (e.g. the audit chain's anchor). Never secrets:
those go through `secrets.py`, sealed."""

from __future__ import annotations

from appliance.store.clock import iso, now
from appliance.store.connection import Connection


def get_setting(db: Connection, key: str) -> str | None:
    """The value of `key`, or None if it was never set."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def set_setting(db: Connection, key: str, value: str) -> None:
    """Set `key` to `value` (insert or replace)."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def delete_setting(db: Connection, key: str) -> bool:
    """Remove `key`; True if it existed."""
    return db.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount > 0


def all_settings(db: Connection) -> dict[str, str]:
    """Every setting (for `store info` and tests)."""
    return {str(key): str(value) for key, value in db.execute("SELECT key, value FROM settings ORDER BY key")}


def touch(db: Connection, key: str) -> str:
    """Set `key` to the current time (ISO-8601) and return it; e.g. `retention.last_purge_at`."""
    stamp = iso(now())
    set_setting(db, key, stamp)
    return stamp
