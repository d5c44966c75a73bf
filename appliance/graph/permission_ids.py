"""Microsoft Graph delegated permission ids (its `oauth2PermissionScopes`), for Entra app manifests.

An app manifest names each permission by id, not by name. These ids are copied from Microsoft's own
permission data, never written from memory:

  source: github.com/microsoftgraph/microsoft-graph-devx-content, commit 6cbd6bbd665a877560fdefbad74f3bdb5b57af88
          (2026-08-07, "Weekly Permissions sync"):
          - permissions/new/provisioningInfo.json  (`permissionDeployments[<scope>]`, scheme DelegatedWork)
          - permissions/permissions-descriptions.json  (`delegatedScopesList[].id`)
  cross-check: github.com/microsoftgraph/microsoft-graph-docs-contrib, commit 43b498394ec440e548985309e1d8689c9e16adcf,
          concepts/includes/permissions-ids.md (2023; the scopes it already listed carry the same ids).

A scope counts as verified when both devx-content files give it the same id and provisioningInfo marks it
deployed to the public cloud and not hidden. Anything else is kept with `verified=False` and a note:
`appliance permissions` refuses to write a manifest with it. An operator can check any id in their own
tenant: `GET https://graph.microsoft.com/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')
?$select=oauth2PermissionScopes` lists every delegated scope with its id.
"""

from __future__ import annotations

from dataclasses import dataclass

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""The appId of the Microsoft Graph service principal (`resourceAppId` in requiredResourceAccess)."""

SOURCE = (
    "microsoftgraph/microsoft-graph-devx-content@6cbd6bbd665a877560fdefbad74f3bdb5b57af88: "
    "permissions/new/provisioningInfo.json + permissions/permissions-descriptions.json"
)


@dataclass(frozen=True)
class ScopeId:
    """One delegated Graph scope and its id; `verified` False means the id must not go into a manifest."""

    scope: str
    id: str
    verified: bool
    note: str = ""


_SCOPES = (
    ScopeId("AuditLog.Read.All", "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20", True),
    ScopeId("Directory.Read.All", "06da0dbc-49e2-44d2-8312-53f166ab848a", True),
    ScopeId("GroupMember.Read.All", "bc024368-1153-4739-b217-4326f2e966d0", True),
    ScopeId("GroupMember.ReadWrite.All", "f81125ac-d3b7-4573-a3b2-7099cc39df9e", True),
    ScopeId("LicenseAssignment.ReadWrite.All", "f55016cc-149c-447e-8f21-7cf3ec1d6350", True),
    ScopeId("Organization.Read.All", "4908d5b9-3fb2-4b1e-9336-1888b7937185", True),
    ScopeId("RoleEligibilitySchedule.Read.Directory", "eb0788c2-6d4e-4658-8c9e-c0fb8053f03d", True),
    ScopeId("User-PasswordProfile.ReadWrite.All", "56760768-b641-451f-8906-e1b8ab31bca7", True),
    ScopeId("User.EnableDisableAccount.All", "f92e74e7-2563-467f-9dd0-902688cb5863", True),
    ScopeId("User.Read.All", "a154be20-db9c-4678-8ab7-66f6cc099a59", True),
    ScopeId("User.ReadBasic.All", "b340eb25-3456-403f-be2f-af7a0d370277", True),
    ScopeId("User.ReadWrite.All", "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4", True),
    ScopeId("User.RevokeSessions.All", "fc30e98b-8810-4501-81f5-c20a3196387b", True),
    ScopeId("UserAuthenticationMethod.Read.All", "aec28ec7-4d02-4e8c-b864-50163aea77eb", True),
    ScopeId(
        "User.ReadUpdate.All",
        "f0e73743-5699-4cb9-9ffe-d68e48294c63",
        False,
        note="Graph's docs (update user, July 2026) name it the least-privileged scope for PATCH /users/{id}, "
        "but Microsoft's provisioningInfo.json still marks this id hidden and not deployed to the public cloud, "
        "and permissions-descriptions.json does not list it; check it in your tenant, or use User.ReadWrite.All",
    ),
)

DELEGATED_SCOPE_IDS: dict[str, ScopeId] = {entry.scope: entry for entry in _SCOPES}
"""Every delegated scope the appliance knows an id for, by name."""


def scope_id(scope: str) -> ScopeId | None:
    """The id entry of a delegated Graph scope, or None when no verified source gave one."""
    return DELEGATED_SCOPE_IDS.get(scope)


def unverified(scopes: list[str]) -> list[str]:
    """The scopes among `scopes` that have no verified id (unknown, or known but unconfirmed)."""
    return [scope for scope in scopes if not (entry := scope_id(scope)) or not entry.verified]
