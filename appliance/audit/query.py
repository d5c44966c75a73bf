"""Reading audit records back: a short answer for Teams (m365_audit_query) and files for reviewers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from appliance.audit.closures import m365_entry_shown
from appliance.audit.record import AuditRecord

CHAT_LIMIT = 10
CSV_COLUMNS = (*AuditRecord.model_fields, "RecordKind", "Reason", "M365Entry", "Facts", "ActorObjectId",
               "RecordedAt", "PreviousHash", "Hash")


def chat_answer(records: Sequence[Mapping[str, Any]], *, days: int, everyone: bool) -> str:
    """The newest records as a few lines a person can read in a DM."""
    whose = "the Aid's actions" if everyone else "the actions you asked for"
    if not records:
        return f"No audit records for {whose} in the last {days} day(s)."
    newest = list(reversed(records))[:CHAT_LIMIT]
    lines = [f"{len(records)} audit record(s) for {whose} in the last {days} day(s), newest first:"]
    for record in newest:
        confirmed = record.get("ConfirmedAt") or "-"
        what = record.get("ActionSummary") or record.get("Detail")
        lines.append(
            f"- {record.get('ExecutedAt')}: {what} | asked by {record.get('RequestedBy')} "
            f"| confirmed {confirmed} | {record.get('Outcome')} "
            f"| M365 entry {m365_entry_shown(record)}"
        )
    if len(records) > CHAT_LIMIT:
        lines.append(f"... and {len(records) - CHAT_LIMIT} older; `appliance audit query` shows all.")
    return "\n".join(lines)


def write_jsonl(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """One JSON object per line; returns how many were written."""
    written = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        written += 1
    return written


def write_csv(records: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """A CSV with one column per record field (Arguments as JSON); returns how many rows were written."""
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    written = 0
    for record in records:
        row = {key: _cell(value) for key, value in record.items()}
        writer.writerow(row)
        written += 1
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet must never read a record field as a formula
    return value


def csv_text(records: Iterable[Mapping[str, Any]]) -> str:
    """`write_csv` into a string (for tests and small exports)."""
    buffer = io.StringIO()
    write_csv(records, buffer)
    return buffer.getvalue()
