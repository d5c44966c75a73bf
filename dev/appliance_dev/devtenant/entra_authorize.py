"""The authorization code flow with PKCE: `/{tenant}/oauth2/v2.0/authorize` and the code's redemption.

Microsoft's pages emulated here (MicrosoftDocs/entra-docs):
- docs/identity-platform/v2-oauth2-auth-code-flow.md: the authorize request carries `client_id`,
  `response_type=code`, `redirect_uri`, `scope`, `state`, `code_challenge` and `code_challenge_method`
  (S256 recommended); after sign-in Entra redirects to `redirect_uri?code=...&state=...`; the token
  request must repeat `redirect_uri` and send `code_verifier`, whose SHA-256 (base64url) must equal the
  challenge, else `invalid_grant`; a code is redeemed once.
- docs/identity-platform/reply-url.md: for public clients, `http://localhost` reply URLs may use any port
  (the loopback exception), so a desktop client listens on a free local port.
The dev tenant signs the configured Aid in at once (no sign-in page), as its device-code flow does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from appliance_dev.devtenant.context import CONTEXT_KEY, DevTenantContext

CODE_SECONDS = 600


def _error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description, "error_codes": [0],
                              "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ")}, status=status)


def _loopback(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")


async def authorize(request: web.Request) -> web.Response:
    """Issue a code for the Aid and redirect to the (loopback) redirect URI."""
    ctx: DevTenantContext = request.app[CONTEXT_KEY]
    query = request.query
    redirect_uri, challenge = query.get("redirect_uri", ""), query.get("code_challenge", "")
    if query.get("response_type") != "code" or not query.get("client_id"):
        return _error("invalid_request",
                      "AADSTS900144: The request body must contain response_type=code and client_id.")
    if not _loopback(redirect_uri):
        return _error("invalid_request", "AADSTS50011: The redirect URI specified in the request does not match the "
                      "redirect URIs configured for the application (public clients: http://localhost).")
    if not challenge or query.get("code_challenge_method") != "S256":
        return _error("invalid_request", "AADSTS9002325: Proof Key for Code Exchange is required (S256).")
    code = "dev-ac." + secrets.token_urlsafe(24)
    with ctx.state.lock:
        ctx.state.data.setdefault("authCodes", {})[code] = {
            "client_id": query["client_id"], "redirect_uri": redirect_uri, "challenge": challenge,
            "scope": query.get("scope", ""), "expires": time.time() + CODE_SECONDS, "nonce": query.get("nonce"),
        }
    params = {"code": code, **({"state": query["state"]} if "state" in query else {})}
    raise web.HTTPFound(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}")


def redeem_code(ctx: DevTenantContext, form: Any) -> tuple[str, str, str | None] | web.Response:
    """(client_id, requested scope, the authorize request's OIDC nonce) of a valid code for this verifier
    and redirect URI, or an OAuth error. The nonce goes into the ID token, where msal checks it."""
    with ctx.state.lock:
        held = ctx.state.data.get("authCodes", {}).pop(str(form.get("code", "")), None)
    if held is None or held["expires"] < time.time():
        return _error("invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired "
                      "due to inactivity, or was already redeemed.")
    verifier = str(form.get("code_verifier", ""))
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    if not secrets.compare_digest(computed, held["challenge"]):
        return _error("invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied "
                      "in the authorization request.")
    if str(form.get("redirect_uri", "")) != held["redirect_uri"]:
        return _error("invalid_grant", "AADSTS50148: The redirect_uri does not match the one of the authorization "
                      "request.")
    return str(held["client_id"]), str(form.get("scope", "") or held["scope"]), held.get("nonce")
