"""Joining records to the tenant's M365 audit log: fill AuditEntryId from Graph's directory audits.

Graph writes a directory audit entry for every write the Aid makes, with correlationId = the
client-request-id the appliance sent (and recorded before the call). Real directory audits appear
after a delay, so this runs after each action and then periodically until every successful record
is joined.
"""

from __future__ import annotations

from appliance.ports import Directory, Ledger


async def join_audit_entries(ledger: Ledger, directory: Directory, *, limit: int = 50) -> int:
    """Look up the directory audit entry of each unjoined successful record; returns how many were joined."""
    joined = 0
    for record in await ledger.records_missing_entry(limit):
        client_request_id = record.get("ClientRequestId")
        if not client_request_id:
            continue
        entry_id = await directory.audit_entry_for(str(client_request_id))
        if entry_id and await ledger.set_audit_entry_id(str(client_request_id), entry_id):
            joined += 1
    return joined
