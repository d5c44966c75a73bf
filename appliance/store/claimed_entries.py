"""What the store knows belongs to the appliance's other writes, so a directory audit entry settles one write only.

Settling an uncertain write from the directory audit log (graph/audit_matching.py) may fall back to the
documented fields (activity, target, the Aid, a time window); an earlier write of the same activity on the same
target has an entry that fits them too. These are the facts that rule such an entry out: it is already joined
to another write's record (`audit_records.audit_entry_id`), or its correlationId is another write's
client-request-id (`pending_actions` and `audit_records` keep every write's). And the other writes that could
own such an entry as well (not joined to any entry, started inside this write's window): while one of those
exists, the documented fields alone cannot tell whose an entry is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.store.clock import iso
from appliance.store.connection import Connection
from appliance.types import ClaimedEntries

LOOKBACK = timedelta(days=1)
"""How far before a write's window other writes are looked at (their entries are dated after they ran; a write
whose entry could fall in a window ran well within a day before it)."""


RIVAL_WINDOW = timedelta(minutes=10)
"""A write's entry is dated up to this long after it began (orchestrator.execution.WRITE_WINDOW)."""


def claimed_entries(db: Connection, client_request_id: str, since: datetime, until: datetime) -> ClaimedEntries:
    """The entries joined to, and the client-request-ids of, writes other than `client_request_id` recorded or
    started from `LOOKBACK` before `since` on; and as rivals the other writes started between `RIVAL_WINDOW`
    before `since` and `until` that no record joins to an entry yet."""
    start = iso(since - LOOKBACK)
    entries = db.execute(
        "SELECT DISTINCT audit_entry_id FROM audit_records WHERE audit_entry_id IS NOT NULL AND recorded_at >= ? "
        "AND (client_request_id IS NULL OR client_request_id <> ?)",
        (start, client_request_id),
    ).fetchall()
    requests = db.execute(
        "SELECT client_request_id FROM pending_actions WHERE client_request_id IS NOT NULL AND client_request_id "
        "<> ? AND executing_at >= ? UNION SELECT client_request_id FROM audit_records WHERE client_request_id IS "
        "NOT NULL AND client_request_id <> ? AND recorded_at >= ?",
        (client_request_id, start, client_request_id, start),
    ).fetchall()
    rivals = db.execute(
        "SELECT p.tool, p.arguments_json FROM pending_actions p WHERE p.client_request_id IS NOT NULL AND "
        "p.client_request_id <> ? AND p.executing_at >= ? AND p.executing_at <= ? AND NOT EXISTS (SELECT 1 FROM "
        "audit_records r WHERE r.client_request_id = p.client_request_id AND r.audit_entry_id IS NOT NULL) "
        "ORDER BY p.executing_at",
        (client_request_id, iso(since - RIVAL_WINDOW), iso(until)),
    ).fetchall()
    return ClaimedEntries(frozenset(str(row[0]) for row in entries if row[0]),
                          frozenset(str(row[0]) for row in requests if row[0]),
                          tuple((str(tool), str(arguments)) for tool, arguments in rivals))
