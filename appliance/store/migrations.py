"""Schema migrations: an ordered list, recorded in `schema_migrations`, applied at open.

A database whose recorded version is newer than this code knows is refused, untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from appliance.store.clock import iso, now
from appliance.store.connection import Connection, transaction
from appliance.store.errors import SchemaTooNewError

Migration = tuple[int, str, str]  # (version, name, SQL)

MIGRATIONS: tuple[Migration, ...] = (
    (1, "conversations, pending actions, audit records, secrets, settings", """
CREATE TABLE conversation_turns (
    id INTEGER PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'tool')),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_turns_conversation ON conversation_turns (conversation_ref, id);

CREATE TABLE pending_actions (
    id TEXT PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments_json TEXT NOT NULL,
    summary TEXT NOT NULL,
    action_hash TEXT NOT NULL,
    -- an OR chain, not IN (...): SQLite builds a temporary table per row for an IN list this long
    state TEXT NOT NULL CHECK (state = 'PROPOSED' OR state = 'AWAITING' OR state = 'CONFIRMED'
        OR state = 'CANCELLED' OR state = 'EXPIRED' OR state = 'EXECUTING' OR state = 'DONE' OR state = 'FAILED'),
    client_request_id TEXT,
    confirmed_by TEXT,
    confirmed_at TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT
) WITHOUT ROWID;
-- state is left out on purpose: a state change then rewrites only the table's page, not an index page too
CREATE INDEX ix_pending_requester ON pending_actions (conversation_ref, requester_id);

-- record_json is the hashed record (the truth); the other columns are projections of it for queries,
-- checked against it by verify. Only audit_entry_id (not hashed) may be set later, once.
CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY,
    record_json TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    audit_entry_id TEXT,
    requested_by TEXT,
    conversation_ref TEXT,
    tool_name TEXT,
    outcome TEXT,
    client_request_id TEXT,
    graph_request_id TEXT,
    executed_at TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX ix_audit_recorded ON audit_records (recorded_at);
CREATE INDEX ix_audit_client_request ON audit_records (client_request_id);

-- Purge writes its cutoff here inside its own transaction; the triggers refuse everything else.
CREATE TABLE audit_purge_cutoff (id INTEGER PRIMARY KEY CHECK (id = 1), cutoff TEXT NOT NULL);
INSERT INTO audit_purge_cutoff (id, cutoff) VALUES (1, '');

CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON audit_records
WHEN NEW.seq IS NOT OLD.seq OR NEW.record_json IS NOT OLD.record_json OR NEW.hash IS NOT OLD.hash
     OR NEW.previous_hash IS NOT OLD.previous_hash OR NEW.requested_by IS NOT OLD.requested_by
     OR NEW.conversation_ref IS NOT OLD.conversation_ref OR NEW.tool_name IS NOT OLD.tool_name
     OR NEW.outcome IS NOT OLD.outcome OR NEW.client_request_id IS NOT OLD.client_request_id
     OR NEW.graph_request_id IS NOT OLD.graph_request_id OR NEW.executed_at IS NOT OLD.executed_at
     OR NEW.recorded_at IS NOT OLD.recorded_at
     OR (OLD.audit_entry_id IS NOT NULL AND NEW.audit_entry_id IS NOT OLD.audit_entry_id)
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TRIGGER audit_records_kept_for_retention BEFORE DELETE ON audit_records
WHEN OLD.recorded_at >= (SELECT cutoff FROM audit_purge_cutoff WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit records are kept for their retention period'); END;

CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""),
    (2, "who asked and through which model, the confirmation card, Teams conversation references", """
ALTER TABLE pending_actions ADD COLUMN requester_upn TEXT;
ALTER TABLE pending_actions ADD COLUMN orchestrator TEXT;
ALTER TABLE pending_actions ADD COLUMN card_activity_id TEXT;

-- Where to send a proactive message (an outcome after a restart, an expired card): Bot Framework's
-- conversation reference as JSON, one per conversation, refreshed on every inbound message.
CREATE TABLE conversation_references (
    conversation_ref TEXT PRIMARY KEY,
    reference_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
"""),
    (3, "two-person rule: the requester's own confirmation and the second approver; who is in a conversation", """
ALTER TABLE pending_actions ADD COLUMN requester_confirmed_at TEXT;
ALTER TABLE pending_actions ADD COLUMN approver_upn TEXT;
ALTER TABLE conversation_references ADD COLUMN person_id TEXT;
CREATE INDEX ix_references_person ON conversation_references (person_id);
"""),
    (4, "when EXECUTING began (the audit-log search window of a write); messages Teams would not take", """
ALTER TABLE pending_actions ADD COLUMN executing_at TEXT;
UPDATE pending_actions SET executing_at = updated_at WHERE state = 'EXECUTING';

-- A message Teams would not take after the documented retries (e.g. 403 ConversationBlockedByUser): kept
-- so the upkeep loop can try again later and `appliance audit verify` can say it was not delivered.
CREATE TABLE undelivered_messages (
    id INTEGER PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    next_try_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX ix_undelivered_due ON undelivered_messages (delivered_at, next_try_at);
"""),
    (5, "Teams activities already handled (at most once, across restarts); the card's typed-confirmation code", """
-- One row per inbound activity that started a turn: a redelivery of the same id is acknowledged and not
-- run again. Rows older than handled_activities.KEEP are swept (store/handled_activities.py).
CREATE TABLE handled_activities (
    activity_key TEXT PRIMARY KEY,
    handled_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ix_handled_activities_at ON handled_activities (handled_at);
ALTER TABLE pending_actions ADD COLUMN confirm_code TEXT;
"""),
    # 6-8 are taken by other branches of this release; 9 is issue 12's; 4 and 10 are the fidelity branch's.
    (9, "choice cards (which of several people was meant); operator models and their qualification runs", """
CREATE TABLE pending_choices (
    id TEXT PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    choice_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state = 'OPEN' OR state = 'TAKEN'),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;

-- A model the operator placed (`appliance models add`): its pinned sha256 and what its GGUF says.
CREATE TABLE operator_models (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    added_at TEXT NOT NULL
) WITHOUT ROWID;

-- `appliance models qualify`: one row per run, bound to the model file's sha256 and the sets' sha256.
CREATE TABLE model_qualifications (
    id INTEGER PRIMARY KEY,
    model_key TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    sets_sha256 TEXT NOT NULL,
    passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
    report_json TEXT NOT NULL,
    qualified_at TEXT NOT NULL
);
CREATE INDEX ix_qualifications_model ON model_qualifications (model_sha256, id);
"""),
    # A rebuild lists every column, so it must run after every migration that adds one to pending_actions:
    # it is numbered after them (4 only adds columns, so it may land in any order). A later migration that
    # adds a column to pending_actions takes a number above this one.
    (10, "UNKNOWN outcomes: a write whose answer was lost, settled later from the directory audit log", """
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with UNKNOWN allowed
-- (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
CREATE TABLE pending_actions_v10 (
    id TEXT PRIMARY KEY,
    conversation_ref TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments_json TEXT NOT NULL,
    summary TEXT NOT NULL,
    action_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state = 'PROPOSED' OR state = 'AWAITING' OR state = 'CONFIRMED'
        OR state = 'CANCELLED' OR state = 'EXPIRED' OR state = 'EXECUTING' OR state = 'DONE' OR state = 'FAILED'
        OR state = 'UNKNOWN'),
    client_request_id TEXT,
    confirmed_by TEXT,
    confirmed_at TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT,
    requester_upn TEXT,
    orchestrator TEXT,
    card_activity_id TEXT,
    requester_confirmed_at TEXT,
    approver_upn TEXT,
    executing_at TEXT,
    confirm_code TEXT
) WITHOUT ROWID;
INSERT INTO pending_actions_v10 (id, conversation_ref, requester_id, tool, arguments_json, summary, action_hash,
    state, client_request_id, confirmed_by, confirmed_at, created_at, expires_at, updated_at, ended_at,
    requester_upn, orchestrator, card_activity_id, requester_confirmed_at, approver_upn, executing_at, confirm_code)
SELECT id, conversation_ref, requester_id, tool, arguments_json, summary, action_hash,
    state, client_request_id, confirmed_by, confirmed_at, created_at, expires_at, updated_at, ended_at,
    requester_upn, orchestrator, card_activity_id, requester_confirmed_at, approver_upn, executing_at, confirm_code
FROM pending_actions;
DROP TABLE pending_actions;
ALTER TABLE pending_actions_v10 RENAME TO pending_actions;
CREATE INDEX ix_pending_requester ON pending_actions (conversation_ref, requester_id);
"""),
    (11, "how a record's M365 directory audit entry was matched (correlationId or the activity fallback)", """
-- Set with audit_entry_id (a settled write's record carries both from the start; the audit join sets both), once,
-- outside the hash like audit_entry_id: records written before this column keep their Hash. The words are
-- appliance.types.EntryMatch's.
ALTER TABLE audit_records ADD COLUMN audit_entry_matched_by TEXT CHECK (audit_entry_matched_by IS NULL
    OR (audit_entry_id IS NOT NULL
        AND (audit_entry_matched_by = 'correlationId' OR audit_entry_matched_by = 'activity')));
DROP TRIGGER audit_records_append_only;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON audit_records
WHEN NEW.seq IS NOT OLD.seq OR NEW.record_json IS NOT OLD.record_json OR NEW.hash IS NOT OLD.hash
     OR NEW.previous_hash IS NOT OLD.previous_hash OR NEW.requested_by IS NOT OLD.requested_by
     OR NEW.conversation_ref IS NOT OLD.conversation_ref OR NEW.tool_name IS NOT OLD.tool_name
     OR NEW.outcome IS NOT OLD.outcome OR NEW.client_request_id IS NOT OLD.client_request_id
     OR NEW.graph_request_id IS NOT OLD.graph_request_id OR NEW.executed_at IS NOT OLD.executed_at
     OR NEW.recorded_at IS NOT OLD.recorded_at
     OR (OLD.audit_entry_id IS NOT NULL AND NEW.audit_entry_id IS NOT OLD.audit_entry_id)
     OR (OLD.audit_entry_matched_by IS NOT NULL AND NEW.audit_entry_matched_by IS NOT OLD.audit_entry_matched_by)
     OR (OLD.audit_entry_id IS NOT NULL AND NEW.audit_entry_matched_by IS NOT OLD.audit_entry_matched_by)
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
"""),
)
LATEST = MIGRATIONS[-1][0]


