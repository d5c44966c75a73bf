"""Audit records: append-only (enforced by triggers), hash-chained (each row stores the previous hash)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from appliance.audit.chain import GENESIS_HASH, ChainReport, chain_hash, verify_chain
from appliance.store.clock import iso, now
from appliance.store.connection import Connection


def append_record(db: Connection, record: Mapping[str, Any]) -> dict[str, Any]:
    """Chain and append one record; returns it with PreviousHash and Hash filled in."""
    db.execute("BEGIN IMMEDIATE")  # the chain head must not move between read and insert
    try:
        row = db.execute("SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1").fetchone()
        previous = row[0] if row else _anchor(db)
        body = {k: v for k, v in record.items() if k not in {"PreviousHash", "Hash"}}
        chained = {**body, "PreviousHash": previous, "Hash": chain_hash(body, previous)}
        db.execute(
            "INSERT INTO audit_records (record_json, previous_hash, hash, client_request_id, audit_entry_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (json.dumps(chained, ensure_ascii=False), previous, chained["Hash"], body.get("ClientRequestId"),
             body.get("AuditEntryId"), iso(now())),
        )  # fmt: skip
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return chained


def set_audit_entry_id(db: Connection, client_request_id: str, audit_entry_id: str) -> bool:
    """Fill AuditEntryId (once) for the record with this ClientRequestId. False if none was waiting."""
    cursor = db.execute(
        "UPDATE audit_records SET audit_entry_id = ? WHERE client_request_id = ? AND audit_entry_id IS NULL",
        (audit_entry_id, client_request_id),
    )
    return bool(cursor.rowcount)


def records(db: Connection, since: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Records oldest first (optionally created at/after `since`), with AuditEntryId filled in."""
    sql = "SELECT seq, record_json, audit_entry_id FROM audit_records"
    params: list[Any] = []
    if since:
        sql += " WHERE created_at >= ?"
        params.append(since)
    sql += " ORDER BY seq"
    if limit:
        sql = f"SELECT * FROM ({sql.replace(' ORDER BY seq', ' ORDER BY seq DESC')} LIMIT ?) ORDER BY seq"
        params.append(limit)
    out = []
    for seq, text, entry_id in db.execute(sql, params).fetchall():
        record = json.loads(text)
        record["AuditEntryId"] = entry_id or record.get("AuditEntryId")
        record["_seq"] = seq
        out.append(record)
    return out


def verify(db: Connection) -> ChainReport:
    """Walk the chain from the oldest kept record; name the first broken one."""
    rows = db.execute("SELECT seq, record_json, previous_hash, hash FROM audit_records ORDER BY seq").fetchall()
    parsed: list[tuple[int, dict[str, Any]]] = []
    for seq, text, previous, stored_hash in rows:
        record = json.loads(text)
        if record.get("PreviousHash") != previous or record.get("Hash") != stored_hash:
            return ChainReport(False, len(parsed), seq, "stored hash columns differ from the record (edited?)")
        parsed.append((seq, record))
    return verify_chain(parsed, anchor=_anchor(db) if not parsed else parsed[0][1]["PreviousHash"])


def _anchor(db: Connection) -> str:
    row = db.execute("SELECT value FROM settings WHERE key = 'audit.anchor_hash'").fetchone()
    return str(row[0]) if row else GENESIS_HASH


def purge_before(db: Connection, cutoff: str) -> int:
    """Delete records created before `cutoff` (retention). The newest deleted hash becomes the anchor."""
    db.execute("BEGIN IMMEDIATE")
    try:
        last = db.execute(
            "SELECT hash FROM audit_records WHERE created_at < ? ORDER BY seq DESC LIMIT 1", (cutoff,)
        ).fetchone()
        db.execute("UPDATE audit_purge_cutoff SET cutoff = ? WHERE id = 1", (cutoff,))
        deleted = db.execute("DELETE FROM audit_records WHERE created_at < ?", (cutoff,)).rowcount
        db.execute("UPDATE audit_purge_cutoff SET cutoff = '' WHERE id = 1")
        if last:
            db.execute(
                "INSERT INTO settings (key, value) VALUES ('audit.anchor_hash', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (last[0],),
            )
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return int(deleted)
