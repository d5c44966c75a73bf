"""The Aid's Entra roles against what the enabled tools need (`appliance doctor`), so a missing role is
named before anyone confirms an action that Graph would refuse with 403.

The roles are read with `GET /users/{id}/transitiveMemberOf` (microsoftgraph/microsoft-graph-docs-contrib
api-reference/v1.0/api/user-list-transitivememberof.md): directory roles assigned directly or through a
role-assignable group. Only *active* assignments appear there; a role that is merely eligible in PIM
counts as missing until it is activated (MicrosoftDocs/entra-docs docs/id-governance/privileged-identity-
management/pim-how-to-activate-role.md), which is what a confirmed action would meet too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from appliance.catalog import Catalog
from appliance.graph.gateway import GraphGateway

GLOBAL_ADMINISTRATOR = "Global Administrator"
"""Holds every permission of every other built-in role (MicrosoftDocs/entra-docs docs/identity/
role-based-access-control/permissions-reference.md), so it covers each tool's role."""


def needed_roles(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Each Entra role the enabled tools need, with the tools that need it."""
    needed: dict[str, list[str]] = {}
    for name, spec in catalog.items():
        if spec.admin_role:
            needed.setdefault(spec.admin_role, []).append(name)
    return {role: tuple(tools) for role, tools in sorted(needed.items())}


def missing_roles(catalog: Catalog, held: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The needed roles the Aid does not hold (by display name, case-insensitive), with their tools."""
    have = {role.casefold() for role in held}
    if GLOBAL_ADMINISTRATOR.casefold() in have:
        return {}
    return {role: tools for role, tools in needed_roles(catalog).items() if role.casefold() not in have}


async def held_roles(gateway: GraphGateway, user_id: str, client_request_id: str) -> set[str]:
    """The display names of the directory roles `user_id` holds now (every page)."""
    builder = gateway.client.users.by_user_id(user_id).transitive_member_of
    roles: set[str] = set()
    link: str | None = None
    while True:
        pages = builder.with_url(link) if link else builder
        page: Any = await gateway.call(client_request_id, pages.get)  # a read: retried on 429/503/504
        roles |= {o.display_name for o in page.value or []
                  if (o.odata_type or "").endswith("directoryRole") and getattr(o, "display_name", None)}
        link = page.odata_next_link
        if not link:
            return roles
