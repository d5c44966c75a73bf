"""The Aid's msal identity against the dev tenant: silent refresh, revoked consent, cache persistence."""

from __future__ import annotations

import pytest

from appliance.graph.auth import AidIdentity
from appliance.graph.connect import connect, dev_endpoints
from appliance.graph.errors import GraphAuthError
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.token_cache import MemoryTokenCache
from tests.integration.graph.conftest import CLIENT_ID, PERMISSIONS


def _identity(tenant: DevTenant, cache: MemoryTokenCache) -> AidIdentity:
    endpoints = dev_endpoints(
        "contoso.onmicrosoft.com", CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert)
    )
    return connect(endpoints, PERMISSIONS, cache)[0]


def _live_refresh_tokens(tenant: DevTenant) -> int:
    return sum(not grant["revoked"] for grant in tenant.context.state.data["refreshTokens"].values())


def test_device_code_sign_in_persists_the_cache_and_tokens_refresh_silently(tenant: DevTenant) -> None:
    tenant.context.token_lifetime = 60  # msal refreshes tokens that expire within five minutes
    cache = MemoryTokenCache()
    assert _identity(tenant, cache).sign_in_with_device_code(lambda message: None) == "aid@contoso.com"
    assert cache.blob and "dev-rt." in cache.blob
    issued = len(tenant.context.state.data["refreshTokens"])
    restarted = _identity(tenant, cache)  # a new process: only the persisted cache
    first = restarted.access_token()
    assert len(tenant.context.state.data["refreshTokens"]) == issued + 1  # refreshed: a new refresh token too
    assert restarted.access_token() != first
    # Entra does not revoke a refresh token when it is used (refresh-tokens.md): each refresh added one
    assert _live_refresh_tokens(tenant) == len(tenant.context.state.data["refreshTokens"]) >= 3
    assert restarted.granted_scopes() >= {"User.Read.All", "LicenseAssignment.ReadWrite.All"}


def test_revoked_refresh_token_gives_a_clear_error_and_a_teams_safe_message(tenant: DevTenant) -> None:
    tenant.context.token_lifetime = 60
    cache = MemoryTokenCache()
    identity = _identity(tenant, cache)
    identity.sign_in_with_device_code(lambda message: None)
    tenant.context.state.revoke_sessions("aid@contoso.com")
    with pytest.raises(GraphAuthError, match="revoked") as caught:
        _identity(tenant, cache).access_token()
    assert "sign-in needs renewing" in caught.value.teams_message
    assert "appliance init" in caught.value.hint


def test_an_identity_that_never_signed_in_says_so(tenant: DevTenant) -> None:
    with pytest.raises(GraphAuthError, match="not signed in"):
        _identity(tenant, MemoryTokenCache()).access_token()
