"""Executors for user tools: get, search, disable/enable, revoke sessions, password reset, update."""

from __future__ import annotations

import secrets
import string
from typing import Any

from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from appliance.graph.executors.common import USER_SELECT, done, get_user, items, refuse_privileged
from appliance.graph.gateway import ExecutionResult, GraphGateway


def _summary(user: Any) -> dict[str, Any]:
    return {
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "jobTitle": user.job_title,
        "department": user.department,
        "officeLocation": user.office_location,
        "accountEnabled": user.account_enabled,
        "licenses": len(user.assigned_licenses or []),
    }


async def user_get(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    state = "enabled" if user.account_enabled else "disabled"
    return done(
        gw,
        "m365_user_get",
        crid,
        _summary(user),
        f"{user.display_name} ({user.user_principal_name}): {user.job_title or 'no title'}, "
        f"{user.department or 'no department'}, account {state}.",
    )


async def user_search(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    text = args["query"].replace("'", "''")
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"startswith(displayName,'{text}') or startswith(userPrincipalName,'{text}')",
        select=USER_SELECT,
        top=10,
    )
    page = await gw.call(crid, lambda c: gw.client.users.get(request_configuration=c), query=query)
    found = [str(u.user_principal_name) for u in items(page)]
    message = f"Found {len(found)}: " + ", ".join(found) if found else f"No user starts with '{args['query']}'."
    return done(gw, "m365_user_search", crid, {"users": found}, message)


async def _patch(gw: GraphGateway, crid: str, user_id: str, body: User) -> None:
    # A write: sent at most once (see gateway.py); a lost answer is settled from the audit log.
    await gw.call(crid, lambda c: gw.client.users.by_user_id(user_id).patch(body, request_configuration=c), write=True)


async def user_disable(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    await refuse_privileged(gw, user.id, args["user"], crid)
    await _patch(gw, crid, user.id, User(account_enabled=False))
    return done(gw, "m365_user_disable", crid, {"accountEnabled": False}, f"Disabled the account of {args['user']}.")


async def user_enable(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    await refuse_privileged(gw, user.id, args["user"], crid)
    await _patch(gw, crid, user.id, User(account_enabled=True))
    return done(gw, "m365_user_enable", crid, {"accountEnabled": True}, f"Enabled the account of {args['user']}.")


async def sessions_revoke(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    await refuse_privileged(gw, user.id, args["user"], crid)
    await gw.call(
        crid,
        lambda c: gw.client.users.by_user_id(user.id).revoke_sign_in_sessions.post(request_configuration=c),
        write=True,
    )
    return done(
        gw,
        "m365_sessions_revoke",
        crid,
        {"revoked": True},
        f"Signed {args['user']} out of every session; they must sign in again.",
    )


def _temporary_password() -> str:
    alphabet = string.ascii_letters + string.digits + "!#%+-_"
    return "".join(secrets.choice(alphabet) for _ in range(24)) + "aA1!"


async def password_reset(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    await refuse_privileged(gw, user.id, args["user"], crid)
    # The temporary password is random, never logged, never returned: the person resets it through
    # self-service password reset at next sign-in (forceChangePasswordNextSignIn).
    profile = PasswordProfile(password=_temporary_password(), force_change_password_next_sign_in=True)
    await _patch(gw, crid, user.id, User(password_profile=profile))
    return done(
        gw,
        "m365_password_reset",
        crid,
        {"forceChangePasswordNextSignIn": True},
        f"Reset the password of {args['user']}. They must set a new one at next sign-in "
        "(self-service reset); no password is shown in chat.",
    )


async def user_update(gw: GraphGateway, args: dict[str, Any], crid: str) -> ExecutionResult:
    user = await get_user(gw, args["user"], crid)
    field = {"jobTitle": "job_title", "department": "department", "officeLocation": "office_location"}[args["field"]]
    await _patch(gw, crid, user.id, User(**{field: args["value"]}))
    return done(
        gw,
        "m365_user_update",
        crid,
        {args["field"]: args["value"]},
        f"Set {args['field']} of {args['user']} to '{args['value']}'.",
    )
