"""Graph write, error and paging fidelity."""

from __future__ import annotations

import httpx
import pytest

from appliance_dev.devtenant import DevTenant
from appliance_dev.devtenant.faults import write_fault_profile
from tests.fidelity.conftest import entries, graph, sku, uid


def test_removing_a_license_the_user_does_not_hold_is_a_400(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-assignlicense.md (removing
    an unassigned license: 400 "User does not have a corresponding license.")."""
    with graph(tenant) as client:
        answer = client.post(f"/users/{uid(tenant, 'sarah.lin@contoso.com')}/assignLicense",
                             json={"addLicenses": [], "removeLicenses": [sku(tenant, "SPE_E5")]})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "User does not have a corresponding license."


def test_adding_an_existing_member_is_a_400(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/group-post-members.md (an object
    already a member: 400 Bad Request, "One or more added object references already exist")."""
    finance = next(g for g in tenant.context.state.data["groups"] if g["mail"] == "finance@contoso.com")
    with graph(tenant) as client:
        answer = client.post(f"/groups/{finance['id']}/members/$ref", json={
            "@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{uid(tenant, 'sarah.lin@contoso.com')}"})
    assert answer.status_code == 400 and "already exist" in answer.json()["error"]["message"]


@pytest.mark.parametrize("profile", ["commit_then_504", "commit_then_drop"])
def test_a_write_can_commit_and_then_lose_its_answer(tenant: DevTenant, profile: str) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib concepts/errors.md (504 Gateway Timeout: the server,
    acting as a proxy, did not get a timely answer, so the request's fate is unknown to the caller). The dev
    tenant's profile does the write, then answers 504 or drops the connection."""
    tenant.context.faults.set(write_fault_profile(profile, r"/users/[^/]+$", "PATCH"))
    with graph(tenant) as client:
        try:
            status: int | None = client.patch(f"/users/{uid(tenant, 'leaver@contoso.com')}", json={
                "accountEnabled": False}, headers={"client-request-id": "c-1"}).status_code
        except httpx.TransportError:
            status = None
    assert status == (504 if profile == "commit_then_504" else None)
    assert tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[index]
    assert len(entries(tenant, correlationId="c-1")) == 1


def test_error_bodies_carry_inner_error_ids_and_throttled_and_5xx_answers_carry_request_id(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib concepts/errors.md ("Error resource type": innerError
    with request-id, client-request-id and date) and concepts/throttling.md (429 with Retry-After)."""
    tenant.context.faults.set([{"path": "/subscribedSkus$", "status": 429, "retry_after": 3, "times": 1},
                               {"path": "/subscribedSkus$", "status": 503, "times": 1}])
    with graph(tenant) as client:
        throttled = client.get("/subscribedSkus", headers={"client-request-id": "mine-1"})
        unavailable = client.get("/subscribedSkus")
        missing = client.get("/users/nobody@contoso.com")
    for answer in (throttled, unavailable, missing):
        inner = answer.json()["error"]["innerError"]
        assert answer.headers["request-id"] == inner["request-id"] and inner["date"] and inner["client-request-id"]
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["innerError"]["client-request-id"] == "mine-1"
    assert unavailable.status_code == 503 and missing.status_code == 404


@pytest.mark.parametrize("path", ["/users/{hana}/memberOf", "/users/{hana}/transitiveMemberOf",
                                  "/groups/{helpdesk}/members", "/users?$filter=startswith(displayName,'')",
                                  "/auditLogs/signIns?$filter=userPrincipalName eq 'doug@contoso.com'",
                                  "/auditLogs/directoryAudits"])
def test_collections_page_with_a_next_link_followed_as_it_is(tenant: DevTenant, path: str) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib concepts/paging.md (server-side pages; the whole URL in
    @odata.nextLink is requested as it is until no nextLink comes back)."""
    ctx = tenant.context
    ctx.page_size = 2
    helpdesk = next(g for g in ctx.state.data["groups"] if g["mail"] == "helpdesk@contoso.com")
    for n in range(3):  # three audit entries, so that log pages too
        ctx.state.audit("Update user", "UserManagement", ctx.state.user("aid@contoso.com"), [], f"pg-{n}")  # type: ignore[arg-type]
    url = path.format(hana=uid(tenant, "hana.berg@contoso.com"), helpdesk=helpdesk["id"])
    seen, pages = [], 0
    with graph(tenant) as client:
        while url:
            body = client.get(url).json()
            seen += [item["id"] for item in body["value"]]
            pages += 1
            link = body.get("@odata.nextLink")
            url = link.replace("https://graph.microsoft.com/v1.0", "") if link else ""
            assert pages < 200
    assert pages >= 2 and len(seen) == len(set(seen)) > 2
