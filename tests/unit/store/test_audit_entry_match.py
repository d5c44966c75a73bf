"""How a record's M365 directory audit entry was matched (`AuditEntryMatchedBy`): written with a record settled
from the directory audit log, or set once together with AuditEntryId by the audit join. Like AuditEntryId it is
outside the hash, so every record written before the field existed keeps its Hash and still verifies."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.audit.filters import RecordFilter
from appliance.store import audit_records
from appliance.store.audit_chain import GENESIS_HASH, chain_hash, chained
from appliance.store.audit_pages import audit_page
from appliance.store.connection import DATABASE_ERRORS, Connection, open_encrypted
from appliance.store.migrations import MIGRATIONS, migrate
from appliance.types import BY_ACTIVITY, BY_CORRELATION_ID, ENTRY_MATCHES

OLD_RECORD = {"RequestedBy": "adele@contoso.com", "ToolName": "m365_user_disable", "Outcome": "Success",
              "ClientRequestId": "crid-1", "ExecutedAt": "2026-05-21T10:00:01Z", "AuditEntryId": "directoryAudit-1",
              "RecordedAt": "2026-05-21T10:00:02.000000+00:00"}
OLD_HASH = "412a2338116665cc5c945bac80e0de3ba4db5f5d21b31c28ee07fb3da66d9b40"
"""OLD_RECORD's Hash as main computed it before AuditEntryMatchedBy existed (92299be)."""


def _record(n: int, **extra: Any) -> dict[str, Any]:
    return {"RequestedBy": "adele@contoso.com", "ToolName": "m365_user_disable", "Outcome": "Success",
            "ClientRequestId": f"crid-{n}", "ExecutedAt": datetime(2026, 5, 21, 10, 0, n, tzinfo=UTC), **extra}


def test_the_vocabulary_is_the_directory_audits_own_words() -> None:
    assert ENTRY_MATCHES == (BY_CORRELATION_ID, BY_ACTIVITY) == ("correlationId", "activity")


def test_a_record_hashes_as_before_and_how_its_entry_was_matched_is_outside_the_hash() -> None:
    assert chain_hash(OLD_RECORD, GENESIS_HASH) == OLD_HASH
    assert chain_hash({**OLD_RECORD, "AuditEntryMatchedBy": "activity"}, GENESIS_HASH) == OLD_HASH


def test_the_join_sets_how_it_matched_once_with_the_entry_id_and_every_reader_shows_it(db: Connection) -> None:
    audit_records.append_record(db, _record(1))
    audit_records.append_record(db, _record(2))
    assert audit_records.missing_entry_ids(db)[0]["AuditEntryMatchedBy"] is None
    assert audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-1", BY_ACTIVITY)
    assert not audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-9", BY_CORRELATION_ID)
    with pytest.raises(DATABASE_ERRORS, match="append-only"):
        db.execute("UPDATE audit_records SET audit_entry_matched_by = 'correlationId'")
    first = audit_records.find_by_client_request_id(db, "crid-1")
    assert first is not None and (first["AuditEntryId"], first["AuditEntryMatchedBy"]) == ("directoryAudit-1",
                                                                                            "activity")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    for shown in (audit_records.records(db), list(audit_records.iter_records(db)),
                  audit_records.query(db, since=since), audit_page(db, RecordFilter(limit=10))[0]):
        assert [r["AuditEntryMatchedBy"] for r in shown] == ["activity", None]
    assert audit_records.verify(db).ok


def test_a_settled_record_carries_how_it_matched_from_the_start(db: Connection) -> None:
    stored = audit_records.append_record(db, _record(1, AuditEntryId="directoryAudit-1",
                                                     AuditEntryMatchedBy=BY_ACTIVITY))
    assert stored["AuditEntryMatchedBy"] == "activity"
    assert audit_records.records(db)[0]["AuditEntryMatchedBy"] == "activity"
    with pytest.raises(DATABASE_ERRORS, match="append-only"):
        db.execute("UPDATE audit_records SET audit_entry_matched_by = 'correlationId'")
    assert not audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-2", BY_CORRELATION_ID)
    assert audit_records.verify(db).ok


def test_the_store_takes_every_word_of_the_vocabulary(db: Connection) -> None:
    for n, word in enumerate(ENTRY_MATCHES, start=1):  # the migration's CHECK spells the same words
        audit_records.append_record(db, _record(n))
        assert audit_records.set_audit_entry_id(db, f"crid-{n}", f"directoryAudit-{n}", word)
    assert [r["AuditEntryMatchedBy"] for r in audit_records.records(db)] == list(ENTRY_MATCHES)


def test_a_record_can_say_how_it_matched_only_with_a_known_word(db: Connection) -> None:
    audit_records.append_record(db, _record(1))
    with pytest.raises(DATABASE_ERRORS):
        audit_records.set_audit_entry_id(db, "crid-1", "directoryAudit-1", "guessed")  # type: ignore[arg-type]
    with pytest.raises(DATABASE_ERRORS):
        audit_records.append_record(db, _record(2, AuditEntryId="directoryAudit-2", AuditEntryMatchedBy="guessed"))
    with pytest.raises(DATABASE_ERRORS):
        db.execute("UPDATE audit_records SET audit_entry_id = 'e', audit_entry_matched_by = 'guessed'")
    with pytest.raises(DATABASE_ERRORS):
        db.execute("UPDATE audit_records SET audit_entry_matched_by = 'activity'")  # never without its entry
    assert audit_records.count(db) == 1 and audit_records.records(db)[0]["AuditEntryId"] is None


def test_records_written_before_the_field_existed_still_verify_and_are_joined_after_the_migration(
    tmp_path: Path,
) -> None:
    connection = open_encrypted(tmp_path / "old.db", os.urandom(32), "test key")
    try:
        migrate(connection, tuple(m for m in MIGRATIONS if m[0] <= 10))  # the schema before this field
        settled = chained({key: value for key, value in OLD_RECORD.items()}, GENESIS_HASH)
        unjoined = chained({**OLD_RECORD, "ClientRequestId": "crid-2", "AuditEntryId": None}, settled["Hash"])
        for seq, record in ((1, settled), (2, unjoined)):
            connection.execute(
                "INSERT INTO audit_records (seq, record_json, previous_hash, hash, audit_entry_id, requested_by, "
                "conversation_ref, tool_name, outcome, client_request_id, graph_request_id, executed_at, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?, ?)",
                (seq, json.dumps(record), record["PreviousHash"], record["Hash"], record["AuditEntryId"],
                 record["RequestedBy"], record["ToolName"], record["Outcome"], record["ClientRequestId"],
                 record["ExecutedAt"], record["RecordedAt"]))
        assert settled["Hash"] == OLD_HASH
        migrate(connection)
        assert audit_records.verify(connection).ok
        assert [r["AuditEntryMatchedBy"] for r in audit_records.records(connection)] == [None, None]
        assert audit_records.set_audit_entry_id(connection, "crid-2", "directoryAudit-2", BY_CORRELATION_ID)
        assert audit_records.records(connection)[1]["AuditEntryMatchedBy"] == "correlationId"
        assert audit_records.verify(connection).ok and audit_records.head(connection)[1] == unjoined["Hash"]
    finally:
        connection.close()
