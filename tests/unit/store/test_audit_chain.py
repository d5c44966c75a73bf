"""The hash chain itself (pure): what is hashed, and that verify names the first broken record."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from appliance.store.audit_chain import (
    AUDIT_FIELDS,
    GENESIS_HASH,
    canonical_json,
    chain_hash,
    chained,
    verify_chain,
)

RECORD = {
    "RequestedBy": "adele@contoso.com", "ConfirmedAt": "2026-05-21T10:14:05+00:00",
    "ActionSummary": "Assign ENTERPRISEPACK to adele@contoso.com", "ConversationRef": "19:abc",
    "Orchestrator": "smollm2-135m sha256:1f2e", "ToolName": "m365_license_assign", "Implementer": "Direct",
    "ClientRequestId": "c1", "GraphRequestId": "g1", "Outcome": "Success", "ExecutedAt": "2026-05-21T10:14:06+00:00",
}


def _chain(n: int) -> list[tuple[int, dict[str, Any]]]:
    rows, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = chained({**RECORD, "ClientRequestId": f"c{seq}"}, previous)
        rows.append((seq, record))
        previous = record["Hash"]
    return rows


def test_the_hash_is_sha256_of_the_canonical_json_including_previous_hash() -> None:
    record = chained(RECORD, "ab" * 32)
    body = {k: v for k, v in RECORD.items()} | {"PreviousHash": "ab" * 32}
    expected = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert record["Hash"] == expected and record["PreviousHash"] == "ab" * 32
    assert chain_hash(RECORD, "cd" * 32) != record["Hash"]  # the previous hash is part of what is hashed


def test_canonical_json_ignores_key_order_and_leaves_out_entry_id_and_hash() -> None:
    shuffled = dict(reversed(list(RECORD.items())))
    assert canonical_json(shuffled) == canonical_json(RECORD)
    with_late_fields = {**RECORD, "AuditEntryId": "e-123", "Hash": "x"}
    assert canonical_json(with_late_fields) == canonical_json(RECORD)
    assert canonical_json({"ActionSummary": "Zuweisung für Jürgen"}) == '{"ActionSummary":"Zuweisung für Jürgen"}'


def test_the_record_fields_are_those_of_the_audit_record() -> None:
    assert set(RECORD) | {"AuditEntryId"} == set(AUDIT_FIELDS)


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(_chain(5))
    assert report.ok and report.checked == 5 and report.first_broken is None
    assert "intact: 5" in report.describe()


def test_an_edited_record_is_named() -> None:
    rows = _chain(5)
    rows[2][1]["Outcome"] = "Failure"
    report = verify_chain(rows)
    assert (report.ok, report.first_broken, report.checked) == (False, 3, 2)
    assert "record 3" in report.describe() and "edited" in report.reason


def test_a_removed_record_is_named_by_its_successor() -> None:
    rows = _chain(5)
    del rows[1]
    report = verify_chain(rows)
    assert (report.ok, report.first_broken) == (False, 3)
    assert "PreviousHash" in report.reason


def test_swapped_records_are_detected() -> None:
    rows = _chain(4)
    rows[1], rows[2] = rows[2], rows[1]
    assert verify_chain(rows).first_broken == 3


def test_a_late_audit_entry_id_does_not_break_the_chain() -> None:
    rows = _chain(3)
    rows[1][1]["AuditEntryId"] = "directoryAudit-42"
    assert verify_chain(rows).ok


def test_the_chain_can_start_from_an_anchor() -> None:
    rows = _chain(4)
    assert not verify_chain(rows[2:]).ok  # the third record does not follow genesis
    assert verify_chain(rows[2:], anchor=rows[1][1]["Hash"]).ok
