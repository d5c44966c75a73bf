"""Joining records to the tenant's M365 audit log: fill AuditEntryId from Graph's directory audits, and
AuditEntryMatchedBy with how the entry was found (`appliance.types.EntryMatch`).

Each of the Aid's writes has a directory audit entry; `ports.Directory.audit_match` finds it (by
correlationId = the client-request-id the appliance sent and recorded before the call, else by the same
activity on the same target by the Aid in the action's time window). Real directory audits appear minutes
late, so this runs after each action and then periodically until every successful record is joined.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from appliance.ports import Directory, Ledger

AUDIT_CLOCK_SKEW = timedelta(seconds=5)
"""How far the appliance's clock and Microsoft's may differ (both NTP-synchronised): a write's directory audit
entry is never dated earlier than this before the write began. A larger real skew only leaves a write unsettled
(Unknown, said so), never settled by another write's entry."""
SKEW = timedelta(seconds=60)
"""A record's entry is dated no later than this after the record's ExecutedAt (the answer came after the entry)."""


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


async def join_audit_entries(ledger: Ledger, directory: Directory, *, limit: int = 50) -> int:
    """Look up the directory audit entry of each unjoined successful record; returns how many were joined."""
    joined = 0
    for record in await ledger.records_missing_entry(limit):
        client_request_id = record.get("ClientRequestId")
        executed = _moment(record.get("ExecutedAt"))
        if not client_request_id or executed is None:
            continue
        since = (_moment(record.get("ConfirmedAt")) or executed) - AUDIT_CLOCK_SKEW
        until = executed + SKEW
        claimed = await ledger.claimed_entries(str(client_request_id), since, until)
        match = await directory.audit_match(str(record.get("ToolName")), dict(record.get("Arguments") or {}),
                                            str(client_request_id), since, until, claimed)
        if match and match.succeeded and await ledger.set_audit_entry_id(str(client_request_id), match.entry_id,
                                                                         match.matched_by):
            joined += 1
    return joined
