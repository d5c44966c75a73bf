"""Audit records in the database: append-only by trigger, chained, AuditEntryId once, prefix-only purge."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appliance.store import audit_records
from appliance.store.audit_chain import GENESIS_HASH
from appliance.store.clock import now
from appliance.store.connection import DATABASE_ERRORS, Connection
from appliance.store.errors import StoreError


def _record(n: int, **extra: Any) -> dict[str, Any]:
    executed = datetime(2026, 5, 21, 10, 0, n, tzinfo=UTC)
    return {"RequestedBy": "adele@contoso.com", "ToolName": "m365_user_disable", "Outcome": "Success",
            "ClientRequestId": f"crid-{n}", "ExecutedAt": executed, **extra}


def test_append_chains_each_record_to_the_previous_one(db: Connection) -> None:
    first = audit_records.append_record(db, _record(1, Orchestrator={"model": "smollm2", "sha256": "1f"}))
    second = audit_records.append_record(db, {**_record(2), "PreviousHash": "forged", "Hash": "forged"})
    assert first["PreviousHash"] == GENESIS_HASH and second["PreviousHash"] == first["Hash"]
    assert second["Hash"] != "forged" and first["ExecutedAt"] == "2026-05-21T10:00:01.000000+00:00"
    unjoined = {"AuditEntryId": None, "AuditEntryMatchedBy": None}
    assert audit_records.records(db) == [first | unjoined, second | unjoined]
    assert audit_records.records(db, limit=1)[0]["ClientRequestId"] == "crid-2"
    assert audit_records.verify(db).ok and audit_records.count(db) == 2


def test_a_record_needs_a_tool_and_an_outcome_and_json_values(db: Connection) -> None:
    with pytest.raises(StoreError, match="Outcome"):
        audit_records.append_record(db, {"ToolName": "m365_user_get"})
    with pytest.raises(StoreError, match="JSON values"):
        audit_records.append_record(db, _record(1, Extra={1, 2}))
    assert audit_records.count(db) == 0


def test_records_cannot_be_edited_or_deleted_but_entry_id_is_filled_once(db: Connection) -> None:
    audit_records.append_record(db, _record(1))
    for sql in ("UPDATE audit_records SET record_json = '{}'", "UPDATE audit_records SET outcome = 'Failure'",
                "UPDATE audit_records SET recorded_at = '1999-01-01'"):
        with pytest.raises(DATABASE_ERRORS, match="append-only"):
            db.execute(sql)
    with pytest.raises(DATABASE_ERRORS, match="retention"):
        db.execute("DELETE FROM audit_records")
    assert audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-1", "correlationId")
    assert not audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-2", "correlationId")
    with pytest.raises(DATABASE_ERRORS, match="append-only"):
        db.execute("UPDATE audit_records SET audit_entry_id = 'x'")
    found = audit_records.find_by_client_request_id(db, "crid-1")
    assert found is not None and found["AuditEntryId"] == "directoryAudit-1"
    assert audit_records.verify(db).ok  # AuditEntryId is outside the hash


def test_verify_names_the_first_record_whose_json_or_column_was_changed(db: Connection) -> None:
    for n in range(1, 6):
        audit_records.append_record(db, _record(n))
    db.execute("DROP TRIGGER audit_records_append_only")  # what someone holding the key could do
    text = db.execute("SELECT record_json FROM audit_records WHERE seq = 4").fetchone()[0]
    db.execute(
        "UPDATE audit_records SET record_json = ? WHERE seq = 4", (json.dumps(json.loads(text) | {"Outcome": "x"}),)
    )
    db.execute("UPDATE audit_records SET requested_by = 'someone@else' WHERE seq = 2")
    report = audit_records.verify(db)
    assert (report.ok, report.first_broken, report.checked) == (False, 2, 1)
    assert "column" in report.reason


def test_purge_removes_only_an_old_prefix_and_the_chain_still_verifies(db: Connection) -> None:
    for n in range(1, 4):
        audit_records.append_record(db, _record(n))
    assert audit_records.purge_before(db, now() - timedelta(days=1)) == 0
    assert audit_records.purge_before(db, now() + timedelta(seconds=5)) == 3
    assert audit_records.anchor_hash(db) != GENESIS_HASH
    audit_records.append_record(db, _record(4))
    report = audit_records.verify(db)
    assert report.ok and report.checked == 1
