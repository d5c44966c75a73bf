"""The customer's exit ramp: conversations and audit records as JSON Lines (one object per line).

The files are plaintext on purpose (they are the customer's own copy), created with mode 0600, and
never overwrite existing files. Rows are streamed, so a long audit history never sits in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from appliance.store.audit_records import iter_records
from appliance.store.connection import Connection
from appliance.store.conversations import iter_turns
from appliance.store.errors import ExportError

CONVERSATIONS_FILE = "conversations.jsonl"
AUDIT_FILE = "audit.jsonl"


def export_jsonl(db: Connection, directory: Path) -> dict[str, int]:
    """Write `conversations.jsonl` and `audit.jsonl` into `directory`; return rows written per file."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in (CONVERSATIONS_FILE, AUDIT_FILE):
        if (directory / name).exists():
            raise ExportError(f"{directory / name} already exists; refusing to overwrite an export")
    return {
        CONVERSATIONS_FILE: _write(directory / CONVERSATIONS_FILE, (asdict(turn) for turn in iter_turns(db))),
        AUDIT_FILE: _write(directory / AUDIT_FILE, iter_records(db)),
    }


def _write(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ExportError(f"cannot create {path}: {exc.strerror}") from None
    written = 0
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            written += 1
    return written
