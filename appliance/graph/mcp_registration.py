"""The third app registration, present when `[mcp] enabled = true`: the API the MCP endpoint protects.
Pure: no I/O.

Agents (OpenClaw, Hermes Agent, Claude Desktop, ...) sign the person in through Entra and ask for the
delegated scope it exposes; the endpoint accepts only those tokens. The scope is admin-consent only
(`type: Admin`), and the app role lets an admin assign exactly who may use it (set "Assignment required"
on its enterprise application, so Entra issues no token to anyone unassigned).

Manifest fields follow the Microsoft Graph `application` resource (microsoftgraph/microsoft-graph-docs-contrib
api-reference/v1.0/resources/application.md: `identifierUris`, `api`, `appRoles`;
api-reference/v1.0/resources/apiapplication.md: `oauth2PermissionScopes`, `requestedAccessTokenVersion`;
api-reference/v1.0/resources/permissionscope.md and approle.md for each entry).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

ID_NAMESPACE = uuid.UUID("6f1c2a8e-3d4b-5e6f-8a9b-0c1d2e3f4a5b")
"""Scope and role ids are derived from their names, so writing the manifest again gives the same ids."""


@dataclass(frozen=True)
class McpRegistration:
    """What the MCP API's registration exposes, and where agents find the endpoint."""

    scope: str
    app_role: str
    app_id_uri: str
    resource_url: str
    sign_in_audience: str = "AzureADMyOrg"
    token_version: int = 2


def mcp_manifest(registration: McpRegistration, *, display_name: str) -> dict[str, Any]:
    """The API's manifest: an admin-consent scope, a user-assignable app role, v2 access tokens."""
    scope_id = str(uuid.uuid5(ID_NAMESPACE, f"scope:{registration.scope}"))
    role_id = str(uuid.uuid5(ID_NAMESPACE, f"role:{registration.app_role}"))
    manifest: dict[str, Any] = {
        "displayName": display_name,
        "description": "aidizen appliance: the MCP endpoint's API. Agents propose; people confirm in Teams.",
        "signInAudience": registration.sign_in_audience,
        "api": {
            "requestedAccessTokenVersion": registration.token_version,
            "oauth2PermissionScopes": [{
                "id": scope_id, "type": "Admin", "value": registration.scope, "isEnabled": True,
                "adminConsentDisplayName": "Ask the Aid for Microsoft 365 reads and changes",
                "adminConsentDescription": "Lets an agent read through the Aid and propose changes for the signed-in "
                "person; every change waits for that person's confirmation in Teams.",
            }],
        },
        "appRoles": [{
            "id": role_id, "allowedMemberTypes": ["User"], "value": registration.app_role, "isEnabled": True,
            "displayName": "Aid requester (MCP)",
            "description": "May use the Aid's tools through an MCP agent (the [gate] requester list applies too).",
        }],
        "requiredResourceAccess": [],
    }
    if registration.app_id_uri and not registration.app_id_uri.startswith("api://<"):
        manifest["identifierUris"] = [registration.app_id_uri]
    return manifest
