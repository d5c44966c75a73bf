"""Checkpoints of the audit chain, written outside the store and checked against it.

`serve` signs a checkpoint after every audit record it appends (`AnchoredLedger`) and once at start-up,
and writes it to the ops log (which also goes to stderr, so a log collector keeps a copy off the box).
`appliance audit checkpoint --out FILE` writes one to a file an auditor keeps. `appliance audit verify`
takes the newest checkpoint the anchor key signed (ops log files, plus any files given) and compares it
with the chain (`verify_anchored`): a deleted newest record or a rebuilt chain no longer matches.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance import ops_log
from appliance.audit.anchor import LOG_EVENT, AnchorReport, Checkpoint, check_head, newest_trusted, sign_checkpoint
from appliance.store import audit_records
from appliance.store.action_steps import RecordOf
from appliance.store.audit_chain import ChainReport
from appliance.store.clock import now
from appliance.store.connection import Connection
from appliance.store.errors import StoreError
from appliance.store.ledger import StoreLedger
from appliance.store.tenant_store import TenantStore
from appliance.types import ActionState, PendingAction

LOG_FILE = "ops.jsonl"


def signed_head(db: Connection, key: Ed25519PrivateKey, moment: datetime) -> Checkpoint:
    """A checkpoint of the chain's head as it is now (read in one query)."""
    count, head = audit_records.head(db)
    return sign_checkpoint(key, count=count, head=head, moment=moment)


def log_checkpoint(checkpoint: Checkpoint) -> None:
    """Write `checkpoint` to the ops log (its hash, signer and signature pass only in their exact shapes)."""
    ops_log.event(LOG_EVENT, count=checkpoint.count, head=checkpoint.head, at=checkpoint.time,
                  signer=checkpoint.signer, signature=checkpoint.signature)


class AnchoredLedger(StoreLedger):
    """A `StoreLedger` that checkpoints the chain's head right after each audit record it appends."""

    def __init__(self, store: TenantStore, key: Ed25519PrivateKey, clock: Callable[[], datetime] = now) -> None:
        super().__init__(store)
        self.key, self.clock = key, clock

    async def checkpoint(self) -> Checkpoint:
        """Sign the current head and write it to the ops log."""
        checkpoint = await self.store.arun(signed_head, self.key, self.clock())
        log_checkpoint(checkpoint)
        return checkpoint

    async def _checkpoint_after(self, appended: bool) -> None:
        """A checkpoint when a record was appended (a failure to write one never undoes what was recorded)."""
        if appended:
            try:
                await self.checkpoint()
            except Exception as exc:
                ops_log.event("audit.checkpoint_failed", error=type(exc).__name__)

    async def finish_action(
        self, action_id: str, final_state: ActionState, record: Mapping[str, Any], tool_turn: str | None
    ) -> dict[str, Any] | None:
        """As `StoreLedger.finish_action`, then a checkpoint."""
        stored = await super().finish_action(action_id, final_state, record, tool_turn)
        await self._checkpoint_after(stored is not None)
        return stored

    async def expire_due(self, moment: datetime, record_of: RecordOf | None = None) -> list[PendingAction]:
        """As `StoreLedger.expire_due`, then a checkpoint when expiries were recorded."""
        expired = await super().expire_due(moment, record_of)
        await self._checkpoint_after(record_of is not None and bool(expired))
        return expired

    async def close_action(
        self, action_id: str, expected: ActionState, new_state: ActionState, record_of: RecordOf
    ) -> dict[str, Any] | None:
        """As `StoreLedger.close_action`, then a checkpoint."""
        stored = await super().close_action(action_id, expected, new_state, record_of)
        await self._checkpoint_after(stored is not None)
        return stored

    async def append_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """As `StoreLedger.append_record`, then a checkpoint."""
        stored = await super().append_record(record)
        await self._checkpoint_after(True)
        return stored


def checkpoints_in_log(log_dir: Path) -> list[dict[str, Any]]:
    """Every `audit.checkpoint` line of the ops log and its rotated files (unreadable lines are skipped)."""
    found: list[dict[str, Any]] = []
    for path in sorted(log_dir.glob(LOG_FILE + "*")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if LOG_EVENT not in line:
                    continue
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict) and entry.get("event") == LOG_EVENT:
                        found.append(entry)
    return found


def read_checkpoint_file(path: Path) -> list[dict[str, Any]]:
    """The checkpoints in a file written by `write_checkpoint_file` (one JSON object per line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"cannot read the checkpoint file {path}: {exc}",
                         hint="Give the file exactly as `appliance audit checkpoint` wrote it.") from None
    return [entry for entry in entries if isinstance(entry, dict)]


def write_checkpoint_file(path: Path, checkpoint: Checkpoint) -> None:
    """Write `checkpoint` to a new file (mode 0600; an existing file is never overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise StoreError(f"{path} already exists", hint="Choose a new file name; checkpoints never overwrite.") \
            from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n")


def verify_anchored(
    db: Connection, candidates: Iterable[Mapping[str, Any]], trusted: Ed25519PublicKey
) -> tuple[ChainReport, AnchorReport, int]:
    """Walk the chain, then compare its head with the newest checkpoint `trusted` signed.

    Returns the chain report, the anchor report and how many candidate checkpoints were rejected
    (malformed, or signed by another key)."""
    chain = audit_records.verify(db)
    checkpoint, rejected = newest_trusted(candidates, trusted)
    last, _ = audit_records.head(db)
    first = audit_records.anchor_seq(db) + 1
    anchor = check_head(checkpoint, last=last, first=first, anchor=audit_records.anchor_hash(db),
                        hash_at=lambda seq: audit_records.hash_at(db, seq))
    return chain, anchor, rejected
