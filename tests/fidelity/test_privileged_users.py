"""Entra's protection of privileged users against sensitive actions, and how roles are held."""

from __future__ import annotations

import pytest

from appliance_dev.devtenant import DevTenant
from tests.fidelity.conftest import entries, graph, token, uid

USERS_MD = "microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md"


def _patch(tenant: DevTenant, upn: str, body: dict, bearer: str | None = None) -> int:  # type: ignore[type-arg]
    with graph(tenant, bearer) as client:
        answer = client.patch(f"/users/{uid(tenant, upn)}", json=body, headers={"client-request-id": f"p-{upn}"})
    return answer.status_code


RESET = {"passwordProfile": {"password": "x-Long-Enough-1!", "forceChangePasswordNextSignIn": True}}


@pytest.mark.parametrize("body", [{"accountEnabled": False}, {"accountEnabled": True}, RESET])
def test_a_user_or_helpdesk_admin_gets_403_on_a_global_administrator(tenant: DevTenant, body: dict) -> None:  # type: ignore[type-arg]
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md ("Who can reset
    passwords?", "Who can update sensitive attributes?": a Global Admin row only PAA and GA may act on)."""
    assert _patch(tenant, "admin@contoso.com", body) == 403
    assert tenant.context.state.user("admin@contoso.com")["accountEnabled"] is True  # type: ignore[index]
    (entry,) = entries(tenant, correlationId="p-admin@contoso.com")
    assert entry["result"] == "failure"


def test_members_and_owners_of_a_role_assignable_group_are_protected(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md (row "User (no
    admin role, but member or owner of a role-assignable group)": only Privileged Auth Admin and Global Admin)."""
    assert _patch(tenant, "rita.roles@contoso.com", {"accountEnabled": False}) == 403  # member
    assert _patch(tenant, "owen.owner@contoso.com", {"accountEnabled": False}) == 403  # owner
    with graph(tenant) as client:
        revoke = client.post(f"/users/{uid(tenant, 'rita.roles@contoso.com')}/revokeSignInSessions")
    assert revoke.status_code == 403


def test_a_privileged_authentication_administrator_may_act_on_them(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md (the Privileged
    Auth Admin column is checked for every row). Rita holds that role through her role-assignable group."""
    acting_as_rita = token(tenant, "rita.roles@contoso.com")
    assert _patch(tenant, "owen.owner@contoso.com", {"accountEnabled": False}, acting_as_rita) == 204


def test_the_password_table_is_not_the_sensitive_attribute_table(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md: a Helpdesk
    Administrator may reset another Helpdesk Administrator's password, but not change its accountEnabled."""
    ctx = tenant.context
    ctx.state.user("aid@contoso.com")["directoryRoles"] = ["Helpdesk Administrator"]  # type: ignore[index]
    ctx.state.user("hana.berg@contoso.com")["directoryRoles"] = ["Helpdesk Administrator"]  # type: ignore[index]
    assert _patch(tenant, "hana.berg@contoso.com", RESET) == 204
    assert _patch(tenant, "hana.berg@contoso.com", {"accountEnabled": False}) == 403


def test_an_eligible_role_is_not_held_until_activated(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/
    rbacapplication-list-roleeligibilityscheduleinstances.md (eligibility instances, by principalId), and
    users.md (the tables apply to roles held): Graph lets the Aid disable a PIM-eligible user."""
    eli = uid(tenant, "eli.eligible@contoso.com")
    with graph(tenant) as client:
        listed = client.get("/roleManagement/directory/roleEligibilityScheduleInstances",
                            params={"$filter": f"principalId eq '{eli}'"}).json()["value"]
        roles = [o for o in client.get(f"/users/{eli}/transitiveMemberOf").json()["value"]
                 if o["@odata.type"].endswith("directoryRole")]
    assert [e["principalId"] for e in listed] == [eli] and roles == []
    assert _patch(tenant, "eli.eligible@contoso.com", {"accountEnabled": False}) == 204


def test_reading_role_eligibility_needs_its_scope_and_a_reader_role(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/
    rbacapplication-list-roleeligibilityscheduleinstances.md (least privileged: RoleEligibilitySchedule.Read.Directory;
    the signed-in user needs a supported reader role)."""
    without_scope = token(tenant, scopes=["User.Read.All"])
    with graph(tenant, without_scope) as client:
        assert client.get("/roleManagement/directory/roleEligibilityScheduleInstances").status_code == 403
    plain_user = token(tenant, "sarah.lin@contoso.com", ["RoleEligibilitySchedule.Read.Directory"])
    with graph(tenant, plain_user) as client:
        assert client.get("/roleManagement/directory/roleEligibilityScheduleInstances").status_code == 403


def test_member_of_is_direct_and_transitive_member_of_includes_roles_through_groups(tenant: DevTenant) -> None:
    """Source: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-list-memberof.md (direct
    memberships) and user-list-transitivememberof.md (through nesting, directory roles included)."""
    rita = uid(tenant, "rita.roles@contoso.com")
    with graph(tenant) as client:
        direct = client.get(f"/users/{rita}/memberOf").json()["value"]
        transitive = client.get(f"/users/{rita}/transitiveMemberOf").json()["value"]
    assert not [o for o in direct if o["@odata.type"].endswith("directoryRole")]
    assert [o["displayName"] for o in transitive if o["@odata.type"].endswith("directoryRole")] == [
        "Privileged Authentication Administrator"
    ]


def test_membership_of_a_role_assignable_group_needs_a_privileged_role_administrator(tenant: DevTenant) -> None:
    """Source: MicrosoftDocs/entra-docs docs/identity/role-based-access-control/groups-concept.md (only a Global
    Administrator or Privileged Role Administrator manages a role-assignable group's membership)."""
    group = next(g for g in tenant.context.state.data["groups"] if g["mail"] == "privileged-helpers@contoso.com")
    with graph(tenant) as client:
        added = client.post(f"/groups/{group['id']}/members/$ref", json={
            "@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{uid(tenant, 'doug@contoso.com')}"})
    assert added.status_code == 403


def test_the_aid_may_revoke_its_own_sessions_but_not_disable_its_own_account(tenant: DevTenant) -> None:
    """Sources: microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/user-revokesigninsessions.md
    ("performed (by the user or an administrator)", `POST /me/revokeSignInSessions`): anyone may revoke their own
    sessions. users.md's tables have no row for oneself: the seeded Aid holds Authentication Administrator and
    User Administrator, and only PAA and GA are in both rows' columns, so its own accountEnabled is a 403
    (what `appliance offboard` meets in a real tenant: an admin must disable the Aid)."""
    aid = uid(tenant, "aid@contoso.com")
    with graph(tenant) as client:
        assert client.post(f"/users/{aid}/revokeSignInSessions").status_code == 200
    assert _patch(tenant, "aid@contoso.com", {"accountEnabled": False}) == 403
    assert tenant.context.state.user("aid@contoso.com")["accountEnabled"] is True  # type: ignore[index]
