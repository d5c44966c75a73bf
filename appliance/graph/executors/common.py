"""Shared steps of the executors: resolve a user or group, refuse protected targets, map failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from appliance.graph.gateway import ExecutionResult, GraphCallFailed, GraphGateway

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


class Refused(Exception):
    """The appliance refuses the target itself (admin account, role-assignable group)."""


async def get_user(gw: GraphGateway, upn: str, crid: str) -> Any:
    """The user with this UPN (a minimal property set)."""
    query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=USER_SELECT)
    return await gw.call(
        crid, lambda c: gw.client.users.by_user_id(upn).get(request_configuration=c), idempotent=True, query=query
    )


async def refuse_admin(gw: GraphGateway, user_id: str, upn: str, crid: str) -> None:
    """Refuse a target that holds any directory role (the Aid never acts on administrators)."""
    page = await gw.call(
        crid, lambda c: gw.client.users.by_user_id(user_id).member_of.get(request_configuration=c), idempotent=True
    )
    roles = [o for o in items(page) if (o.odata_type or "").endswith("directoryRole")]
    if roles:
        raise Refused(f"{upn} holds an administrator role; the Aid does not change administrator accounts.")


async def get_group_by_mail(gw: GraphGateway, mail: str, crid: str) -> Any:
    """The group with this mail address, or GraphCallFailed(404)."""
    escaped = mail.replace("'", "''")
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
        filter=f"mail eq '{escaped}'", select=["id", "displayName", "mail", "isAssignableToRole"]
    )
    page = await gw.call(crid, lambda c: gw.client.groups.get(request_configuration=c), idempotent=True, query=query)
    if not items(page):
        raise GraphCallFailed(404, "Request_ResourceNotFound", f"no group with mail {mail}", None)
    return items(page)[0]


def failure(tool: str, crid: str, exc: GraphCallFailed, target: str) -> ExecutionResult:
    """A failed result with a sentence a person in Teams can act on (no internal detail)."""
    if exc.status == 404:
        message = f"I couldn't find {target} in this tenant. Check the address and try again."
    elif exc.status == 403:
        message = "I'm not allowed to do that: the Aid lacks the permission or role for it. An admin can grant it."
    elif exc.status in (429, 503, 504) or exc.status is None:
        message = "Microsoft 365 is busy or unreachable right now; nothing was changed. Please try again shortly."
    elif exc.status == 400:
        message = f"Microsoft 365 refused the change: {exc.message}"
    else:
        message = f"The change failed (Graph status {exc.status}); nothing else was done."
    return ExecutionResult(tool, "failed", crid, exc.status, exc.request_id, {"error": exc.code}, message)


def done(gw: GraphGateway, tool: str, crid: str, result: dict[str, Any], message: str) -> ExecutionResult:
    """A successful result carrying the wire status and Graph request-id of the last call."""
    status, request_id = gw.wire(crid)
    return ExecutionResult(tool, "done", crid, status, request_id, result, message)
