"""An in-memory `ports.Ledger` for fast executor tests: the same compare-and-set rules as the store
(`gate.may_move`, conditional confirm), no database. The SQLCipher ledger has its own tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from appliance import gate
from appliance.store.action_steps import RecordOf
from appliance.types import ClaimedEntries, EntryMatch, PendingAction


@dataclass
class MemoryLedger:
    """Actions by id, audit records in order, and every call made (to assert what was written)."""

    actions: dict[str, PendingAction] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    turns: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    refuse_confirm: bool = False  # play a confirmation that lost a race inside the store
    undelivered: list[tuple[str, str, str]] = field(default_factory=list)
    """Messages Teams would not take, kept to send again: (conversation, text, reason)."""
    delivered: list[tuple[int, bool, str]] = field(default_factory=list)
    claims_asked: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    """Every `claimed_entries` asked: (client-request-id, since, until)."""

    def add(self, action: PendingAction) -> PendingAction:
        self.actions[action.id] = action
        return action

    async def get_action(self, action_id: str) -> PendingAction | None:
        return self.actions.get(action_id)

    async def confirm(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        self.calls.append("confirm")
        action = self.actions.get(action_id)
        if (self.refuse_confirm or action is None or action.state != "AWAITING" or action.requester_id != requester_id
                or action.action_hash != action_hash or gate.is_expired(action, moment)):
            return False
        self.actions[action_id] = replace(action, state="CONFIRMED", confirmed_by=requester_id,
                                          confirmed_at=moment.isoformat(), updated_at=moment.isoformat())
        return True

    async def confirm_first(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        self.calls.append("confirm_first")
        action = self.actions[action_id]
        if action.requester_confirmed_at is not None:
            return False
        self.actions[action_id] = replace(action, requester_confirmed_at=moment.isoformat())
        return True

    async def conversation_of_person(self, person_id: str) -> str | None:
        return None

    async def transition(self, action_id: str, expected: str, new_state: str, *,
                         client_request_id: str | None = None) -> bool:
        self.calls.append(f"{expected}->{new_state}")
        action = self.actions.get(action_id)
        if action is None or action.state != expected or not gate.may_move(expected, new_state):
            return False
        self.actions[action_id] = replace(action, state=new_state,
                                          client_request_id=client_request_id or action.client_request_id)
        return True

    async def finish_action(self, action_id: str, final_state: str, record: Mapping[str, Any],
                            tool_turn: str | None) -> dict[str, Any] | None:
        self.calls.append(f"finish:{final_state}")
        moved = await self.transition(action_id, "EXECUTING", final_state)
        if not moved and final_state != "UNKNOWN":  # as the store: an UNKNOWN action settles DONE or FAILED
            moved = await self.transition(action_id, "UNKNOWN", final_state)
        if not moved:
            return None
        stored = {**record, "Hash": hashlib.sha256(json.dumps(dict(record), sort_keys=True).encode()).hexdigest()}
        self.records.append(stored)
        if tool_turn is not None:
            self.turns.append((self.actions[action_id].conversation_ref, tool_turn))
        return stored

    async def actions_in_state(self, state: str) -> list[PendingAction]:
        return [a for a in self.actions.values() if a.state == state]

    async def expire_due(self, moment: datetime, record_of: RecordOf | None = None) -> list[PendingAction]:
        due = [a for a in self.actions.values() if a.state in gate.OPEN_STATES and gate.is_expired(a, moment)]
        for action in due:
            self.actions[action.id] = replace(action, state="EXPIRED")
            if record_of is not None:
                await self.append_record(record_of(self.actions[action.id]))
        return [self.actions[a.id] for a in due]

    async def close_action(self, action_id: str, expected: str, new_state: str,
                           record_of: RecordOf) -> dict[str, Any] | None:
        if not await self.transition(action_id, expected, new_state):
            return None
        return await self.append_record(record_of(self.actions[action_id]))

    async def append_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        stored = {**record, "Hash": hashlib.sha256(json.dumps(dict(record), sort_keys=True).encode()).hexdigest()}
        self.records.append(stored)
        return stored

    async def records_missing_entry(self, limit: int) -> list[dict[str, Any]]:
        missing = [r for r in self.records if r.get("Outcome") == "Success" and not r.get("AuditEntryId")]
        return missing[:limit]

    async def set_audit_entry_id(self, client_request_id: str, audit_entry_id: str, matched_by: EntryMatch) -> bool:
        for record in self.records:
            if record.get("ClientRequestId") == client_request_id and not record.get("AuditEntryId"):
                record["AuditEntryId"], record["AuditEntryMatchedBy"] = audit_entry_id, matched_by
                return True
        return False

    async def claimed_entries(self, client_request_id: str, since: datetime, until: datetime) -> ClaimedEntries:
        self.claims_asked.append((client_request_id, since, until))
        others = [r for r in self.records if r.get("ClientRequestId") != client_request_id]
        requests = {a.client_request_id for a in self.actions.values()} | {r.get("ClientRequestId") for r in others}
        joined = {r.get("ClientRequestId") for r in self.records if r.get("AuditEntryId")}
        rivals = tuple((a.tool, a.arguments_json) for a in self.actions.values() if a.client_request_id and
                       a.client_request_id not in joined | {client_request_id})
        return ClaimedEntries(frozenset(str(r["AuditEntryId"]) for r in others if r.get("AuditEntryId")),
                              frozenset(str(c) for c in requests if c and c != client_request_id), rivals)

    async def keep_undelivered(self, conversation_ref: str, text: str, reason: str) -> None:
        self.undelivered.append((conversation_ref, text, reason))

    async def undelivered_due(self, limit: int) -> list[dict[str, Any]]:
        kept = [{"id": n, "conversation_ref": c, "text": t} for n, (c, t, _) in enumerate(self.undelivered)]
        return kept[:limit]

    async def mark_delivered(self, message_id: int, delivered: bool, reason: str = "") -> None:
        self.delivered.append((message_id, delivered, reason))
