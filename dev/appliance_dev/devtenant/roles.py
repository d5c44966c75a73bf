"""Directory roles as Entra models them, and who may take a sensitive action on whom.

- A user holds a role directly, or through membership of a role-assignable group the role is assigned to;
  a PIM-eligible assignment is not held until it is activated (it grants nothing on its own).
- Sensitive actions (enable/disable via `accountEnabled`, `passwordProfile`) are allowed only to some
  administrator roles for some targets; Graph answers 403 otherwise. The two tables below are Microsoft's
  (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources/users.md, "Who can reset
  passwords?" and "Who can update sensitive attributes?"): a target's row is each role it holds, "User" when
  it holds none, and the role-assignable row when it is a member or owner of a role-assignable group.
  A role the tables do not list is treated like Global Administrator (only the two most privileged roles).
- `revokeSignInSessions` is not in those tables; the dev tenant applies the sensitive-attribute table to it
  (an assumption, listed as unverified in docs/GRAPH.md).
- Eligible assignments: `GET /roleManagement/directory/roleEligibilityScheduleInstances`
  (api-reference/v1.0/api/rbacapplication-list-roleeligibilityscheduleinstances.md), least-privileged
  delegated scope RoleEligibilitySchedule.Read.Directory; the caller also needs a reader role.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.graph_common import collection, denied, graph_route, parse_filter

PAA, GA = "Privileged Authentication Administrator", "Global Administrator"
AUTH, USER_ADMIN = "Authentication Administrator", "User Administrator"
HELPDESK, PASSWORD = "Helpdesk Administrator", "Password Administrator"
PLAIN_USER, ROLE_ASSIGNABLE = "User", "member or owner of a role-assignable group"
_ALL_RESET = frozenset({PASSWORD, HELPDESK, AUTH, USER_ADMIN, PAA, GA})
_ALL_SENSITIVE = frozenset({AUTH, USER_ADMIN, PAA, GA})
_TOP = frozenset({PAA, GA})

WHO_CAN_RESET_PASSWORD: dict[str, frozenset[str]] = {
    AUTH: frozenset({AUTH, PAA, GA}),
    "Directory Readers": _ALL_RESET,
    GA: _TOP,
    "Groups Administrator": frozenset({USER_ADMIN, PAA, GA}),
    "Guest Inviter": _ALL_RESET,
    HELPDESK: frozenset({HELPDESK, USER_ADMIN, PAA, GA}),
    "Message Center Reader": frozenset({HELPDESK, AUTH, USER_ADMIN, PAA, GA}),
    PASSWORD: _ALL_RESET,
    PAA: _TOP,
    "Privileged Role Administrator": _TOP,
    "Reports Reader": frozenset({HELPDESK, AUTH, USER_ADMIN, PAA, GA}),
    PLAIN_USER: _ALL_RESET,
    ROLE_ASSIGNABLE: _TOP,
    USER_ADMIN: frozenset({USER_ADMIN, PAA, GA}),
    "Usage Summary Reports Reader": frozenset({HELPDESK, AUTH, USER_ADMIN, PAA, GA}),
}
WHO_CAN_UPDATE_SENSITIVE: dict[str, frozenset[str]] = {
    AUTH: frozenset({AUTH, PAA, GA}),
    "Directory Readers": _ALL_SENSITIVE,
    GA: _TOP,
    "Groups Administrator": frozenset({USER_ADMIN, PAA, GA}),
    "Guest Inviter": _ALL_SENSITIVE,
    HELPDESK: frozenset({USER_ADMIN, PAA, GA}),
    "Message Center Reader": _ALL_SENSITIVE,
    PASSWORD: _ALL_SENSITIVE,
    PAA: _TOP,
    "Privileged Role Administrator": _TOP,
    "Reports Reader": _ALL_SENSITIVE,
    PLAIN_USER: _ALL_SENSITIVE,
    ROLE_ASSIGNABLE: _TOP,
    USER_ADMIN: frozenset({USER_ADMIN, PAA, GA}),
    "Usage Summary Reports Reader": _ALL_SENSITIVE,
}
ROLE_READERS = frozenset({"Global Reader", "Security Reader", "Security Operator", "Security Administrator",
                          "Privileged Role Administrator", GA})
"""Roles that may read PIM role eligibility (the rbac-pim-entra-roles-apis include of the list page)."""


def role_id(name: str) -> str:
    """A stable object id for the directory role `name` (the dev tenant activates every role it names)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"devtenant/directoryRole/{name}"))


def role_assignable_groups(state: Any, user: dict[str, Any]) -> list[dict[str, Any]]:
    """Role-assignable groups `user` is a member or owner of."""
    return [g for g in state.data["groups"] if g.get("isAssignableToRole")
            and (user["id"] in g["members"] or user["id"] in g.get("owners", []))]


def active_roles(state: Any, user: dict[str, Any]) -> list[str]:
    """Roles `user` holds now: direct assignments, then those of role-assignable groups they are a member of."""
    held = list(user.get("directoryRoles", []))
    for group in state.data["groups"]:
        if group.get("isAssignableToRole") and user["id"] in group["members"]:
            held += [r for r in group.get("assignedRoles", []) if r not in held]
    return held


def eligible(state: Any, user_id: str) -> list[dict[str, Any]]:
    """The user's PIM-eligible role assignments (not active until activated)."""
    return [e for e in state.data.get("roleEligibilities", []) if e["principalId"] == user_id]


def may_act(state: Any, actor: dict[str, Any], target: dict[str, Any], table: dict[str, frozenset[str]]) -> bool:
    """True if one of `actor`'s roles is allowed for every row `target` falls in (users.md tables)."""
    rows = active_roles(state, target) or [PLAIN_USER]
    if role_assignable_groups(state, target):
        rows.append(ROLE_ASSIGNABLE)
    allowed = set(active_roles(state, actor))
    for row in rows:
        allowed &= table.get(row, _TOP)
    return bool(allowed)


@graph_route("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All",
             "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory")
async def eligibility_instances(request: web.Request, ctx: DevTenantContext, claims: dict[str, Any]) -> web.Response:
    actor = ctx.state.user(claims["oid"])
    if actor is None or not set(active_roles(ctx.state, actor)) & ROLE_READERS:
        return denied()
    clauses = parse_filter(request.query.get("$filter", "")) if "$filter" in request.query else []
    principal = next((v for op, f, v in clauses if f == "principalId"), None)
    items = [
        {"id": f"{e['principalId']}-{role_id(e['roleName'])}", "principalId": e["principalId"],
         "roleDefinitionId": role_id(e["roleName"]), "directoryScopeId": "/", "memberType": "Direct"}
        for e in ctx.state.data.get("roleEligibilities", []) if principal is None or e["principalId"] == principal
    ]
    return collection(request, items, "roleManagement/directory/roleEligibilityScheduleInstances")


def add_routes(app: web.Application) -> None:
    """Mount the role-management routes."""
    app.router.add_get("/v1.0/roleManagement/directory/roleEligibilityScheduleInstances", eligibility_instances)
