"""Finding the M365 directory audit entry of one of the Aid's writes, to settle what happened to it.

Two matches, in order (docs/GRAPH.md lists what each rests on):
1. `correlationId eq '<client-request-id>'`: the appliance sends a fresh client-request-id with every
   write. That the directory audit's correlationId echoes it is observed, not documented by Microsoft.
2. The documented fields of a directoryAudit (microsoftgraph/microsoft-graph-docs-contrib,
   api-reference/v1.0/resources/directoryaudit.md; `$filter` support: api/directoryaudit-list.md):
   the same `activityDisplayName`, a `targetResources` id equal to the target's object id, `initiatedBy.user.id`
   the Aid, and `activityDateTime` inside the action's time window. Exactly one such entry settles it;
   several are ambiguous and settle nothing (the action stays Unknown and says so).
Neither match ever takes an entry the store says belongs to another write (`ClaimedEntries`: an entry already
joined to another record, or one whose correlationId is another write's client-request-id): an earlier action's
entry on the same user must not settle this one. Nor does the second match settle anything while another write
not joined to an entry yet did the same activity on the same target in the window (`ClaimedEntries.rivals`):
the entry could be either's. Only `result: success` settles DONE; `failure` settles FAILED
with its `resultReason` (by the same rules: unclaimed and, in the second match, the only candidate).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import (
    DirectoryAuditsRequestBuilder,
)

from appliance.graph.gateway import GraphCallFailed, GraphGateway
from appliance.graph.paging import every_page
from appliance.types import BY_ACTIVITY, BY_CORRELATION_ID, NO_CLAIMS, AuditMatch, ClaimedEntries, EntryMatch

ACTIVITIES = {
    "m365_user_disable": "Disable account",
    "m365_user_enable": "Enable account",
    "m365_password_reset": "Reset user password",
    "m365_user_update": "Update user",
    "m365_sessions_revoke": "Invalidate all refresh tokens for a user",
    "m365_license_assign": "Change user license",
    "m365_license_remove": "Change user license",
    "m365_group_add_member": "Add member to group",
    "m365_group_remove_member": "Remove member from group",
}
"""The directory audit activity each write tool produces (names as the dev tenant logs them; see docs/GRAPH.md)."""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _result(entry: Any) -> str:
    return str(getattr(entry.result, "value", entry.result) or "").lower()


def _settles(entry: Any, matched_by: EntryMatch) -> AuditMatch:
    return AuditMatch(str(entry.id), _result(entry) == "success", str(entry.result_reason or ""), matched_by)


async def _entries(gw: GraphGateway, crid: str, expression: str) -> list[Any]:
    query = DirectoryAuditsRequestBuilder.DirectoryAuditsRequestBuilderGetQueryParameters(filter=expression)
    return (await every_page(gw, crid, gw.client.audit_logs.directory_audits, query=query, max_pages=10)).items


async def _target_ids(gw: GraphGateway, tool: str, arguments: Mapping[str, Any], crid: str) -> list[str] | None:
    """Object ids the entry must name: the user, and for group tools the group too (None: not resolvable)."""
    from appliance.graph.executors.common import get_group_by_mail, get_user

    try:
        ids = [str((await get_user(gw, str(arguments["user"]), crid)).id)] if "user" in arguments else []
        if "group" in arguments:
            ids.insert(0, str((await get_group_by_mail(gw, str(arguments["group"]), crid)).id))
    except GraphCallFailed as exc:
        if exc.status == 404:
            return None
        raise
    return ids or None


def _claimed(entry: Any, claimed: ClaimedEntries) -> bool:
    """Whether `entry` is another write's: joined to another record, or correlated to another write's request."""
    correlation = str(entry.correlation_id or "")
    return str(entry.id) in claimed.entry_ids or (bool(correlation) and correlation in claimed.client_request_ids)


def _target(arguments: Mapping[str, Any]) -> tuple[str, str]:
    return str(arguments.get("user") or "").casefold(), str(arguments.get("group") or "").casefold()


def contested(activity: str, arguments: Mapping[str, Any], claimed: ClaimedEntries) -> bool:
    """Whether another write not joined to an entry yet (a rival) did the same activity on the same target in
    this window: an entry the documented fields find could then be either's, so they settle nothing."""
    return any(ACTIVITIES.get(tool) == activity and _target(json.loads(rival)) == _target(arguments)
               for tool, rival in claimed.rivals)


def by_correlation(entries: Sequence[Any], claimed: ClaimedEntries) -> AuditMatch | None:
    """The settling entry among those whose correlationId is this write's client-request-id (a success first)."""
    own = [e for e in entries if str(e.id) not in claimed.entry_ids]
    if not own:
        return None
    success = [e for e in own if _result(e) == "success"]
    return _settles((success or own)[0], BY_CORRELATION_ID)


def by_activity(entries: Sequence[Any], *, aid_id: str, target_ids: Sequence[str],
                claimed: ClaimedEntries) -> AuditMatch | None:
    """The settling entry among the window's entries of this activity: initiated by the Aid, naming every target,
    not another write's; only when exactly one remains (several: ambiguous, None; never the first one)."""
    found = [
        e for e in entries
        if e.initiated_by and e.initiated_by.user and str(e.initiated_by.user.id) == aid_id
        and set(target_ids) <= {str(t.id) for t in (e.target_resources or [])} and not _claimed(e, claimed)
    ]
    return _settles(found[0], BY_ACTIVITY) if len(found) == 1 else None


async def find_entry(gw: GraphGateway, crid: str, *, aid_id: str | None, tool: str, arguments: Mapping[str, Any],
                     client_request_id: str, since: datetime, until: datetime,
                     claimed: ClaimedEntries = NO_CLAIMS) -> AuditMatch | None:
    """The entry that settles this write, or None (not readable yet, not resolvable, claimed or ambiguous)."""
    safe = client_request_id.replace("'", "''")
    match = by_correlation(await _entries(gw, crid, f"correlationId eq '{safe}'"), claimed)
    if match is not None:
        return match
    activity = ACTIVITIES.get(tool)
    if activity is None or not aid_id:
        return None
    if contested(activity, arguments, claimed):
        return None
    ids = await _target_ids(gw, tool, arguments, crid)
    if not ids:
        return None
    expression = (f"activityDisplayName eq '{activity}' and activityDateTime ge {_stamp(since)} and "
                  f"activityDateTime le {_stamp(until)} and targetResources/any(t: t/id eq '{ids[0]}')")
    return by_activity(await _entries(gw, crid, expression), aid_id=aid_id, target_ids=ids, claimed=claimed)
