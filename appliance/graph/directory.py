"""The orchestrator's view of the directory, through Graph as the Aid (`ports.Directory`).

- `person(object_id)`: who wrote to the Aid (UPN, name, enabled, the mail addresses of their groups),
  cached for a few minutes so a conversation does not cost a Graph call per message.
- `audit_match(...)`: the M365 directory audit entry of one of the Aid's writes (`audit_matching.py`), to
  settle its outcome and join the audit record.
- `refusal(tool, arguments)`: why the Aid refuses a target (`protection.py`), asked before any card.
- `find_users` / `find_groups` / `kind_of` / `subscribed_skus`: bounded name searches for grounding.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from appliance import ops_log
from appliance.graph import protection
from appliance.graph.audit_matching import find_entry
from appliance.graph.executors.common import items
from appliance.graph.gateway import GraphCallFailed, GraphGateway
from appliance.graph.paging import every_page
from appliance.graph.scopes import DIRECTORY_PERMISSIONS
from appliance.types import NO_CLAIMS, AuditMatch, ClaimedEntries, DirectoryEntry, Person

__all__ = ["DIRECTORY_PERMISSIONS", "GraphDirectory"]


class GraphDirectory:
    """Implements `ports.Directory` with the Aid's Graph gateway."""

    def __init__(self, gateway: GraphGateway, *, aid_object_id: str | None = None, ttl_seconds: float = 300.0) -> None:
        self.gateway, self.ttl, self.aid_object_id = gateway, ttl_seconds, aid_object_id
        self._people: dict[str, tuple[float, Person | None]] = {}
        self._skus: tuple[float, tuple[str, ...]] | None = None

    async def person(self, object_id: str) -> Person | None:
        """The person behind a Teams aadObjectId (or a UPN), or None if the tenant has no such user."""
        cached = self._people.get(object_id)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        found = await self._lookup(object_id)
        if len(self._people) > 5000:
            self._people.clear()
        self._people[object_id] = (time.monotonic(), found)
        return found

    async def _lookup(self, object_id: str) -> Person | None:
        gw, crid = self.gateway, str(uuid.uuid4())
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "userPrincipalName", "displayName", "accountEnabled"]
        )
        try:
            user = await gw.call(crid, lambda c: gw.client.users.by_user_id(object_id).get(request_configuration=c),
                                 query=query)
            groups = await every_page(gw, crid, gw.client.users.by_user_id(object_id).transitive_member_of)
        except GraphCallFailed as exc:
            if exc.status == 404:
                return None
            raise
        if user is None:
            return None
        if not groups.complete:  # requester groups past the bound are not seen: say so in the ops log
            ops_log.event("person.groups_truncated", count=groups.pages)
        mails = frozenset(str(g.mail) for g in groups.items if (g.odata_type or "").endswith(".group") and
                          getattr(g, "mail", None))
        return Person(str(user.id), str(user.user_principal_name), str(user.display_name or ""),
                      bool(user.account_enabled), mails)

    async def audit_match(
        self, tool: str, arguments: Mapping[str, Any], client_request_id: str, since: datetime, until: datetime,
        claimed: ClaimedEntries = NO_CLAIMS,
    ) -> AuditMatch | None:
        """The directory audit entry that settles this write, or None (not readable yet, claimed, or ambiguous)."""
        return await find_entry(self.gateway, str(uuid.uuid4()), aid_id=self.aid_object_id, tool=tool,
                                arguments=arguments, client_request_id=client_request_id, since=since,
                                until=until, claimed=claimed)

    async def refusal(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """Why the Aid refuses this target (privileged account, role-assignable group), or None."""
        return await protection.refusal(self.gateway, tool, arguments, str(uuid.uuid4()))

    # -- names (issue 12): bounded searches with minimal fields ------------------------------------
    # $filter with startswith on displayName/givenName/surname/mail, $select and $top: Microsoft Graph
    # "List users" and "List groups" (microsoftgraph/microsoft-graph-docs-contrib
    # api-reference/v1.0/api/user-list.md, api-reference/v1.0/api/group-list.md) and "Use the $filter
    # query parameter" (concepts/filter-query-parameter.md: startswith on displayName).
    async def find_users(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Users whose display name, given name or surname starts with `name` (UPN, name, department only)."""
        gw, text = self.gateway, name.replace("'", "''")
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            filter=f"startswith(displayName,'{text}') or startswith(givenName,'{text}') or "
            f"startswith(surname,'{text}')",
            select=["id", "userPrincipalName", "displayName", "department"], top=limit,
        )
        page = await gw.call(str(uuid.uuid4()), lambda c: gw.client.users.get(request_configuration=c),
                             query=query)
        return [DirectoryEntry(str(u.user_principal_name).lower(), str(u.display_name or ""), str(u.department or ""))
                for u in items(page)][:limit]

    async def find_groups(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Mail-enabled groups whose display name starts with `name` (mail and display name only)."""
        gw, text = self.gateway, name.replace("'", "''")
        query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
            filter=f"startswith(displayName,'{text}')", select=["id", "displayName", "mail"], top=limit
        )
        page = await gw.call(str(uuid.uuid4()), lambda c: gw.client.groups.get(request_configuration=c),
                             query=query)
        return [DirectoryEntry(str(g.mail).lower(), str(g.display_name or "")) for g in items(page) if g.mail][:limit]

    async def kind_of(self, address: str) -> str | None:
        """`user` if a user has this UPN, `group` if a group has this mail, else None."""
        if await self.person(address) is not None:
            return "user"
        gw, text = self.gateway, address.replace("'", "''")
        query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
            filter=f"mail eq '{text}'", select=["id"], top=1
        )
        page = await gw.call(str(uuid.uuid4()), lambda c: gw.client.groups.get(request_configuration=c),
                             query=query)
        return "group" if items(page) else None

    async def subscribed_skus(self) -> tuple[str, ...]:
        """The tenant's SKU part numbers (GET /subscribedSkus; not personal data), refreshed after the TTL."""
        if self._skus and time.monotonic() - self._skus[0] < self.ttl:
            return self._skus[1]
        gw = self.gateway
        page = await gw.call(str(uuid.uuid4()), lambda c: gw.client.subscribed_skus.get(request_configuration=c))
        skus = tuple(str(s.sku_part_number) for s in items(page) if s.sku_part_number)
        self._skus = (time.monotonic(), skus)
        return skus
