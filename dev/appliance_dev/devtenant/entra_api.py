"""Entra for APIs the tenant protects (the Aid's MCP endpoint): app registrations that expose a delegated scope
and an app role, and access tokens for them, signed with the tenant's key and published JWKS.

What a token carries follows MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md:
v2.0 tokens (`ver` 2.0) have `aud` = the API's client id, `iss` = https://login.microsoftonline.com/{tid}/v2.0,
`azp` = the client application, `preferred_username`; v1.0 tokens have `aud` = the Application ID URI,
`iss` = https://sts.windows.net/{tid}/, `appid`, `upn`. Both carry `oid`, `tid`, `scp` (space-separated
delegated scopes) and, for a user assigned an app role, `roles`
(docs/identity-platform/howto-add-app-roles-in-apps.md).

A real tenant hands such a token to a client after the person signs in (authorization code + PKCE) and an
admin consented; the dev tenant skips the browser: `POST /_admin/tokens` mints the token that sign-in would
give (like `/_admin/teams/send` plays a Teams user), refusing a scope the API does not expose.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import CONTEXT_KEY, LOGIN_HOST, DevTenantContext


def register_api(ctx: DevTenantContext, app_id: str, app_id_uri: str, *, scopes: list[str],
                 app_roles: list[str], token_version: int | None = None) -> None:
    """Register (or replace) an API: its client id, Application ID URI, exposed scopes and app roles, and its
    manifest's `requestedAccessTokenVersion` (None, Entra's default, means v1.0 tokens for app-only callers)."""
    with ctx.state.lock:
        ctx.state.data.setdefault("apis", {})[app_id] = {"appIdUri": app_id_uri, "scopes": scopes,
                                                         "appRoles": app_roles,
                                                         "requestedAccessTokenVersion": token_version}
    ctx.state.save()


def api_for(ctx: DevTenantContext, scope: str) -> tuple[str, dict[str, Any], str] | None:
    """(client id, registration, short scope name) of `api://.../Scope` (or `.../.default`), or None."""
    resource, _, short = scope.rpartition("/")
    for app_id, api in ctx.state.data.get("apis", {}).items():
        if resource in (api["appIdUri"], app_id, f"api://{app_id}"):
            return app_id, api, short
    return None


def api_access_token(ctx: DevTenantContext, user: dict[str, Any], client_id: str, scope: str, *,
                     version: int = 2, roles: list[str] | None = None) -> str:
    """An access token for `user` calling the API named by `scope`, through `client_id` (ValueError if the API
    is not registered or does not expose the scope)."""
    found = api_for(ctx, scope)
    if found is None:
        raise ValueError(f"AADSTS500011: The resource principal named {scope.rpartition('/')[0]} was not found "
                         "in the tenant.")
    app_id, api, short = found
    granted = [s for s in api["scopes"] if short in (s, ".default")]
    assigned = [r for r in (roles or []) if r in api["appRoles"]]
    if not granted and not assigned:
        raise ValueError(f"AADSTS65005: The application asked for scope {short!r}, which the API does not expose.")
    tid = ctx.state.tenant_id
    subject = uuid.uuid5(uuid.NAMESPACE_URL, f"{client_id}/{user['id']}").hex
    claims = token_claims(ctx, app_id, api, tid=tid, client_id=client_id, version=version, oid=user["id"],
                          sub=subject, client_authenticated=False)
    claims["name"] = user["displayName"]
    claims["upn" if version == 1 else "preferred_username"] = user["userPrincipalName"]
    if granted:
        claims["scp"] = " ".join(granted)
    if assigned:
        claims["roles"] = assigned
    return ctx.sign(claims)


def token_claims(ctx: DevTenantContext, app_id: str, api: dict[str, Any], *, tid: str, client_id: str, version: int,
                 oid: str, sub: str, client_authenticated: bool) -> dict[str, Any]:
    """The claims every access token for the API carries, in the shape of its version (v1.0: `aud` the App ID
    URI, `iss` sts.windows.net, `appid`; v2.0: `aud` the client id, `iss` login.microsoftonline.com, `azp`)."""
    now = int(time.time())
    acr = "1" if client_authenticated else "0"
    claims: dict[str, Any] = {"iat": now, "nbf": now, "exp": now + ctx.token_lifetime, "oid": oid, "sub": sub,
                              "tid": tid, "uti": uuid.uuid4().hex}
    if version == 1:
        claims.update(aud=api["appIdUri"], iss=f"https://sts.windows.net/{tid}/", appid=client_id, appidacr=acr,
                      ver="1.0")
    else:
        claims.update(aud=app_id, iss=f"{LOGIN_HOST}/{tid}/v2.0", azp=client_id, azpacr=acr, ver="2.0")
    return claims


async def admin_token(request: web.Request) -> web.Response:
    """`POST /_admin/tokens {"upn", "client_id", "scope", "version"?, "roles"?}`: the token a signed-in user's
    client would receive for an API of this tenant."""
    ctx = request.app[CONTEXT_KEY]
    body = await request.json()
    user = ctx.state.user(str(body.get("upn", "")))
    if user is None or not user.get("accountEnabled", True):
        return web.json_response({"error": "invalid_grant", "error_description": "AADSTS50034: no such enabled "
                                  "user in this tenant."}, status=400)
    try:
        token = api_access_token(ctx, user, str(body.get("client_id") or "dev-mcp-client"), str(body.get("scope", "")),
                                 version=int(body.get("version", 2)), roles=list(body.get("roles") or []))
    except ValueError as exc:
        return web.json_response({"error": "invalid_scope", "error_description": str(exc)}, status=400)
    return web.json_response({"token_type": "Bearer", "access_token": token, "expires_in": ctx.token_lifetime})


def add_routes(app: web.Application) -> None:
    """Mount the API-token admin endpoint."""
    app.router.add_post("/_admin/tokens", admin_token)
