"""Shared steps of the executors: resolve a user or group, refuse protected targets, map failures."""
# The refusal rules live in `graph/protection.py` (the handler asks them before a card, executors again).

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from appliance.graph.gateway import ExecutionResult, GraphCallFailed, GraphGateway, GraphWriteUncertain
from appliance.graph.protection import SENSITIVE_USER_TOOLS, Refused, privileged_reason

Executor = Callable[[GraphGateway, dict[str, Any], str], Awaitable[ExecutionResult]]
USER_SELECT = [
    "id",
    "userPrincipalName",
    "displayName",
    "jobTitle",
    "department",
    "officeLocation",
    "accountEnabled",
    "assignedLicenses",
    "usageLocation",
]


def items(page: Any) -> list[Any]:
    """The `value` list of a Graph collection response (empty when there is none)."""
    return list(page.value or []) if page is not None else []


async def get_user(gw: GraphGateway, upn: str, crid: str) -> Any:
    """The user with this UPN (a minimal property set)."""
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=USER_SELECT)
    return await gw.call(
        crid, lambda c: gw.client.users.by_user_id(upn).get(request_configuration=c), query=query
    )


async def refuse_privileged(gw: GraphGateway, user_id: str, upn: str, crid: str) -> None:
    """Refuse a privileged target (a role holder, direct or through a group; a role-assignable group's member
    or owner; PIM-eligible), checked again at execution: the directory may have changed since the card."""
    reason = await privileged_reason(gw, user_id, upn, crid)
    if reason:
        raise Refused(f"{reason}; the Aid does not change administrator accounts. Nothing was changed.")


async def get_group_by_mail(gw: GraphGateway, mail: str, crid: str) -> Any:
    """The group with this mail address, or GraphCallFailed(404)."""
    escaped = mail.replace("'", "''")
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
        filter=f"mail eq '{escaped}'", select=["id", "displayName", "mail", "isAssignableToRole"]
    )
    page = await gw.call(crid, lambda c: gw.client.groups.get(request_configuration=c), query=query)
    if not items(page):
        raise GraphCallFailed(404, "Request_ResourceNotFound", f"no group with mail {mail}", None)
    return items(page)[0]


def failure(tool: str, crid: str, exc: GraphCallFailed, target: str) -> ExecutionResult:
    """A failed result with a sentence a person in Teams can act on (no internal detail). Graph answered, so
    the write did not happen (a lost answer or a 5xx to a write is `uncertain`, never a failure)."""
    if exc.status == 404:
        message = f"I couldn't find {target} in this tenant. Check the address and try again."
    elif exc.status == 403 and tool in SENSITIVE_USER_TOOLS:
        message = (f"Microsoft 365 refused to change {target}: it protects administrators and members of "
                   "role-assignable groups from this action. Nothing was changed; a privileged administrator "
                   "must do it.")
    elif exc.status == 403:
        message = "I'm not allowed to do that: the Aid lacks the permission or role for it. An admin can grant it."
    elif exc.status in (429, 503, 504) or exc.status is None:
        message = "Microsoft 365 is busy or unreachable right now; nothing was changed. Please try again shortly."
    elif exc.status == 400:
        message = f"Microsoft 365 refused the change: {exc.message}"
    else:
        message = f"The change failed (Graph status {exc.status}); nothing else was done."
    return ExecutionResult(tool, "failed", crid, exc.status, exc.request_id, {"error": exc.code}, message)


def uncertain(tool: str, crid: str, exc: GraphWriteUncertain, target: str) -> ExecutionResult:
    """A write sent once whose answer was lost or was a 5xx: never sent again; the audit log settles it."""
    answer = exc.status or "no answer"
    message = (f"I sent the change for {target} to Microsoft 365 but got no clear answer ({answer}). "
               "It will not be sent again: I'm checking the Microsoft 365 audit log for what happened and will tell "
               "you.")
    return ExecutionResult(tool, "unknown", crid, exc.status, exc.request_id, {"reason": exc.reason}, message)


def done(gw: GraphGateway, tool: str, crid: str, result: dict[str, Any], message: str) -> ExecutionResult:
    """A successful result carrying the wire status and Graph request-id of the last call."""
    status, request_id = gw.wire(crid)
    return ExecutionResult(tool, "done", crid, status, request_id, result, message)
