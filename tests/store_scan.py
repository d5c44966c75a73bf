"""Read every value of every table of a decrypted store: for tests that prove something is nowhere in it."""

from __future__ import annotations

from appliance.store.connection import Connection


def every_value(db: Connection) -> str:
    """Every cell of every table (text as is, blobs decoded leniently), one per line."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "audit_records" in tables and "conversation_turns" in tables  # the scan sees the real schema
    cells: list[str] = []
    for table in tables:
        for row in db.execute(f'SELECT * FROM "{table}"'):
            cells += [value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value) for value in row]
    return "\n".join(cells)
