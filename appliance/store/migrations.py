"""Schema migrations: an ordered list, recorded in `schema_migrations`, applied at open.

A database whose recorded version is newer than this code knows is refused, untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.store.connection import Connection
from appliance.store.errors import SchemaTooNewError

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "conversations, pending actions, audit records, secrets, settings", """
CREATE TABLE conversation_turns (
    id INTEGER PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'tool')),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_turns_conversation ON conversation_turns (conversation_ref, id);
CREATE INDEX ix_turns_created ON conversation_turns (created_at);

CREATE TABLE pending_actions (
    id TEXT PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments_json TEXT NOT NULL,
    summary TEXT NOT NULL,
    action_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('PROPOSED', 'AWAITING', 'CONFIRMED', 'CANCELLED', 'EXPIRED',
                                         'EXECUTING', 'DONE', 'FAILED')),
    client_request_id TEXT,
    confirmed_by TEXT,
    confirmed_at TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX ix_pending_requester ON pending_actions (conversation_ref, requester_id, state);
CREATE INDEX ix_pending_ended ON pending_actions (ended_at);

CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY,
    record_json TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    client_request_id TEXT,
    audit_entry_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_audit_created ON audit_records (created_at);
CREATE INDEX ix_audit_client_request ON audit_records (client_request_id);

-- Purge writes its cutoff here in the same transaction; the triggers refuse anything else.
CREATE TABLE audit_purge_cutoff (id INTEGER PRIMARY KEY CHECK (id = 1), cutoff TEXT NOT NULL);
INSERT INTO audit_purge_cutoff (id, cutoff) VALUES (1, '');

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
WHEN NEW.record_json IS NOT OLD.record_json OR NEW.hash IS NOT OLD.hash
     OR NEW.previous_hash IS NOT OLD.previous_hash OR NEW.created_at IS NOT OLD.created_at
     OR NEW.seq IS NOT OLD.seq OR NEW.client_request_id IS NOT OLD.client_request_id
     OR (OLD.audit_entry_id IS NOT NULL AND NEW.audit_entry_id IS NOT OLD.audit_entry_id)
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TRIGGER audit_records_no_young_delete BEFORE DELETE ON audit_records
WHEN OLD.created_at >= (SELECT cutoff FROM audit_purge_cutoff WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit records are kept for their retention period'); END;

CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""),
)  # fmt: skip
LATEST = MIGRATIONS[-1][0]


def current_version(connection: Connection) -> int:
    """The highest applied migration (0 for an empty database)."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(connection: Connection) -> int:
    """Apply every migration newer than the database, each in its own transaction; return the version."""
    version = current_version(connection)
    if version > LATEST:
        raise SchemaTooNewError(f"the store has schema version {version}; this appliance knows up to {LATEST}")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    )
    for number, name, sql in MIGRATIONS:
        if number <= version:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, datetime.now(UTC).isoformat()),
            )
            connection.execute("COMMIT")
        except Exception:
            connection.execute("ROLLBACK")
            raise
        version = number
    return version


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (trigger bodies keep their inner semicolons)."""
    out, buffer = [], ""
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        buffer += line + "\n"
        if buffer.strip().endswith(";") and (not buffer.lstrip().upper().startswith("CREATE TRIGGER")
                                             or buffer.strip().upper().endswith("END;")):  # fmt: skip
            out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        out.append(buffer.strip())
    return out
