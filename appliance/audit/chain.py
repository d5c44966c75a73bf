"""The audit hash chain (pure): each record's hash covers its canonical JSON and the previous hash.

`AuditEntryId` is filled in later by the reconciler (from Graph's directory audits), so it is not part
of the hash; every other field is. Editing any hashed field, deleting a record in the middle or
reordering records breaks the chain at a record that `verify_chain` names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
UNHASHED_FIELDS = frozenset({"AuditEntryId", "PreviousHash", "Hash"})


def canonical_json(record: Mapping[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8 text; the hashed fields only."""
    hashed = {k: v for k, v in record.items() if k not in UNHASHED_FIELDS}
    return json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(record: Mapping[str, Any], previous_hash: str) -> str:
    """sha256(previous hash + newline + canonical JSON), hex."""
    return hashlib.sha256(f"{previous_hash}\n{canonical_json(record)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: ok, how many records, and the first broken one."""

    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""


def verify_chain(rows: Iterable[tuple[int, Mapping[str, Any]]], anchor: str = GENESIS_HASH) -> ChainReport:
    """Walk `(sequence number, record)` rows in order; each record carries PreviousHash and Hash."""
    previous, checked = anchor, 0
    for seq, record in rows:
        if record.get("PreviousHash") != previous:
            return ChainReport(False, checked, seq, "PreviousHash does not match the record before it")
        if chain_hash(record, previous) != record.get("Hash"):
            return ChainReport(False, checked, seq, "record content does not match its Hash (edited?)")
        previous = str(record["Hash"])
        checked += 1
    return ChainReport(True, checked)
