"""Fakes of the Graph side for unit tests: a `ToolRunner` and a `Directory` that keep their calls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.types import NO_CLAIMS, AuditMatch, ClaimedEntries, DirectoryEntry, ExecutionResult, Person


@dataclass
class FakeTools:
    """Records every run; `outcomes[tool]` picks the outcome (default done); `raises` plays a lost call."""

    outcomes: dict[str, str] = field(default_factory=dict)
    raises: set[str] = field(default_factory=set)
    runs: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    audit_entries: dict[str, str] = field(default_factory=dict)
    committed_unknown: set[str] = field(default_factory=set)
    """Tools whose `unknown` outcome (a lost answer) did reach Graph: their audit entry exists."""

    async def run(self, tool: str, arguments: Mapping[str, Any], client_request_id: str) -> ExecutionResult:
        """Record the call and answer like an executor would."""
        self.runs.append((tool, dict(arguments), client_request_id))
        if tool in self.raises:
            raise ConnectionResetError("lost")
        outcome = self.outcomes.get(tool, "done")
        if outcome == "done" or (outcome == "unknown" and tool in self.committed_unknown):
            self.audit_entries[client_request_id] = f"Directory_{uuid.uuid4()}"
        return ExecutionResult(tool, outcome, client_request_id, 200 if outcome == "done" else 400,  # type: ignore[arg-type]
                               str(uuid.uuid4()), {}, f"{tool} {outcome}")


@dataclass
class FakeDirectory:
    """People by object id, and the directory audit entries `FakeTools` made (by client-request-id)."""

    people: dict[str, Person] = field(default_factory=dict)
    tools: FakeTools | None = None
    directory: list[DirectoryEntry] = field(default_factory=list)  # who a name search can find
    groups: list[DirectoryEntry] = field(default_factory=list)
    skus: tuple[str, ...] = ("ENTERPRISEPACK", "SPE_E5", "SPE_F1")
    searches: list[tuple[str, str]] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)
    failed_entries: dict[str, str] = field(default_factory=dict)
    lookups: list[tuple[str, dict[str, Any], str, datetime, datetime, ClaimedEntries]] = field(default_factory=list)
    """Every `audit_match` asked: (tool, arguments, client-request-id, since, until, what other writes own)."""

    async def find_users(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Users whose display name, or a word of it, starts with `name`."""
        self.searches.append(("user", name))
        return [e for e in self.directory if _starts(e.display_name, name)][:limit]

    async def find_groups(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Groups whose display name starts with `name`."""
        self.searches.append(("group", name))
        return [e for e in self.groups if _starts(e.display_name, name)][:limit]

    async def kind_of(self, address: str) -> str | None:
        """`group` for a known group mail, `user` for a known person, else None."""
        if any(g.key == address.casefold() for g in self.groups):
            return "group"
        known = {p.upn.casefold() for p in self.people.values()} | {e.key for e in self.directory}
        return "user" if address.casefold() in known else None

    async def subscribed_skus(self) -> tuple[str, ...]:
        """The tenant's SKU part numbers."""
        return self.skus

    async def person(self, object_id: str) -> Person | None:
        """The person with this object id (or UPN), or None."""
        found = self.people.get(object_id)
        return found or next((p for p in self.people.values() if p.upn.casefold() == object_id.casefold()), None)

    async def audit_match(self, tool: str, arguments: Mapping[str, Any], client_request_id: str, since: datetime,
                          until: datetime, claimed: ClaimedEntries = NO_CLAIMS) -> AuditMatch | None:
        """The entry `FakeTools` made for this client-request-id (or one a test put in `failed_entries`), unless
        `claimed` says it is another write's."""
        self.lookups.append((tool, dict(arguments), client_request_id, since, until, claimed))
        match: AuditMatch | None
        if client_request_id in self.failed_entries:
            match = AuditMatch(f"Directory_{client_request_id}", False, self.failed_entries[client_request_id])
        else:
            entry = self.tools.audit_entries.get(client_request_id) if self.tools else None
            match = AuditMatch(entry, True) if entry else None
        return None if match is None or match.entry_id in claimed.entry_ids else match

    async def refusal(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """A refusal a test set for the target (`refusals[user or group]`), or None."""
        return self.refusals.get(str(arguments.get("user") or arguments.get("group") or ""))


def _starts(display_name: str, name: str) -> bool:
    text, wanted = display_name.casefold(), name.casefold()
    return text.startswith(wanted) or any(word.startswith(wanted) for word in text.split())
