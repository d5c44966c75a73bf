"""The evaluation tenant as a `ports.Directory`, so a run grounds each request exactly as `serve` does
(`orchestrator.naming.NameResolver`), without Graph."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from appliance.evaluation.sets import EvaluationTenant
from appliance.orchestrator.naming import NameResolver
from appliance.types import NO_CLAIMS, AuditMatch, ClaimedEntries, ContextMessage, DirectoryEntry, Mentions, Person


def _starts(display_name: str, name: str) -> bool:
    text, wanted = display_name.casefold(), name.casefold()
    return text.startswith(wanted) or any(word.startswith(wanted) for word in text.split())


class TenantDirectory:
    """Name searches, address kinds and SKUs of an `EvaluationTenant` (prefix match on display-name words,
    as Graph's startswith on displayName, givenName and surname finds them)."""

    def __init__(self, tenant: EvaluationTenant) -> None:
        self.users = [DirectoryEntry(u["upn"], u["displayName"], u.get("department", "")) for u in tenant.users]
        self.groups = [DirectoryEntry(g["mail"], g["displayName"]) for g in tenant.groups]
        self.skus = tuple(tenant.skus)

    async def person(self, object_id: str) -> Person | None:
        """Not needed for grounding."""
        return None

    async def audit_match(self, tool: str, arguments: Mapping[str, Any], client_request_id: str, since: datetime,
                          until: datetime, claimed: ClaimedEntries = NO_CLAIMS) -> AuditMatch | None:
        """Not needed for grounding."""
        return None

    async def refusal(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """Not needed for grounding."""
        return None

    async def find_users(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Users whose display name, or a word of it, starts with `name`."""
        return [e for e in self.users if _starts(e.display_name, name)][:limit]

    async def find_groups(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Groups whose display name starts with `name`."""
        return [e for e in self.groups if e.display_name.casefold().startswith(name.casefold())][:limit]

    async def kind_of(self, address: str) -> str | None:
        """`user` or `group` for a known address."""
        if any(e.key == address for e in self.groups):
            return "group"
        return "user" if any(e.key == address for e in self.users) else None

    async def subscribed_skus(self) -> tuple[str, ...]:
        """The tenant's SKUs."""
        return self.skus


def mentions_for(tenant: EvaluationTenant, messages: Sequence[ContextMessage]) -> Mentions:
    """What `serve` would ground these messages on, against the evaluation tenant."""
    return asyncio.run(NameResolver(TenantDirectory(tenant)).mentions(messages))
