"""Entra fidelity: consent, `scp`, refresh tokens, signing-key rollover, as Microsoft documents them."""

from __future__ import annotations

from typing import Any

import jwt

from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.botframework import KEYS_PATH, channel_token
from tests.fidelity.conftest import AID_SCOPES, CLIENT_ID, entra, graph, uid

TOKEN_PATH = "/contoso.onmicrosoft.com/oauth2/v2.0/token"
GRAPH_SCOPE = "https://graph.microsoft.com/"


def _refresh(tenant: DevTenant, refresh_token: str, scopes: str) -> tuple[int, dict[str, Any]]:
    with entra(tenant) as client:
        response = client.post(TOKEN_PATH, data={"grant_type": "refresh_token", "client_id": CLIENT_ID,
                                                 "refresh_token": refresh_token, "scope": scopes})
    return response.status_code, response.json()


def _rt(tenant: DevTenant) -> str:
    return tenant.context.state.issue_refresh_token("aid@contoso.com", CLIENT_ID, ["User.Read.All"])


def _scp(body: dict[str, Any]) -> set[str]:
    return set(jwt.decode(body["access_token"], options={"verify_signature": False})["scp"].split())


def test_a_token_carries_every_consented_scope_not_only_those_asked_for(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity-platform/access-token-claims-reference.md (`scp`) and
    docs/identity-platform/permissions-consent-overview.md: the token holds what was consented for the resource."""
    status, body = _refresh(tenant, _rt(tenant), f"{GRAPH_SCOPE}User.Read.All offline_access")
    assert status == 200 and _scp(body) == set(AID_SCOPES)
    status, body = _refresh(tenant, _rt(tenant), f"{GRAPH_SCOPE}.default")
    assert status == 200 and _scp(body) == set(AID_SCOPES)


def test_a_request_for_an_unconsented_scope_fails_65001_and_never_narrows(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md (AADSTS65001
    DelegationDoesNotExist: the user or administrator has not consented to use the application)."""
    status, body = _refresh(tenant, _rt(tenant), f"{GRAPH_SCOPE}User.Read.All {GRAPH_SCOPE}Mail.Read")
    assert status == 400 and body["error"] == "invalid_grant" and "access_token" not in body
    assert body["error_codes"] == [65001] and body["suberror"] == "consent_required"
    assert body["error_description"].startswith("AADSTS65001")


def test_an_interactive_grant_for_an_unconsented_scope_needs_an_admin_90094(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity-platform/reference-error-codes.md (AADSTS90094
    AdminConsentRequired)."""
    with entra(tenant) as client:
        started = client.post("/contoso.onmicrosoft.com/oauth2/v2.0/devicecode",
                              data={"client_id": CLIENT_ID, "scope": f"{GRAPH_SCOPE}Mail.Read"}).json()
        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": CLIENT_ID,
                 "device_code": started["device_code"]}
        answer = client.post(TOKEN_PATH, data=grant)
    assert answer.status_code == 400 and answer.json()["error_codes"] == [90094]


def test_using_a_refresh_token_does_not_revoke_it(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity-platform/refresh-tokens.md (a new refresh token is returned
    with each use; the old one is not revoked)."""
    first = _rt(tenant)
    status, body = _refresh(tenant, first, f"{GRAPH_SCOPE}User.Read.All")
    assert status == 200 and body["refresh_token"] != first
    assert _refresh(tenant, first, f"{GRAPH_SCOPE}User.Read.All")[0] == 200


def test_revoke_sign_in_sessions_revokes_every_refresh_token(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity-platform/refresh-tokens.md (revocation) and
    microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-revokesigninsessions.md."""
    held = tenant.context.state.issue_refresh_token("sarah.lin@contoso.com", CLIENT_ID, ["User.Read.All"])
    with graph(tenant) as client:
        assert client.post(f"/users/{uid(tenant, 'sarah.lin@contoso.com')}/revokeSignInSessions").status_code == 200
    status, body = _refresh(tenant, held, f"{GRAPH_SCOPE}User.Read.All")
    assert status == 400 and body["error"] == "invalid_grant" and "AADSTS50173" in body["error_description"]


def test_a_new_signing_key_is_published_and_tokens_signed_before_stay_valid(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/bot-docs articles/rest-api/bot-framework-rest-connector-authentication.md ("the list
    of keys is stable ... but new keys may be added at any time")."""
    ctx = tenant.context
    before = channel_token(ctx, "bot-app")
    old_kid = ctx.kid
    new_kid = ctx.rotate_signing_key()
    after = channel_token(ctx, "bot-app")
    with entra(tenant) as client:
        published = {k["kid"] for k in client.get(KEYS_PATH).json()["keys"]}
        entra_keys = {k["kid"] for k in client.get("/contoso.onmicrosoft.com/discovery/v2.0/keys").json()["keys"]}
    assert {old_kid, new_kid} <= published and {old_kid, new_kid} <= entra_keys
    assert jwt.get_unverified_header(after)["kid"] == new_kid != jwt.get_unverified_header(before)["kid"]
    assert ctx.verify(before, "bot-app")["aud"] == ctx.verify(after, "bot-app")["aud"] == "bot-app"