def current_version(connection: Connection) -> int:
    """The highest applied migration (0 for an empty database). Reads only."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if not exists:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def applied_versions(connection: Connection) -> set[int]:
    """Every migration number recorded in the database (empty for an empty database). Reads only."""
    if current_version(connection) == 0:
        return set()
    return {int(row[0]) for row in connection.execute("SELECT version FROM schema_migrations")}


def migrate(connection: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply, in order, every migration the database has not recorded, each in its own transaction.

    Numbers may have gaps while branches land (5 before 4): a migration is applied by whether *its*
    number is recorded, never by comparing with the highest one, so a 4 that lands after 5 still runs.
    Returns the resulting version. A database newer than the last known migration is refused
    before anything is written (SchemaTooNewError).
    """
    numbers = [number for number, _, _ in migrations]
    if numbers != sorted(set(numbers)) or (numbers and numbers[0] < 1):
        raise ValueError(f"migrations must be numbered 1, 2, ... in order, got {numbers}")
    latest = numbers[-1] if numbers else 0
    version = current_version(connection)
    if version > latest:
        raise SchemaTooNewError(f"the store has schema version {version}; this appliance knows versions up to {latest}")
    applied = applied_versions(connection)
    for number, name, sql in migrations:
        if number in applied:
            continue
        with transaction(connection):
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for statement in split_statements(sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, iso(now())),
            )
        version = max(version, number)
    return version


def split_statements(sql: str) -> list[str]:
    """Split a migration script into complete statements (a trigger body stays whole)."""
    out, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        if not buffer.strip() and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:60]!r}")
    return out
