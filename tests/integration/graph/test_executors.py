"""Real msal and real msgraph-sdk over HTTPS to the dev tenant, for every catalog tool with an executor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from appliance.graph.auth import AidIdentity
from appliance.graph.executors import EXECUTORS, execute
from appliance.graph.gateway import ExecutionResult, GraphGateway
from appliance_dev.devtenant import DevTenant
from appliance_dev.testing.token_cache import MemoryTokenCache

CALLS: dict[str, dict[str, Any]] = {
    "m365_user_get": {"user": "sarah.lin@contoso.com"},
    "m365_user_search": {"query": "Mi"},
    "m365_user_disable": {"user": "leaver@contoso.com"},
    "m365_user_enable": {"user": "leaver@contoso.com"},
    "m365_sessions_revoke": {"user": "mike.chan@contoso.com"},
    "m365_password_reset": {"user": "priya.n@contoso.com"},
    "m365_user_update": {"user": "sarah.lin@contoso.com", "field": "department", "value": "Controlling"},
    "m365_license_list": {},
    "m365_license_assign": {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"},
    "m365_license_remove": {"user": "doug@contoso.com", "sku": "ENTERPRISEPACK"},
    "m365_group_members": {"group": "finance@contoso.com"},
    "m365_group_add_member": {"group": "finance@contoso.com", "user": "mike.chan@contoso.com"},
    "m365_group_remove_member": {"group": "helpdesk@contoso.com", "user": "doug@contoso.com"},
    "m365_mfa_methods_list": {"user": "doug@contoso.com"},
    "m365_signins_recent": {"user": "doug@contoso.com", "days": 7},
}
WRITES = {
    "m365_user_disable",
    "m365_user_enable",
    "m365_sessions_revoke",
    "m365_password_reset",
    "m365_user_update",
    "m365_license_assign",
    "m365_license_remove",
    "m365_group_add_member",
    "m365_group_remove_member",
}


async def _run(gateway: GraphGateway, tool: str, args: dict[str, Any], crid: str | None = None) -> ExecutionResult:
    return await execute(gateway, tool, args, crid or str(uuid.uuid4()))


def test_every_executor_is_exercised() -> None:
    assert set(CALLS) == set(EXECUTORS)


@pytest.mark.parametrize("tool", sorted(CALLS))
async def test_each_tool_runs_against_the_dev_tenant(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway], tool: str
) -> None:
    _, gateway = aid
    crid = str(uuid.uuid4())
    result = await _run(gateway, tool, CALLS[tool], crid)
    assert result.outcome == "done", result.message
    assert result.client_request_id == crid and result.request_id and result.status in (200, 204)
    state = tenant.context.state
    audits = [a for a in state.data["directoryAudits"] if a["correlationId"] == crid]
    if tool in WRITES:
        assert len(audits) == 1 and audits[0]["initiatedBy"]["user"]["userPrincipalName"] == "aid@contoso.com"
    else:
        assert audits == []


async def test_writes_change_the_directory(tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    state = tenant.context.state
    assert (await _run(gateway, "m365_user_disable", {"user": "leaver@contoso.com"})).outcome == "done"
    assert state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[index]
    await _run(gateway, "m365_license_assign", {"user": "sarah.lin@contoso.com", "sku": "SPE_E5"})
    assert len(state.user("sarah.lin@contoso.com")["assignedLicenses"]) == 1  # type: ignore[index]
    await _run(gateway, "m365_group_add_member", {"group": "finance@contoso.com", "user": "doug@contoso.com"})
    finance = next(g for g in state.data["groups"] if g["mail"] == "finance@contoso.com")
    assert state.user("doug@contoso.com")["id"] in finance["members"]  # type: ignore[index]


async def test_already_a_member_counts_as_done(aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    result = await _run(
        gateway, "m365_group_add_member", {"group": "finance@contoso.com", "user": "sarah.lin@contoso.com"}
    )
    assert result.outcome == "done" and result.result == {"alreadyMember": True} and result.status == 400


async def test_user_not_found_gives_a_helpful_message(aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    result = await _run(gateway, "m365_user_get", {"user": "nobody@contoso.com"})
    assert result.outcome == "failed" and result.status == 404
    assert "couldn't find nobody@contoso.com" in result.message


async def test_admins_and_role_assignable_groups_are_refused(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    disable = await _run(gateway, "m365_user_disable", {"user": "admin@contoso.com"})
    assert disable.outcome == "refused" and "administrator" in disable.message
    assert tenant.context.state.user("admin@contoso.com")["accountEnabled"] is True  # type: ignore[index]
    join = await _run(
        gateway, "m365_group_add_member", {"group": "global-admins@contoso.com", "user": "doug@contoso.com"}
    )
    assert join.outcome == "refused"


async def test_429_with_retry_after_is_retried_then_succeeds(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    _, gateway = aid
    tenant.context.faults.set([{"path": "/assignLicense$", "status": 429, "retry_after": 1, "times": 2}])
    crid = str(uuid.uuid4())
    result = await _run(
        gateway, "m365_license_assign", {"user": "sarah.lin@contoso.com", "sku": "ENTERPRISEPACK"}, crid
    )
    assert result.outcome == "done" and result.status == 200
    assert tenant.context.faults.applied == 2
    assert len([a for a in tenant.context.state.data["directoryAudits"] if a["correlationId"] == crid]) == 1


async def test_a_503_to_a_write_is_sent_once_and_left_to_the_audit_log(
    tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]
) -> None:
    """A 5xx to a write does not prove Graph did nothing: the write is not sent again, and the person is told
    the outcome is being checked, never "nothing was changed"."""
    _, gateway = aid
    tenant.context.faults.set([{"path": "/users/[^/]+$", "method": "PATCH", "status": 503}])
    crid = str(uuid.uuid4())
    result = await _run(gateway, "m365_user_disable", {"user": "leaver@contoso.com"}, crid)
    assert result.outcome == "unknown" and result.status == 503 and result.request_id
    assert "nothing was changed" not in result.message.lower() and "audit log" in result.message
    assert [w for w in tenant.context.writes if w["client-request-id"] == crid] == []  # the 503 came before the handler
    assert tenant.context.faults.applied == 1  # one attempt, no retry
    assert tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True  # type: ignore[index]


async def test_a_503_to_a_read_is_retried(tenant: DevTenant, aid: tuple[AidIdentity, GraphGateway]) -> None:
    _, gateway = aid
    tenant.context.faults.set([{"path": "/users/[^/]+$", "method": "GET", "status": 503, "times": 2}])
    result = await _run(gateway, "m365_user_get", {"user": "sarah.lin@contoso.com"})
    assert result.outcome == "done" and tenant.context.faults.applied == 2


async def test_missing_scope_is_a_403_with_a_clear_message(tenant: DevTenant, cache: MemoryTokenCache) -> None:
    from appliance.graph.connect import connect, dev_endpoints
    from tests.integration.graph.conftest import CLIENT_ID

    tenant.context.state.data["clients"][CLIENT_ID]["consentedScopes"] = ["User.Read.All"]
    endpoints = dev_endpoints(
        "contoso.onmicrosoft.com", CLIENT_ID, (tenant.host, tenant.port), str(tenant.keys.ca_cert)
    )
    identity, gateway = connect(endpoints, ["User.Read.All"], cache)  # asking for more would fail: AADSTS90094
    identity.sign_in_with_device_code(lambda message: None)
    assert identity.granted_scopes() == {"User.Read.All"}
    result = await _run(gateway, "m365_license_list", {})
    assert result.outcome == "failed" and result.status == 403 and "not allowed" in result.message
