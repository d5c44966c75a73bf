"""Client applications granted app roles of an API registered with `entra_api.register_api`:
the client credentials grant issues them access tokens carrying `roles` (the direct audit API and the
MCP server validate such tokens with `identity.EntraTokenValidator`).

Microsoft's pages emulated here:
- MicrosoftDocs/entra-docs docs/identity-platform/v2-oauth2-client-creds-grant-flow.md: a confidential
  client posts `client_id`, `client_secret`, `scope=<App ID URI>/.default`, `grant_type=client_credentials`
  to `/{tenant}/oauth2/v2.0/token`; the token's `roles` are the application permissions (app roles) an
  admin granted; a client with no role granted gets a token without `roles`.
- MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md: a v1.0 token's `aud`
  is the App ID URI that was requested and `iss` `https://sts.windows.net/{tid}/`; a v2.0 token's `aud`
  is the API's client id and `iss` `https://login.microsoftonline.com/{tid}/v2.0`; `appid`/`azp` name
  the client, `oid` its service principal, `tid` the tenant whose token it is. The API's
  `requestedAccessTokenVersion` (default null, i.e. v1.0) picks the version.
Entra signs every tenant's tokens with the same keys, so a client registered in another tenant
(`home_tenant`) gets a correctly signed token whose `iss` and `tid` name that other tenant.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from aiohttp import web

from appliance_dev.devtenant.context import DevTenantContext
from appliance_dev.devtenant.entra_api import api_for, token_claims


def register_client(ctx: DevTenantContext, client_id: str, secret: str, granted: dict[str, list[str]],
                    home_tenant: str | None = None) -> None:
    """A confidential client app with a secret, the app roles an admin granted it per API (by App ID URI),
    and (for the wrong-tenant case) the tenant it lives in."""
    with ctx.state.lock:
        ctx.state.data.setdefault("clientApps", {})[client_id] = {
            "secretSha256": hashlib.sha256(secret.encode()).hexdigest(), "granted": granted,
            "servicePrincipalId": str(uuid.uuid5(uuid.NAMESPACE_OID, client_id)),
            "tenantId": home_tenant or ctx.state.tenant_id,
        }
    ctx.state.save()


def client_credentials_token(ctx: DevTenantContext, client_id: str, form: Any) -> web.Response | None:
    """The token response for a registered client app, an OAuth error, or None if `client_id` is not one."""
    client = ctx.state.data.get("clientApps", {}).get(client_id)
    if client is None:
        return None
    if hashlib.sha256(str(form.get("client_secret", "")).encode()).hexdigest() != client["secretSha256"]:
        return _error("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
    scope = str(form.get("scope", ""))
    resource = scope.removesuffix("/.default")
    found = api_for(ctx, scope)
    if not scope.endswith("/.default") or found is None:
        return _error("invalid_scope", f"AADSTS500011: The resource principal named {resource} was not found.")
    app_id, api, _ = found
    roles = [role for role in api["appRoles"] if role in client["granted"].get(api["appIdUri"], [])]
    claims = token_claims(ctx, app_id, api, tid=client["tenantId"], client_id=client_id,
                          version=2 if api.get("requestedAccessTokenVersion") == 2 else 1,
                          oid=client["servicePrincipalId"], sub=client["servicePrincipalId"],
                          client_authenticated=True)
    claims["idtyp"] = "app"
    if roles:
        claims["roles"] = roles
    return web.json_response({"token_type": "Bearer", "expires_in": ctx.token_lifetime,
                              "ext_expires_in": ctx.token_lifetime, "access_token": ctx.sign(claims)})


def _error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description, "error_codes": [0],
                              "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ")}, status=status)
