"""Graph v1.0 users: get, list/$filter, memberOf, transitiveMemberOf, ownedObjects, PATCH, assignLicense,
revokeSignInSessions, authentication methods. Every write the directory acts on (done, or refused by a
directory rule) records a directoryAudit with the caller's client-request-id.

Sources (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/api/): user-list-memberof.md (direct
memberships only), user-list-transitivememberof.md (groups and directory roles through nesting),
user-list-ownedobjects.md, user-update.md, user-assignlicense.md, user-revokesigninsessions.md; who may
take a sensitive action on whom: resources/users.md (see `roles.py`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from appliance_dev.devtenant import roles
from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.graph_common import (
    GRAPH,
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

USER_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "officeLocation",
    "surname",
    "userPrincipalName",
    "department",
    "accountEnabled",
    "usageLocation",
)
READ = ("User.Read.All", "User.ReadBasic.All", "Directory.Read.All", WRITE_ALL, "User.ReadWrite.All")


def _target(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "displayName": user["displayName"], "userPrincipalName": user["userPrincipalName"]}


def _shape(user: dict[str, Any], request: web.Request) -> dict[str, Any]:
    public = {k: v for k, v in user.items() if k not in {"directoryRoles", "authenticationMethods", "passwordProfile"}}
    return {"@odata.context": f"{GRAPH}/$metadata#users/$entity", **select(public, request, USER_FIELDS)}


@graph_route(*READ)
async def get_user(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    return web.json_response(_shape(user, request)) if user else not_found("user", request.match_info["key"])


@graph_route(*READ)
async def list_users(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    users = list(ctx.state.data["users"])
    if "$filter" in request.query:
        clauses = parse_filter(request.query["$filter"])
        any_of = " or " in request.query["$filter"]
        users = [u for u in users if _matches(u, clauses, any_of)]
    return collection(request, [_shape(u, request) for u in users], "users")


def _matches(obj: dict[str, Any], clauses: list[tuple[str, str, str]], any_of: bool) -> bool:
    results = []
    for op, field, value in clauses:
        actual = str(obj.get(field) or "").lower()
        results.append(actual == value.lower() if op == "eq" else actual.startswith(value.lower()))
    return any(results) if any_of else all(results)


MEMBERSHIP_READ = ("User.Read", "User.Read.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All",
                   "GroupMember.ReadBasic.All", "Group.ReadBasic.All", WRITE_ALL)


def _group_object(group: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.group", "id": group["id"], "displayName": group["displayName"],
            "mail": group.get("mail"), "isAssignableToRole": bool(group.get("isAssignableToRole"))}


def _role_object(name: str) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.directoryRole", "id": roles.role_id(name), "displayName": name,
            "roleTemplateId": roles.role_id(name)}


def transitive_groups(ctx: DevTenantContext, member_id: str) -> list[dict[str, Any]]:
    """Every group `member_id` belongs to, directly or through nested groups (directory order)."""
    found: set[str] = set()
    frontier = {member_id}
    while frontier:
        newer = {g["id"] for g in ctx.state.data["groups"] if frontier & set(g["members"]) and g["id"] not in found}
        found |= newer
        frontier = newer
    return [g for g in ctx.state.data["groups"] if g["id"] in found]


@graph_route(*MEMBERSHIP_READ)
async def member_of(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    """Direct memberships: groups the user is a member of, and roles assigned to the user directly."""
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    groups = [_group_object(g) for g in ctx.state.data["groups"] if user["id"] in g["members"]]
    return collection(request, groups + [_role_object(r) for r in user.get("directoryRoles", [])], "directoryObjects")


@graph_route(*MEMBERSHIP_READ)
async def transitive_member_of(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    """Every group (through nesting) and every active role (direct or through a role-assignable group)."""
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    groups = [_group_object(g) for g in transitive_groups(ctx, user["id"])]
    held = [_role_object(r) for r in roles.active_roles(ctx.state, user)]
    return collection(request, groups + held, "directoryObjects")


@graph_route("User.Read", "User.Read.All", "Directory.Read.All", "User.ReadWrite.All", WRITE_ALL)
async def owned_objects(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    """Directory objects the user owns (here: groups)."""
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    owned = [_group_object(g) for g in ctx.state.data["groups"] if user["id"] in g.get("owners", [])]
    return collection(request, owned, "directoryObjects")


PATCH_SCOPES = {
    "accountEnabled": {"User.EnableDisableAccount.All", "User.ReadWrite.All", WRITE_ALL},
    "passwordProfile": {"User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", WRITE_ALL},
    "jobTitle": {"User.ReadUpdate.All", "User.ReadWrite.All", WRITE_ALL},
    "department": {"User.ReadUpdate.All", "User.ReadWrite.All", WRITE_ALL},
    "officeLocation": {"User.ReadUpdate.All", "User.ReadWrite.All", WRITE_ALL},
}


@graph_route()
async def patch_user(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    body = {k: v for k, v in (await request.json()).items() if not k.startswith("@odata.")}
    granted = set(claims.get("scp", "").split())
    for field in body:
        if field not in PATCH_SCOPES:
            return bad_request(f"Property '{field}' is not supported by the dev tenant.")
        if not granted & PATCH_SCOPES[field]:
            return denied()
    table = roles.WHO_CAN_RESET_PASSWORD if "passwordProfile" in body else roles.WHO_CAN_UPDATE_SENSITIVE
    if ("accountEnabled" in body or "passwordProfile" in body) and not _may_act(ctx, claims, user, table):
        return _protected(request, ctx, claims, user, _activity(body))
    with ctx.state.lock:
        for field, value in body.items():
            user[field] = value
    record_write(request, ctx, claims, _activity(body), "UserManagement", [_target(user)])
    return web.Response(status=204)


def _activity(body: dict[str, Any]) -> str:
    if "accountEnabled" in body:
        return "Enable account" if body["accountEnabled"] else "Disable account"
    return "Reset user password" if "passwordProfile" in body else "Update user"


def _may_act(ctx: DevTenantContext, claims: dict[str, Any], target: dict[str, Any], table: Any) -> bool:
    actor = ctx.state.user(claims["oid"])
    return actor is not None and roles.may_act(ctx.state, actor, target, table)


def _protected(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any], user: dict[str, Any],
               activity: str) -> web.Response:
    """A privileged target: 403, and the refused attempt is in the audit log."""
    record_write(request, ctx, claims, activity, "UserManagement", [_target(user)], failure="Insufficient privileges")
    return denied()


def _refused(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any], user: dict[str, Any],
             message: str) -> web.Response:
    """A license change the directory refuses: 400, and a failure entry in the audit log."""
    record_write(request, ctx, claims, "Change user license", "UserManagement", [_target(user)], failure=message)
    return bad_request(message)


@graph_route("LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", WRITE_ALL)
async def assign_license(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    body = await request.json()
    if not user.get("usageLocation"):
        return _refused(request, ctx, claims, user,
                        "License assignment cannot be done for user with invalid usage location.")
    with ctx.state.lock:
        problem = _license_problem(ctx, user, body)
        if problem:
            return _refused(request, ctx, claims, user, problem)
        for item in body.get("addLicenses") or []:
            if not any(a["skuId"] == item["skuId"] for a in user["assignedLicenses"]):
                user["assignedLicenses"].append(
                    {"skuId": item["skuId"], "disabledPlans": item.get("disabledPlans", [])}
                )
        removing = set(body.get("removeLicenses") or [])
        user["assignedLicenses"] = [a for a in user["assignedLicenses"] if a["skuId"] not in removing]
    record_write(request, ctx, claims, "Change user license", "UserManagement", [_target(user)])
    return web.json_response(_shape(user, request))


def _license_problem(ctx: DevTenantContext, user: dict[str, Any], body: dict[str, Any]) -> str | None:
    """Why assignLicense refuses this body, or None (user-assignlicense.md: an unknown SKU, no free units, and
    removing a license the user does not hold are 400s)."""
    for item in body.get("addLicenses") or []:
        sku = ctx.state.sku(item["skuId"])
        if sku is None:
            return f"License {item['skuId']} does not correspond to a valid company License."
        held = any(a["skuId"] == item["skuId"] for a in user["assignedLicenses"])
        if not held and ctx.state.consumed_units(item["skuId"]) >= sku["prepaidUnits"]["enabled"]:
            return f"Subscription for {sku['skuPartNumber']} has no more available licenses."
    for sku_id in body.get("removeLicenses") or []:
        if not any(a["skuId"] == sku_id for a in user["assignedLicenses"]):
            return "User does not have a corresponding license."
    return None


@graph_route("User.RevokeSessions.All", "User.ReadWrite.All", WRITE_ALL)
async def revoke_sessions(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    # user-revokesigninsessions.md: "this operation is performed (by the user or an administrator)" and the
    # page lists `POST /me/revokeSignInSessions`: a user may always revoke their own sessions; the role tables
    # apply only when the caller acts on someone else.
    oneself = claims.get("oid") == user["id"]
    if not oneself and not _may_act(ctx, claims, user, roles.WHO_CAN_UPDATE_SENSITIVE):
        return _protected(request, ctx, claims, user, "Invalidate all refresh tokens for a user")
    ctx.state.revoke_sessions(user["userPrincipalName"])
    record_write(request, ctx, claims, "Invalidate all refresh tokens for a user", "UserManagement", [_target(user)])
    return web.json_response({"@odata.context": f"{GRAPH}/$metadata#Edm.Boolean", "value": True})


METHOD_TYPES = {
    "password": "#microsoft.graph.passwordAuthenticationMethod",
    "microsoftAuthenticator": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    "fido2": "#microsoft.graph.fido2AuthenticationMethod",
    "phone": "#microsoft.graph.phoneAuthenticationMethod",
}


@graph_route("UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All")
async def auth_methods(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    items = [
        {"@odata.type": METHOD_TYPES.get(m, "#microsoft.graph.authenticationMethod"), "id": f"{m}-{user['id']}"}
        for m in user.get("authenticationMethods", [])
    ]
    return collection(request, items, "users/authentication/methods")


def add_routes(app: web.Application) -> None:
    """Mount the user routes."""
    app.router.add_get("/v1.0/users", list_users)
    app.router.add_get("/v1.0/users/{key}", get_user)
    app.router.add_patch("/v1.0/users/{key}", patch_user)
    app.router.add_get("/v1.0/users/{key}/memberOf", member_of)
    app.router.add_get("/v1.0/users/{key}/transitiveMemberOf", transitive_member_of)
    app.router.add_get("/v1.0/users/{key}/ownedObjects", owned_objects)
    app.router.add_post("/v1.0/users/{key}/assignLicense", assign_license)
    app.router.add_post("/v1.0/users/{key}/revokeSignInSessions", revoke_sessions)
    app.router.add_get("/v1.0/users/{key}/authentication/methods", auth_methods)
