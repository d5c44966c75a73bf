"""Graph v1.0 users: get, list/$filter, memberOf, PATCH, assignLicense, revokeSignInSessions,
authentication methods. Every write records a directoryAudit with the caller's client-request-id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.faults import odata_error
from appliance_dev.devtenant.graph_common import (
    GRAPH,
    WRITE_ALL,
    bad_request,
    collection,
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


@graph_route(*READ)
async def member_of(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    return collection(request, _memberships(ctx, user, transitive=False), "directoryObjects")


@graph_route(*READ)
async def transitive_member_of(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    """microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-list-transitivememberof.md:
    groups and directory roles held directly or through group membership (User.Read.All and up)."""
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    return collection(request, _memberships(ctx, user, transitive=True), "directoryObjects")


def _memberships(ctx: DevTenantContext, user: dict[str, Any], *, transitive: bool) -> list[dict[str, Any]]:
    """The user's directory roles and groups (with `transitive`, also the groups that contain those)."""
    roles = [
        {"@odata.type": "#microsoft.graph.directoryRole", "id": f"role-{name}", "displayName": name}
        for name in user.get("directoryRoles", [])
    ]
    groups_of = [g for g in ctx.state.data["groups"] if user["id"] in g["members"]]
    while transitive:  # the groups that contain one of those, until nothing new is found
        ids = {g["id"] for g in groups_of}
        outer = [g for g in ctx.state.data["groups"] if g not in groups_of and ids & set(g["members"])]
        groups_of += outer
        transitive = bool(outer)
    groups = [
        {"@odata.type": "#microsoft.graph.group", "id": g["id"], "displayName": g["displayName"], "mail": g.get("mail")}
        for g in groups_of
    ]
    return roles + groups


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
            return odata_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    with ctx.state.lock:
        for field, value in body.items():
            user[field] = value
    if "accountEnabled" in body:
        activity = "Enable account" if body["accountEnabled"] else "Disable account"
    elif "passwordProfile" in body:
        activity = "Reset user password"
    else:
        activity = "Update user"
    record_write(request, ctx, claims, activity, "UserManagement", [_target(user)])
    return web.Response(status=204)


@graph_route("LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", WRITE_ALL)
async def assign_license(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
    body = await request.json()
    if not user.get("usageLocation"):
        return bad_request("License assignment cannot be done for user with invalid usage location.")
    with ctx.state.lock:
        for item in body.get("addLicenses") or []:
            sku = ctx.state.sku(item["skuId"])
            if sku is None:
                return bad_request(f"License {item['skuId']} does not correspond to a valid company License.")
            held = any(a["skuId"] == item["skuId"] for a in user["assignedLicenses"])
            if not held and ctx.state.consumed_units(item["skuId"]) >= sku["prepaidUnits"]["enabled"]:
                return bad_request(f"Subscription for {sku['skuPartNumber']} has no more available licenses.")
            if not held:
                user["assignedLicenses"].append(
                    {"skuId": item["skuId"], "disabledPlans": item.get("disabledPlans", [])}
                )
        removing = set(body.get("removeLicenses") or [])
        user["assignedLicenses"] = [a for a in user["assignedLicenses"] if a["skuId"] not in removing]
    record_write(request, ctx, claims, "Change user license", "UserManagement", [_target(user)])
    return web.json_response(_shape(user, request))


@graph_route("User.RevokeSessions.All", "User.ReadWrite.All", WRITE_ALL)
async def revoke_sessions(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    user = ctx.state.user(request.match_info["key"])
    if not user:
        return not_found("user", request.match_info["key"])
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
    app.router.add_post("/v1.0/users/{key}/assignLicense", assign_license)
    app.router.add_post("/v1.0/users/{key}/revokeSignInSessions", revoke_sessions)
    app.router.add_get("/v1.0/users/{key}/authentication/methods", auth_methods)
