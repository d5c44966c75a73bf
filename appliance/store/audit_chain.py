"""The audit hash chain (pure): each record's Hash covers its canonical JSON, PreviousHash included.

The record's fields are issue 5's AuditRecord (`AUDIT_FIELDS`) plus `RecordedAt` (when the store wrote
it; retention relies on it, so it is hashed too) and any extra fields the caller adds. `AuditEntryId`
is filled in later by the reconciler (from Graph's directory audits), with `AuditEntryMatchedBy` (how the
entry was found: `appliance.types.EntryMatch`), so those two are the fields outside the hash (each set once;
a record without them hashes exactly as before they existed). Editing any hashed field, deleting or
reordering records breaks the chain at a record that `verify_chain` names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
AUDIT_FIELDS = (
    "AuditEntryId", "RequestedBy", "ConfirmedAt", "ActionSummary", "ConversationRef", "Orchestrator",
    "ToolName", "Implementer", "ClientRequestId", "GraphRequestId", "Outcome", "ExecutedAt",
)
CHAIN_FIELDS = ("PreviousHash", "Hash")
UNHASHED_FIELDS = frozenset({"AuditEntryId", "AuditEntryMatchedBy", "Hash"})


def canonical_json(record: Mapping[str, Any]) -> str:
    """The hashed fields (all but AuditEntryId, AuditEntryMatchedBy and Hash) as JSON: sorted keys, no whitespace,
    UTF-8."""
    hashed = {key: value for key, value in record.items() if key not in UNHASHED_FIELDS}
    return json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(record: Mapping[str, Any], previous_hash: str) -> str:
    """sha256 (hex) of the canonical JSON of `record` with `PreviousHash = previous_hash`."""
    return hashlib.sha256(canonical_json({**record, "PreviousHash": previous_hash}).encode()).hexdigest()


def chained(record: Mapping[str, Any], previous_hash: str) -> dict[str, Any]:
    """`record` with PreviousHash and Hash filled in."""
    body = {key: value for key, value in record.items() if key not in CHAIN_FIELDS}
    return {**body, "PreviousHash": previous_hash, "Hash": chain_hash(body, previous_hash)}


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: ok, how many records were good, and the first broken one."""

    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""

    def describe(self) -> str:
        """One line for an operator."""
        if self.ok:
            return f"audit chain intact: {self.checked} records"
        return f"audit chain broken at record {self.first_broken} (after {self.checked} good ones): {self.reason}"


def verify_chain(rows: Iterable[tuple[int, Mapping[str, Any]]], anchor: str = GENESIS_HASH) -> ChainReport:
    """Walk `(sequence number, record)` rows in order, starting from `anchor`; name the first broken one."""
    previous, checked = anchor, 0
    for seq, record in rows:
        if record.get("PreviousHash") != previous:
            return ChainReport(False, checked, seq, "its PreviousHash is not the Hash of the record before it")
        if chain_hash(record, previous) != record.get("Hash"):
            return ChainReport(False, checked, seq, "its content does not match its Hash (edited?)")
        previous = str(record["Hash"])
        checked += 1
    return ChainReport(True, checked)
