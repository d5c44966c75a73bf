"""Fakes of the Graph side for unit tests: a `ToolRunner` and a `Directory` that keep their calls."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.types import ExecutionResult, Person


@dataclass
class FakeTools:
    """Records every run; `outcomes[tool]` picks the outcome (default done); `raises` plays a lost call."""

    outcomes: dict[str, str] = field(default_factory=dict)
    raises: set[str] = field(default_factory=set)
    runs: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    audit_entries: dict[str, str] = field(default_factory=dict)

    async def run(self, tool: str, arguments: Mapping[str, Any], client_request_id: str) -> ExecutionResult:
        """Record the call and answer like an executor would."""
        self.runs.append((tool, dict(arguments), client_request_id))
        if tool in self.raises:
            raise ConnectionResetError("lost")
        outcome = self.outcomes.get(tool, "done")
        if outcome == "done":
            self.audit_entries[client_request_id] = f"Directory_{uuid.uuid4()}"
        return ExecutionResult(tool, outcome, client_request_id, 200 if outcome == "done" else 400,  # type: ignore[arg-type]
                               str(uuid.uuid4()), {}, f"{tool} {outcome}")


@dataclass
class FakeDirectory:
    """People by object id, and the directory audit entries `FakeTools` made (by client-request-id)."""

    people: dict[str, Person] = field(default_factory=dict)
    tools: FakeTools | None = None

    async def person(self, object_id: str) -> Person | None:
        """The person with this object id (or UPN), or None."""
        found = self.people.get(object_id)
        return found or next((p for p in self.people.values() if p.upn.casefold() == object_id.casefold()), None)

    async def audit_entry_for(self, correlation_id: str) -> str | None:
        """The entry `FakeTools` made for this client-request-id, or None."""
        return self.tools.audit_entries.get(correlation_id) if self.tools else None
