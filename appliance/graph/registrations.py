"""The two Entra app registrations the appliance needs, and their app manifests. Pure: no I/O.

- **chat**: the bot. Teams delivers a DM to the bot's messaging endpoint with a Bot Framework JWT (audience =
  the app id); the bot replies through the Bot Connector service with a client-credentials token for
  `https://api.botframework.com/.default`. Neither direction uses Microsoft Graph, so this registration has
  no API permissions and needs no admin consent: only a credential (a client secret) and an
  Azure Bot resource of type Single Tenant with the Microsoft Teams channel on (Azure stopped creating new
  multi-tenant bots after 2025-07-31; the appliance runs outside Azure, so an app id and credential it is).
- **admin**: the Aid's own delegated access to Graph. A public client (the Aid signs in once by device code
  and an admin consents); its permissions are exactly what the enabled tools need, and the Aid's user holds
  the Entra roles those tools need (delegated calls succeed only when scope AND role allow them).

The manifests are Microsoft Graph `application` objects (the format of the Entra admin center's manifest
editor), so `az rest --method POST --url https://graph.microsoft.com/v1.0/applications --body @admin-app.json`
creates the registration from the file as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.catalog import Catalog
from appliance.errors import ApplianceError
from appliance.graph.permission_ids import MICROSOFT_GRAPH_APP_ID, scope_id
from appliance.graph.scopes import DIRECTORY_PERMISSIONS

BOT_CONNECTOR_SCOPE = "https://api.botframework.com/.default"


class UnverifiedPermissionError(ApplianceError):
    """A manifest would need a Graph permission id that no verified source gave: nothing is written."""

    hint = (
        "Disable the tools that need it ([catalog] disabled_tools in appliance.toml), or rerun with "
        "--skip-unverified and add the permission by name in the Entra admin center "
        "(API permissions > Add a permission > Microsoft Graph > Delegated)."
    )


@dataclass(frozen=True)
class ScopeNeed:
    """One delegated scope of the admin registration, its id (if verified) and the tools that need it."""

    scope: str
    id: str | None
    verified: bool
    tools: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class RoleNeed:
    """One Entra role the Aid's user must hold, and the tools that need it."""

    role: str
    tools: tuple[str, ...]


@dataclass(frozen=True)
class AdminRegistration:
    """The union of the enabled tools' delegated Graph scopes, and the roles the Aid needs."""

    scopes: tuple[ScopeNeed, ...]
    roles: tuple[RoleNeed, ...]

    @property
    def unverified(self) -> list[str]:
        """Scopes without a verified id (they cannot go into a manifest)."""
        return [need.scope for need in self.scopes if not need.verified]


@dataclass(frozen=True)
class ChatRegistration:
    """What the bot's registration needs: facts, the same for every tenant."""

    sign_in_audience: str = "AzureADMyOrg"
    bot_type: str = "Single Tenant"
    credential: str = "a client secret (the appliance keeps it sealed in its encrypted store)"
    token_scope: str = BOT_CONNECTOR_SCOPE
    messaging_endpoint: str = "https://<your appliance host>/api/messages"
    teams_scopes: tuple[str, ...] = ("personal",)
    graph_permissions: tuple[str, ...] = ()


APPLIANCE_ITSELF = "appliance"
"""Stands in the `tools` of a scope or role that the appliance needs whatever tools are enabled."""
CORE_ROLES = ("Reports Reader", "Security Reader")
"""Roles the appliance itself needs: reading directoryAudits to join and settle its records (Reports Reader), and
reading PIM role eligibility to refuse would-be administrators (Security Reader; the PIM read APIs accept
Global Reader, Security Reader, Security Operator, Security Administrator or Privileged Role Administrator)."""


def admin_registration(catalog: Catalog) -> AdminRegistration:
    """Scopes (sorted, with the tools that need each) and roles (with their tools) of `catalog`'s tools, plus
    the directory reads the appliance does whatever is enabled (`scopes.DIRECTORY_PERMISSIONS`, named
    `appliance`): the same set as `wiring.graph_permissions`."""
    needs: dict[str, list[str]] = {scope: [] for scope in sorted({*catalog.permissions(), *DIRECTORY_PERMISSIONS})}
    roles: dict[str, list[str]] = {role: [APPLIANCE_ITSELF] for role in CORE_ROLES}
    for scope in DIRECTORY_PERMISSIONS:
        needs[scope].append(APPLIANCE_ITSELF)
    for name, spec in catalog.items():
        for scope in spec.permissions:
            needs[scope].append(name)
        if spec.admin_role:
            roles.setdefault(spec.admin_role, []).append(name)
    scopes = []
    for scope, tools in needs.items():
        entry = scope_id(scope)
        verified = entry is not None and entry.verified
        scopes.append(
            ScopeNeed(
                scope,
                entry.id if entry and verified else None,
                verified,
                tuple(tools),
                entry.note if entry else "no verified source gives this scope's id",
            )
        )
    role_needs = tuple(RoleNeed(role, tuple(tools)) for role, tools in sorted(roles.items()))
    return AdminRegistration(tuple(scopes), role_needs)


def admin_manifest(
    registration: AdminRegistration, *, display_name: str, skip_unverified: bool = False
) -> dict[str, Any]:
    """The admin app's manifest; raises UnverifiedPermissionError rather than write an unverified id."""
    missing = registration.unverified
    if missing and not skip_unverified:
        raise UnverifiedPermissionError(
            f"no verified Microsoft Graph id for {', '.join(missing)} (needed by "
            f"{', '.join(sorted({t for n in registration.scopes if not n.verified for t in n.tools}))}); "
            "refusing to write a manifest with an unverified id"
        )
    access = [{"id": need.id, "type": "Scope"} for need in registration.scopes if need.verified]
    return {
        "displayName": display_name,
        "description": "aidizen appliance: the Aid's delegated Microsoft Graph access (admin consent once).",
        "signInAudience": "AzureADMyOrg",
        "isFallbackPublicClient": True,
        "requiredResourceAccess": [{"resourceAppId": MICROSOFT_GRAPH_APP_ID, "resourceAccess": access}],
    }


def chat_manifest(*, display_name: str) -> dict[str, Any]:
    """The bot's manifest: single-tenant, confidential, and no API permissions at all."""
    return {
        "displayName": display_name,
        "description": "aidizen appliance: the Teams bot (Bot Framework). Needs a credential, no API permissions.",
        "signInAudience": ChatRegistration.sign_in_audience,
        "isFallbackPublicClient": False,
        "requiredResourceAccess": [],
    }
