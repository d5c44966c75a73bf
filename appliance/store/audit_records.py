"""Audit records: append-only (enforced by triggers), hash-chained (each row stores the previous Hash).

A record is a mapping with issue 5's AuditRecord fields (`audit_chain.AUDIT_FIELDS`; `ToolName` and
`Outcome` are required) plus any extra JSON fields. The store adds `RecordedAt`, `PreviousHash` and
`Hash`. The hashed JSON is the truth; a few fields are also kept as columns for queries. AuditEntryId and
AuditEntryMatchedBy (`appliance.types.EntryMatch`) are outside the hash: the audit join sets both, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from appliance.store.audit_chain import GENESIS_HASH, ChainReport, chained, verify_chain
from appliance.store.clock import iso, now
from appliance.store.connection import Connection, transaction
from appliance.store.errors import StoreError
from appliance.store.key_value_settings import get_setting, set_setting
from appliance.types import EntryMatch

REQUIRED_FIELDS = ("ToolName", "Outcome")
STORE_OWNED_FIELDS = frozenset({"RecordedAt", "PreviousHash", "Hash"})
# record field -> column (a copy kept for queries; `verify` checks it still matches the record)
PROJECTED_COLUMNS = {
    "RequestedBy": "requested_by", "ConversationRef": "conversation_ref", "ToolName": "tool_name",
    "Outcome": "outcome", "ClientRequestId": "client_request_id", "GraphRequestId": "graph_request_id",
    "ExecutedAt": "executed_at", "RecordedAt": "recorded_at",
}
ANCHOR_SETTING = "audit.anchor_hash"
ANCHOR_SEQ_SETTING = "audit.anchor_seq"  # the number of the newest record retention removed (0: none)
_COLUMNS = ", ".join(PROJECTED_COLUMNS.values())
_ENTRY = "audit_entry_id, audit_entry_matched_by"
_SELECT = f"SELECT seq, record_json, previous_hash, hash, {_ENTRY}, {_COLUMNS} FROM audit_records"


def append_record(db: Connection, record: Mapping[str, Any]) -> dict[str, Any]:
    """Chain and append one record; return it as stored (RecordedAt, PreviousHash and Hash filled in).

    Values must be JSON values; datetimes become ISO-8601 text. RecordedAt, PreviousHash and Hash
    passed in are ignored: the store computes them.
    """
    body = _normalized(record)
    body["RecordedAt"] = iso(now())
    with transaction(db):  # the chain head must not move between reading it and appending
        seq, previous = head(db)  # numbered on from the newest record ever written, even if retention took it
        stored = chained(body, previous)
        db.execute(
            f"INSERT INTO audit_records (seq, record_json, previous_hash, hash, {_ENTRY}, {_COLUMNS}) "
            f"VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' * len(PROJECTED_COLUMNS))})",
            (seq + 1, json.dumps(stored, ensure_ascii=False), stored["PreviousHash"], stored["Hash"],
             stored.get("AuditEntryId"), stored.get("AuditEntryMatchedBy"),
             *(_column_value(stored.get(field)) for field in PROJECTED_COLUMNS)),
        )
    return stored


def set_audit_entry_id(db: Connection, client_request_id: str, audit_entry_id: str, matched_by: EntryMatch) -> bool:
    """Fill AuditEntryId and AuditEntryMatchedBy (once) on the record with this ClientRequestId. False if none was
    waiting for one."""
    cursor = db.execute(
        "UPDATE audit_records SET audit_entry_id = ?, audit_entry_matched_by = ? "
        "WHERE client_request_id = ? AND audit_entry_id IS NULL",
        (audit_entry_id, matched_by, client_request_id),
    )
    return cursor.rowcount > 0


def find_by_client_request_id(db: Connection, client_request_id: str) -> dict[str, Any] | None:
    """The record of the action with this ClientRequestId (e.g. after a crash), or None."""
    row = db.execute(
        f"SELECT record_json, {_ENTRY} FROM audit_records WHERE client_request_id = ? ORDER BY seq LIMIT 1",
        (client_request_id,),
    ).fetchone()
    return with_entry(*row) if row else None


def iter_records(db: Connection, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Records oldest first (optionally those recorded at/after `since`), AuditEntryId and AuditEntryMatchedBy
    filled in."""
    where, params = _since(since)
    sql = f"SELECT record_json, {_ENTRY} FROM audit_records{where} ORDER BY seq"
    for text, entry_id, matched_by in db.execute(sql, params):
        yield with_entry(text, entry_id, matched_by)


