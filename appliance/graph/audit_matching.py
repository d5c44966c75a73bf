"""Finding the M365 directory audit entry of one of the Aid's writes, to settle what happened to it.

Two matches, in order (docs/GRAPH.md lists what each rests on):
1. `correlationId eq '<client-request-id>'`: the appliance sends a fresh client-request-id with every
   write. That the directory audit's correlationId echoes it is observed, not documented by Microsoft.
2. The documented fields of a directoryAudit (microsoftgraph/microsoft-graph-docs-contrib,
   api-reference/v1.0/resources/directoryaudit.md; `$filter` support: api/directoryaudit-list.md):
   the same `activityDisplayName`, a `targetResources` id equal to the target's object id, `initiatedBy.user.id`
   the Aid, and `activityDateTime` inside the action's time window. Exactly one such entry settles it;
   several are ambiguous and settle nothing (the action stays Unknown and says so).
Only `result: success` settles DONE; `failure` settles FAILED with its `resultReason`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgraph.generated.audit_logs.directory_audits.directory_audits_request_builder import (
    DirectoryAuditsRequestBuilder,
)

from appliance.graph.gateway import GraphCallFailed, GraphGateway
from appliance.graph.paging import every_page
from appliance.types import AuditMatch

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


def _settles(entry: Any, matched_by: str) -> AuditMatch:
    result = str(getattr(entry.result, "value", entry.result) or "").lower()
    return AuditMatch(str(entry.id), result == "success", str(entry.result_reason or ""), matched_by)


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


async def find_entry(gw: GraphGateway, crid: str, *, aid_id: str | None, tool: str, arguments: Mapping[str, Any],
                     client_request_id: str, since: datetime, until: datetime) -> AuditMatch | None:
    """The entry that settles this write, or None (not readable yet, not resolvable, or ambiguous)."""
    safe = client_request_id.replace("'", "''")
    by_correlation = await _entries(gw, crid, f"correlationId eq '{safe}'")
    if by_correlation:
        success = [e for e in by_correlation if str(getattr(e.result, "value", e.result)).lower() == "success"]
        return _settles((success or by_correlation)[0], "correlationId")
    activity = ACTIVITIES.get(tool)
    if activity is None or not aid_id:
        return None
    ids = await _target_ids(gw, tool, arguments, crid)
    if not ids:
        return None
    expression = (f"activityDisplayName eq '{activity}' and activityDateTime ge {_stamp(since)} and "
                  f"activityDateTime le {_stamp(until)} and targetResources/any(t: t/id eq '{ids[0]}')")
    found = [
        e for e in await _entries(gw, crid, expression)
        if e.initiated_by and e.initiated_by.user and str(e.initiated_by.user.id) == aid_id
        and set(ids) <= {str(t.id) for t in (e.target_resources or [])}
    ]
    return _settles(found[0], "activity") if len(found) == 1 else None
