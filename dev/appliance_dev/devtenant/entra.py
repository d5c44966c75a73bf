"""Entra ID emulation: OpenID configuration, JWKS, device code, and the v2.0 token endpoint
(device code, authorization code, refresh token and client credentials grants).

Consent as Entra does it (MicrosoftDocs/entra-docs, docs/identity-platform/):
- access-token-claims-reference.md (`scp`) and permissions-consent-overview.md: a delegated token carries
  every scope consented for the resource, not only those the request named (`.default` asks for exactly that).
- reference-error-codes.md: a request for a scope nobody consented to fails; it never returns a narrower token.
  AADSTS65001 (DelegationDoesNotExist, `suberror: consent_required`) on the refresh-token grant; AADSTS90094
  (AdminConsentRequired) on an interactive grant, where an admin must consent.
- refresh-tokens.md: using a refresh token does not revoke it; revokeSignInSessions does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.botframework import BOT_CONNECTOR_AUDIENCE, bot_token
from appliance_dev.devtenant.context import CONTEXT_KEY, GRAPH_AUDIENCE, LOGIN_HOST, DevTenantContext
from appliance_dev.devtenant.entra_apps import client_credentials_token
from appliance_dev.devtenant.entra_assertion import assertion_error
from appliance_dev.devtenant.entra_authorize import authorize, redeem_code
from appliance_dev.devtenant.entra_policies import DEVICE_CODE_FLOW, admin_conditional_access, refused_by_policy

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}


def _ctx(request: web.Request) -> DevTenantContext:
    return request.app[CONTEXT_KEY]


def _oauth_error(error: str, description: str, status: int = 400, *, code: int = 0,
                 suberror: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": error, "error_description": description, "error_codes": [code],
                            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ")}
    if suberror:
        body["suberror"] = suberror
    return web.json_response(body, status=status)


async def openid_configuration(request: web.Request) -> web.Response:
    """`/{tenant}/v2.0/.well-known/openid-configuration`, naming the real login host."""
    tenant = request.match_info["tenant"]
    tid = _ctx(request).state.tenant_id
    base = f"{LOGIN_HOST}/{tenant}"
    return web.json_response(
        {
            "issuer": f"{LOGIN_HOST}/{tid}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": "EU",
        }
    )


async def jwks(request: web.Request) -> web.Response:
    """The token-signing keys."""
    return web.json_response({"keys": _ctx(request).jwks()})


async def device_code(request: web.Request) -> web.Response:
    """Start a device-code sign-in. The dev tenant approves it at once, as the configured Aid user."""
    form = await request.post()
    ctx = _ctx(request)
    code = "dev-dc." + secrets.token_urlsafe(16)
    with ctx.state.lock:
        ctx.state.data.setdefault("deviceCodes", {})[code] = {
            "client_id": form.get("client_id"),
            "scope": form.get("scope", ""),
        }
    return web.json_response(
        {
            "device_code": code,
            "user_code": "DEVTENANT",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": f"Dev tenant: signed in automatically as {ctx.state.data['aid']} (no browser needed).",
        }
    )


class NotConsented(Exception):
    """A token request named scopes nobody consented to for this client."""

    def __init__(self, client_id: str, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.client_id, self.missing = client_id, missing


def _granted(ctx: DevTenantContext, client_id: str, requested: str) -> list[str]:
    """Every scope consented for `client_id` (what `scp` carries); NotConsented if `requested` names others."""
    consented = list(ctx.state.data.get("clients", {}).get(client_id, {}).get("consentedScopes", []))
    missing = []
    for scope in requested.split():
        short = scope.removeprefix(GRAPH_AUDIENCE + "/")
        if short not in OIDC_SCOPES and short != ".default" and short not in consented:
            missing.append(short)
    if missing:
        raise NotConsented(client_id, missing)
    return consented


def _consent_error(exc: NotConsented, interactive: bool) -> web.Response:
    if interactive:
        return _oauth_error("invalid_grant", "AADSTS90094: The grant requires admin permission.", code=90094)
    return _oauth_error(
        "invalid_grant",
        f"AADSTS65001: The user or administrator has not consented to use the application with ID "
        f"'{exc.client_id}'. Send an interactive authorization request for this user and resource.",
        code=65001, suberror="consent_required",
    )


def _token_response(
    ctx: DevTenantContext, user: dict[str, Any], client_id: str, scopes: list[str], nonce: str | None = None,
    transfer_method: str | None = None,
) -> web.Response:
    tid = ctx.state.tenant_id
    now = int(time.time())
    id_token = ctx.sign(
        {
            **({"nonce": nonce} if nonce else {}),
            "aud": client_id,
            "iss": f"{LOGIN_HOST}/{tid}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": user["id"],
            "sub": user["id"],
            "tid": tid,
            "preferred_username": user["userPrincipalName"],
            "name": user["displayName"],
            "ver": "2.0",
        }
    )
    client_info = base64.urlsafe_b64encode(json.dumps({"uid": user["id"], "utid": tid}).encode()).decode().rstrip("=")
    return web.json_response(
        {
            "token_type": "Bearer",
            "scope": " ".join(f"{GRAPH_AUDIENCE}/{s}" for s in scopes),
            "expires_in": ctx.token_lifetime,
            "ext_expires_in": ctx.token_lifetime,
            "access_token": ctx.access_token(user, client_id, scopes),
            "refresh_token": ctx.state.issue_refresh_token(user["userPrincipalName"], client_id, scopes,
                                                           transfer_method),
            "id_token": id_token,
            "client_info": client_info,
        }
    )


async def token(request: web.Request) -> web.Response:
    """The v2.0 token endpoint."""
    try:
        return await _token(request)
    except NotConsented as exc:
        grant = str((await request.post()).get("grant_type", ""))
        return _consent_error(exc, interactive=grant != "refresh_token")


async def _token(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    form = await request.post()
    grant = str(form.get("grant_type", ""))
    client_id = str(form.get("client_id", ""))
    if not client_id:
        client_id = _basic_client_id(request)
    if grant == DEVICE_GRANT:
        with ctx.state.lock:
            pending = ctx.state.data.get("deviceCodes", {}).pop(str(form.get("device_code", "")), None)
        if pending is None:
            return _oauth_error("expired_token", "AADSTS70020: The provided device code has expired or was used.")
        blocked = refused_by_policy(ctx, DEVICE_CODE_FLOW)
        if blocked is not None:
            return blocked
        user = ctx.state.user(ctx.state.data["aid"])
        assert user is not None
        return _token_response(ctx, user, client_id, _granted(ctx, client_id, str(pending["scope"])),
                               transfer_method=DEVICE_CODE_FLOW)
    if grant == "refresh_token":
        held = ctx.state.redeem_refresh_token(str(form.get("refresh_token", "")))
        if held is None:
            return _oauth_error(
                "invalid_grant",
                "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            )
        user = ctx.state.user(held["upn"])
        if user is None or not user["accountEnabled"]:
            return _oauth_error("invalid_grant", "AADSTS50057: The user account is disabled.")
        tracked = held.get("originalTransferMethod")  # protocol tracking outlives each refresh
        blocked = refused_by_policy(ctx, tracked)
        if blocked is not None:
            return blocked
        requested = str(form.get("scope", "")) or " ".join(held["scopes"])
        return _token_response(ctx, user, held["client_id"], _granted(ctx, held["client_id"], requested),
                               transfer_method=tracked)
    if grant == "authorization_code":
        redeemed = redeem_code(ctx, form)
        if isinstance(redeemed, web.Response):
            return redeemed
        user = ctx.state.user(ctx.state.data["aid"])
        assert user is not None
        return _token_response(ctx, user, redeemed[0], _granted(ctx, redeemed[0], redeemed[1]), redeemed[2])
    if grant == "client_credentials":
        bot = ctx.state.data.get("bots", {}).get(client_id)
        if bot is not None:
            return _bot_token(ctx, request, bot, client_id, form)
        app_token = client_credentials_token(ctx, client_id, form)
        if app_token is not None:
            return app_token
        return _oauth_error(
            "unauthorized_client",
            "AADSTS700016: app-only tokens are not issued for the Aid; the Aid acts with delegated permissions only.",
        )
    return _oauth_error("unsupported_grant_type", f"AADSTS70003: grant type {grant!r} is not supported.")


def _bot_token(
    ctx: DevTenantContext, request: web.Request, bot: dict[str, Any], client_id: str, form: Any
) -> web.Response:
    """Client credentials for a registered bot app: a Bot Connector token (scope api.botframework.com).

    The app authenticates with its client secret or, when a certificate was uploaded for it, with a client
    assertion signed by that certificate's key (`entra_assertion.py`)."""
    if "client_secret" not in form and (bot.get("certificates") or "client_assertion" in form):
        refused = assertion_error(form, client_id, request.match_info["tenant"], bot.get("certificates", []))
        if refused is not None:
            return refused
    else:
        secret = str(form.get("client_secret", ""))
        if hashlib.sha256(secret.encode()).hexdigest() != bot["secretSha256"]:
            return _oauth_error("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
    if str(form.get("scope", "")) != f"{BOT_CONNECTOR_AUDIENCE}/.default":
        return _oauth_error("invalid_scope", "AADSTS70011: The provided scope is not valid for this app.")
    return web.json_response(bot_token(ctx, client_id, request.match_info["tenant"]))


def _basic_client_id(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        return base64.b64decode(header[6:]).decode().split(":", 1)[0]
    return ""


async def admin_revoke(request: web.Request) -> web.Response:
    """Revoke every refresh token of a user (as when an admin revokes consent or sessions)."""
    body = await request.json()
    return web.json_response({"revoked": _ctx(request).state.revoke_sessions(body["upn"])})


async def admin_consent(request: web.Request) -> web.Response:
    """Set the consented scopes of a client (to test missing and extra scopes)."""
    body = await request.json()
    ctx = _ctx(request)
    with ctx.state.lock:
        ctx.state.data.setdefault("clients", {})[body["client_id"]] = {"consentedScopes": body["scopes"]}
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    """Mount the Entra endpoints."""
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration)
    app.router.add_get("/{tenant}/discovery/v2.0/keys", jwks)
    app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", device_code)
    app.router.add_get("/{tenant}/oauth2/v2.0/authorize", authorize)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
    app.router.add_post("/_admin/revoke", admin_revoke)
    app.router.add_post("/_admin/consent", admin_consent)
    app.router.add_post("/_admin/conditional-access", admin_conditional_access)
