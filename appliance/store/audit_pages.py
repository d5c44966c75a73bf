"""Paged, filtered reads of the audit records for the direct audit API (cursor = the record's `seq`)."""

from __future__ import annotations

from typing import Any

from appliance.audit.filters import RecordFilter
from appliance.store.audit_records import with_entry
from appliance.store.clock import iso
from appliance.store.connection import Connection


def audit_page(db: Connection, query: RecordFilter) -> tuple[list[dict[str, Any]], int | None]:
    """Up to `limit` records oldest first, each with its `Seq`; and the cursor of the next page (None: last)."""
    clauses: list[str] = ["seq > ?"]
    params: list[Any] = [query.after]
    for clause, value in (
        ("recorded_at >= ?", iso(query.since) if query.since else None),
        ("recorded_at < ?", iso(query.until) if query.until else None),
        ("requested_by = ? COLLATE NOCASE", query.requester),
        ("tool_name = ?", query.tool),
        ("outcome = ?", query.outcome),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    rows = db.execute(
        f"SELECT seq, record_json, audit_entry_id, audit_entry_matched_by FROM audit_records "
        f"WHERE {' AND '.join(clauses)} "
        "ORDER BY seq LIMIT ?",
        (*params, query.limit + 1),
    ).fetchall()
    records = []
    for seq, text, entry_id, matched_by in rows[: query.limit]:
        record = with_entry(text, entry_id, matched_by)
        record["Seq"] = int(seq)
        records.append(record)
    following = int(rows[query.limit - 1][0]) if len(rows) > query.limit else None
    return records, following