def records(db: Connection, since: datetime | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Like `iter_records`, as a list; with `limit`, only the newest `limit` records (still oldest first)."""
    if not limit:
        return list(iter_records(db, since))
    where, params = _since(since)
    rows = db.execute(
        f"SELECT record_json, {_ENTRY} FROM audit_records{where} ORDER BY seq DESC LIMIT ?", (*params, limit)
    ).fetchall()
    return [with_entry(*row) for row in reversed(rows)]


def query(
    db: Connection, *, since: datetime, requested_by: str | None = None, tool: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The newest `limit` records since `since` (oldest first), optionally of one requester and one tool."""
    clauses, params = ["recorded_at >= ?"], [iso(since)]
    if requested_by is not None:
        clauses.append("requested_by = ? COLLATE NOCASE")
        params.append(requested_by)
    if tool is not None:
        clauses.append("tool_name = ?")
        params.append(tool)
    rows = db.execute(
        f"SELECT record_json, {_ENTRY} FROM audit_records WHERE {' AND '.join(clauses)} "
        "ORDER BY seq DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [with_entry(*row) for row in reversed(rows)]


def missing_entry_ids(db: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """Successful records not yet joined to their M365 directory audit entry, oldest first."""
    rows = db.execute(
        f"SELECT record_json, {_ENTRY} FROM audit_records WHERE audit_entry_id IS NULL AND outcome = 'Success' "
        "AND client_request_id IS NOT NULL ORDER BY seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [with_entry(*row) for row in rows]


def open_unknowns(db: Connection) -> list[dict[str, Any]]:
    """Records with Outcome Unknown that no later record of the same write (same ClientRequestId) settles."""
    rows = db.execute(
        "SELECT u.record_json, u.audit_entry_id, u.audit_entry_matched_by FROM audit_records u "
        "WHERE u.outcome = 'Unknown' AND NOT EXISTS "
        "(SELECT 1 FROM audit_records s WHERE s.client_request_id = u.client_request_id AND s.seq > u.seq "
        "AND s.outcome IN ('Success', 'Failure')) ORDER BY u.seq"
    ).fetchall()
    return [with_entry(*row) for row in rows]


def count(db: Connection) -> int:
    """How many audit records are kept."""
    return int(db.execute("SELECT count(*) FROM audit_records").fetchone()[0])


def anchor_hash(db: Connection) -> str:
    """The Hash the oldest kept record must point to: genesis, or the newest record purged by retention."""
    return get_setting(db, ANCHOR_SETTING) or GENESIS_HASH


def anchor_seq(db: Connection) -> int:
    """The number of the newest record retention removed (0 if none): the kept records start after it."""
    return int(get_setting(db, ANCHOR_SEQ_SETTING) or 0)


def head(db: Connection) -> tuple[int, str]:
    """(number, Hash) of the newest record: what a checkpoint signs. An empty chain gives its anchor."""
    row = db.execute("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (anchor_seq(db), anchor_hash(db))


def hash_at(db: Connection, seq: int) -> str | None:
    """The stored Hash of record `seq`, or None if there is no such record."""
    row = db.execute("SELECT hash FROM audit_records WHERE seq = ?", (seq,)).fetchone()
    return str(row[0]) if row else None


def verify(db: Connection) -> ChainReport:
    """Walk the chain from the anchor; name the first broken record (edited, removed, reordered)."""
    try:
        return verify_chain(_checked_rows(db), anchor=anchor_hash(db))
    except _ColumnMismatch as mismatch:
        return ChainReport(False, mismatch.checked, mismatch.seq, mismatch.reason)


def purge_before(db: Connection, cutoff: datetime) -> int:
    """Delete the oldest records, as long as each was recorded before `cutoff` (retention).

    Only a prefix of the chain is removed, so the rest still verifies: the newest deleted Hash becomes
    the anchor. The database's trigger refuses any record recorded at/after the cutoff even if this
    code were wrong.
    """
    bound = iso(cutoff)
    with transaction(db):
        row = db.execute("SELECT min(seq) FROM audit_records WHERE recorded_at >= ?", (bound,)).fetchone()
        last = db.execute(
            "SELECT seq, hash FROM audit_records WHERE seq < coalesce(?, 9223372036854775807) "
            "ORDER BY seq DESC LIMIT 1",
            (row[0],),
        ).fetchone()
        if last is None:
            return 0
        db.execute("UPDATE audit_purge_cutoff SET cutoff = ? WHERE id = 1", (bound,))
        deleted = db.execute("DELETE FROM audit_records WHERE seq <= ?", (last[0],)).rowcount
        db.execute("UPDATE audit_purge_cutoff SET cutoff = '' WHERE id = 1")
        set_setting(db, ANCHOR_SETTING, last[1])
        set_setting(db, ANCHOR_SEQ_SETTING, str(last[0]))
    return int(deleted)


class _ColumnMismatch(Exception):
    def __init__(self, seq: int, checked: int, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.checked, self.reason = seq, checked, reason


def _checked_rows(db: Connection) -> Iterator[tuple[int, dict[str, Any]]]:
    for checked, (seq, text, previous, stored_hash, _entry_id, _matched_by, *columns) in enumerate(
        db.execute(_SELECT + " ORDER BY seq")
    ):
        record = json.loads(text)
        expected = [record.get("PreviousHash"), record.get("Hash")]
        expected += [_column_value(record.get(field)) for field in PROJECTED_COLUMNS]
        if [previous, stored_hash, *columns] != expected:
            raise _ColumnMismatch(seq, checked, "a column differs from the hashed record (edited?)")
        yield seq, record


def _normalized(record: Mapping[str, Any]) -> dict[str, Any]:
    missing = [field for field in REQUIRED_FIELDS if record.get(field) in (None, "")]
    if missing:
        raise StoreError(f"an audit record needs {', '.join(missing)}", hint="This is a bug in the audit writer.")
    body = {}
    for key, value in record.items():
        if key in STORE_OWNED_FIELDS:
            continue
        if not isinstance(key, str):
            raise StoreError(f"audit record field names must be text, got {key!r}")
        body[key] = iso(value) if isinstance(value, datetime) else value
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"an audit record must hold JSON values only: {exc}") from None
    return body


def _since(since: datetime | None) -> tuple[str, tuple[str, ...]]:
    return (" WHERE recorded_at >= ?", (iso(since),)) if since is not None else ("", ())


def _column_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def with_entry(text: str, entry_id: str | None, matched_by: str | None) -> dict[str, Any]:
    """A stored record (its JSON) with AuditEntryId and AuditEntryMatchedBy from their columns (set by the join)."""
    record: dict[str, Any] = json.loads(text)
    record["AuditEntryId"] = entry_id if entry_id is not None else record.get("AuditEntryId")
    record["AuditEntryMatchedBy"] = matched_by if matched_by is not None else record.get("AuditEntryMatchedBy")
    return record
