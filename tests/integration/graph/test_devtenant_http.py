"""The dev tenant's HTTP surface as a plain client sees it: OData errors, ids, scope and token checks."""

from __future__ import annotations

import httpx

from appliance.egress.httpx_transport import tls_context
from appliance_dev.devtenant import DevTenant


def _client(tenant: DevTenant, scopes: list[str]) -> httpx.Client:
    aid = tenant.context.state.user("aid@contoso.com")
    assert aid is not None
    token = tenant.context.access_token(aid, "aidizen-admin", scopes)
    return httpx.Client(base_url=tenant.url, verify=tls_context(str(tenant.keys.ca_cert)),
                        headers={"Authorization": f"Bearer {token}"})


def test_an_unsupported_filter_is_a_400_with_graph_shapes(tenant: DevTenant) -> None:
    with _client(tenant, ["User.Read.All"]) as client:
        response = client.get("/v1.0/users", params={"$filter": "endswith(mail,'x')"},
                              headers={"client-request-id": "abc-123"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid filter clause")
    assert response.headers["client-request-id"] == "abc-123" and response.headers["request-id"]


def test_missing_scope_and_bad_token_are_refused(tenant: DevTenant) -> None:
    with _client(tenant, ["GroupMember.Read.All"]) as client:
        assert client.get("/v1.0/users/doug@contoso.com").status_code == 403
        forged = client.get("/v1.0/users/doug@contoso.com", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_select_limits_the_returned_properties(tenant: DevTenant) -> None:
    with _client(tenant, ["User.Read.All"]) as client:
        body = client.get("/v1.0/users/doug@contoso.com", params={"$select": "displayName"}).json()
    assert body["displayName"] == "Doug Miller" and "jobTitle" not in body and "directoryRoles" not in body
