"""Graph v1.0 groups: list/$filter by mail, get, members (paged), add and remove a member ($ref); subscribed
SKUs and sign-ins (paged).

Sources (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/): group-list-members.md,
group-post-members.md (adding an existing member is a 400), group-delete-members.md, signin-list.md.
Membership of a role-assignable group can be changed only by a Privileged Role Administrator or Global
Administrator (MicrosoftDocs/entra-docs, docs/identity/role-based-access-control/groups-concept.md).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from appliance_dev.devtenant import roles
from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.graph_common import (
    WRITE_ALL,
    bad_request,
    collection,
    denied,
    graph_route,
    not_found,
    parse_filter,
    record_write,
    select,
)

ROLE_GROUP_MANAGERS = frozenset({"Privileged Role Administrator", "Global Administrator"})

GROUP_FIELDS = ("displayName", "mail", "mailNickname", "isAssignableToRole", "description")
READ = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "GroupMember.ReadWrite.All", WRITE_ALL)
WRITE = ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", WRITE_ALL)


def _shape(group: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return select({k: v for k, v in group.items() if k != "members"}, request, GROUP_FIELDS)


@graph_route(*READ)
async def list_groups(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    groups = list(ctx.state.data["groups"])
    if "$filter" in request.query:
        clauses = parse_filter(request.query["$filter"])
        # eq and startswith on displayName/mail, as "List groups" documents (microsoftgraph/
        # microsoft-graph-docs-contrib api-reference/v1.0/api/group-list.md; concepts/filter-query-parameter.md)
        groups = [g for g in groups if all(_holds(g, op, f, v) for op, f, v in clauses)]
    return collection(request, [_shape(g, request) for g in groups], "groups")


def _holds(group: dict[str, Any], op: str, field: str, value: str) -> bool:
    actual = str(group.get(field) or "").lower()
    return actual.startswith(value.lower()) if op == "startswith" else actual == value.lower()


@graph_route(*READ)
async def get_group(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    group = ctx.state.group(request.match_info["gid"])
    return web.json_response(_shape(group, request)) if group else not_found("group", request.match_info["gid"])


@graph_route(*READ)
async def list_members(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    group = ctx.state.group(request.match_info["gid"])
    if not group:
        return not_found("group", request.match_info["gid"])
    members = []
    for member_id in group["members"]:
        if user := ctx.state.user(member_id):
            members.append({"@odata.type": "#microsoft.graph.user", "id": user["id"],
                            "displayName": user["displayName"],
                            "userPrincipalName": user["userPrincipalName"]})
        elif nested := ctx.state.group(member_id):
            members.append({"@odata.type": "#microsoft.graph.group", "id": nested["id"],
                            "displayName": nested["displayName"], "mail": nested.get("mail")})
    return collection(request, members, "directoryObjects")


@graph_route(*WRITE)
async def add_member(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    group = ctx.state.group(request.match_info["gid"])
    if not group:
        return not_found("group", request.match_info["gid"])
    if not _may_manage(ctx, claims, group):
        return denied()
    body = await request.json()
    member_id = str(body.get("@odata.id", "")).rsplit("/", 1)[-1]
    user = ctx.state.user(member_id)
    if not user:
        return not_found("directoryObject", member_id)
    if user["id"] in group["members"]:
        message = "One or more added object references already exist for the following modified properties: 'members'."
        record_write(request, ctx, claims, "Add member to group", "GroupManagement", _targets(group, user), "Assign",
                     failure=message)
        return bad_request(message)
    with ctx.state.lock:
        group["members"].append(user["id"])
    record_write(request, ctx, claims, "Add member to group", "GroupManagement", _targets(group, user), "Assign")
    return web.Response(status=204)


def _targets(group: dict[str, Any], user: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": group["id"], "displayName": group["displayName"], "type": "Group"},
        {"id": user["id"], "displayName": user["displayName"], "userPrincipalName": user["userPrincipalName"]},
    ]


def _may_manage(ctx: DevTenantContext, claims: dict[str, Any], group: dict[str, Any]) -> bool:
    if not group.get("isAssignableToRole"):
        return True
    actor = ctx.state.user(claims["oid"])
    return actor is not None and bool(set(roles.active_roles(ctx.state, actor)) & ROLE_GROUP_MANAGERS)


@graph_route(*WRITE)
async def remove_member(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    group = ctx.state.group(request.match_info["gid"])
    if not group:
        return not_found("group", request.match_info["gid"])
    if not _may_manage(ctx, claims, group):
        return denied()
    uid = request.match_info["uid"]
    if uid not in group["members"]:
        return not_found("member", uid)
    user = ctx.state.user(uid)
    with ctx.state.lock:
        group["members"].remove(uid)
    targets = [
        {"id": group["id"], "displayName": group["displayName"], "type": "Group"},
        {"id": uid, "displayName": user["displayName"] if user else None},
    ]
    record_write(request, ctx, claims, "Remove member from group", "GroupManagement", targets, "Unassign")
    return web.Response(status=204)


@graph_route("Organization.Read.All", "Directory.Read.All", "LicenseAssignment.ReadWrite.All")
async def subscribed_skus(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    items = [
        {**sku, "consumedUnits": ctx.state.consumed_units(sku["skuId"]), "appliesTo": "User"}
        for sku in ctx.state.data["subscribedSkus"]
    ]
    return collection(request, items, "subscribedSkus")


@graph_route("AuditLog.Read.All")
async def sign_ins(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    clauses = parse_filter(request.query.get("$filter", ""))
    upn = next((v for op, f, v in clauses if f == "userPrincipalName"), None)
    since = next((v for op, f, v in clauses if op == "ge"), None)
    user = ctx.state.user(upn or "")
    if user is None:
        return collection(request, [], "auditLogs/signIns")
    items = ctx.state.sign_ins(user, 30)
    if since:
        items = [i for i in items if i["createdDateTime"] >= since]
    return collection(request, items, "auditLogs/signIns")


def add_routes(app: web.Application) -> None:
    """Mount group, license and audit-log routes."""
    app.router.add_get("/v1.0/groups", list_groups)
    app.router.add_get("/v1.0/groups/{gid}", get_group)
    app.router.add_get("/v1.0/groups/{gid}/members", list_members)
    app.router.add_post("/v1.0/groups/{gid}/members/$ref", add_member)
    app.router.add_delete("/v1.0/groups/{gid}/members/{uid}/$ref", remove_member)
    app.router.add_get("/v1.0/subscribedSkus", subscribed_skus)
    app.router.add_get("/v1.0/auditLogs/signIns", sign_ins)
