"""The customer's exit ramp: conversations and audit records as JSON Lines."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from appliance.store.audit_records import records
from appliance.store.connection import Connection
from appliance.store.conversations import all_turns


def export_jsonl(db: Connection, directory: Path) -> dict[str, int]:
    """Write `conversations.jsonl` and `audit.jsonl` (mode 0600) into `directory`; return row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    turns = [asdict(turn) for turn in all_turns(db)]
    audits = [{k: v for k, v in record.items() if k != "_seq"} for record in records(db)]
    counts = {}
    for name, rows in (("conversations.jsonl", turns), ("audit.jsonl", audits)):
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        counts[name] = len(rows)
    return counts
