"""`StoreLedger`: the encrypted store behind `ports.Ledger`, for the orchestrator.

Every method hands one repository function to the store's own thread (`TenantStore.arun`), so the
event loop never waits on SQLCipher and each step is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from appliance.store import (
    action_steps,
    audit_records,
    claimed_entries,
    conversation_references,
    conversations,
    pending_actions,
    pending_choices,
    undelivered,
)
from appliance.store.action_steps import RecordOf
from appliance.store.tenant_store import TenantStore
from appliance.types import ActionState, ClaimedEntries, ContextMessage, EntryMatch, PendingAction, PendingChoice


class StoreLedger:
    """Implements `ports.Ledger` over a `TenantStore`."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    async def context(self, conversation_ref: str, limit: int) -> list[ContextMessage]:
        """The newest `limit` turns of the conversation, oldest first."""
        return await self.store.arun(conversations.context_messages, conversation_ref, limit)

    async def remember(self, conversation_ref: str, role: str, text: str) -> None:
        """Append a turn."""
        await self.store.arun(conversations.append_turn, conversation_ref, role, text)

    async def propose_action(self, *, user_text: str, **action: Any) -> PendingAction:
        """The user's turn and the new action, in one transaction."""
        return await self.store.arun(lambda db: action_steps.propose_action(db, user_text=user_text, **action))

    async def get_action(self, action_id: str) -> PendingAction | None:
        """The action, or None."""
        return await self.store.arun(pending_actions.get_action, action_id)

    async def open_actions(self, conversation_ref: str, requester_id: str) -> list[PendingAction]:
        """Waiting actions of this person in this conversation."""
        return await self.store.arun(pending_actions.open_actions, conversation_ref, requester_id)

    async def set_card(self, action_id: str, activity_id: str) -> None:
        """Remember the confirmation card's activity id."""
        await self.store.arun(pending_actions.set_card, action_id, activity_id)

    async def confirm(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        """AWAITING -> CONFIRMED in one conditional UPDATE."""
        return await self.store.arun(
            lambda db: pending_actions.confirm(
                db, action_id, requester_id=requester_id, action_hash=action_hash, moment=moment
            )
        )

    async def confirm_first(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        """Two-person rule: the requester's own confirmation (the action keeps waiting)."""
        return await self.store.arun(
            lambda db: pending_actions.confirm_first(
                db, action_id, requester_id=requester_id, action_hash=action_hash, moment=moment
            )
        )

    async def confirm_second(
        self, action_id: str, *, approver_id: str, approver_upn: str, action_hash: str, moment: datetime
    ) -> bool:
        """Two-person rule: the second approver's approval (AWAITING -> CONFIRMED)."""
        return await self.store.arun(
            lambda db: pending_actions.confirm_second(
                db,
                action_id,
                approver_id=approver_id,
                approver_upn=approver_upn,
                action_hash=action_hash,
                moment=moment,
            )
        )

    async def transition(
        self, action_id: str, expected: ActionState, new_state: ActionState, *, client_request_id: str | None = None
    ) -> bool:
        """Compare-and-set one state move."""
        return await self.store.arun(
            lambda db: pending_actions.transition(
                db, action_id, expected, new_state, client_request_id=client_request_id
            )
        )

    async def finish_action(
        self, action_id: str, final_state: ActionState, record: Mapping[str, Any], tool_turn: str | None
    ) -> dict[str, Any] | None:
        """EXECUTING -> DONE/FAILED/UNKNOWN (or UNKNOWN -> DONE/FAILED) plus the audit record and the tool turn."""
        return await self.store.arun(action_steps.finish_action, action_id, final_state, record, tool_turn)

    async def actions_in_state(self, state: ActionState) -> list[PendingAction]:
        """Every action in `state`."""
        return await self.store.arun(pending_actions.actions_in_state, state)

    async def expire_due(self, moment: datetime, record_of: RecordOf | None = None) -> list[PendingAction]:
        """Expire overdue waiting actions (each with its audit record when `record_of` is given)."""
        if record_of is None:
            return await self.store.arun(pending_actions.expire_due, moment)
        return await self.store.arun(action_steps.expire_due_recorded, moment, record_of)

    async def close_action(
        self, action_id: str, expected: ActionState, new_state: ActionState, record_of: RecordOf
    ) -> dict[str, Any] | None:
        """End an action without a Graph call, with its audit record, atomically."""
        return await self.store.arun(action_steps.close_action, action_id, expected, new_state, record_of)

    async def append_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Chain and append one audit record."""
        return await self.store.arun(audit_records.append_record, record)

    async def audit_records(
        self, *, since: datetime, requested_by: str | None, tool: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Audit records for m365_audit_query."""
        return await self.store.arun(
            lambda db: audit_records.query(db, since=since, requested_by=requested_by, tool=tool, limit=limit)
        )

    async def records_missing_entry(self, limit: int) -> list[dict[str, Any]]:
        """Successful records not yet joined to M365."""
        return await self.store.arun(audit_records.missing_entry_ids, limit)

    async def set_audit_entry_id(self, client_request_id: str, audit_entry_id: str, matched_by: EntryMatch) -> bool:
        """Fill AuditEntryId once, with AuditEntryMatchedBy (how the directory audit entry was found)."""
        return await self.store.arun(audit_records.set_audit_entry_id, client_request_id, audit_entry_id, matched_by)

    async def claimed_entries(self, client_request_id: str, since: datetime, until: datetime) -> ClaimedEntries:
        """Directory audit entries and client-request-ids of the other writes (they never settle this one), and
        the unjoined writes that could own an entry of this window too."""
        return await self.store.arun(claimed_entries.claimed_entries, client_request_id, since, until)

    async def save_choice(self, choice: PendingChoice) -> None:
        """Keep a request that waits for the person to pick who they meant."""
        await self.store.arun(pending_choices.save_choice, choice)

    async def take_choice(self, choice_id: str, requester_id: str, moment: datetime) -> PendingChoice | None:
        """The choice, once, for its requester, before it expires."""
        return await self.store.arun(pending_choices.take_choice, choice_id, requester_id, moment)

    async def save_reference(self, conversation_ref: str, reference_json: str, person_id: str | None = None) -> None:
        """Keep the Teams conversation reference (and whose 1:1 chat it is)."""
        await self.store.arun(conversation_references.save_reference, conversation_ref, reference_json, person_id)

    async def conversation_of_person(self, person_id: str) -> str | None:
        """The newest 1:1 conversation of this person with the Aid."""
        return await self.store.arun(conversation_references.conversation_of_person, person_id)

    async def load_reference(self, conversation_ref: str) -> str | None:
        """The stored Teams conversation reference."""
        return await self.store.arun(conversation_references.load_reference, conversation_ref)

    async def keep_undelivered(self, conversation_ref: str, text: str, reason: str) -> None:
        """Keep a message Teams would not take, to try again later."""
        await self.store.arun(undelivered.keep, conversation_ref, text, reason)

    async def undelivered_due(self, limit: int) -> list[dict[str, Any]]:
        """Kept messages whose next try is due."""
        return await self.store.arun(lambda db: undelivered.due(db, limit=limit))

    async def mark_delivered(self, message_id: int, delivered: bool, reason: str = "") -> None:
        """A kept message went out (or failed again and waits longer)."""
        if delivered:
            await self.store.arun(undelivered.delivered, message_id)
        else:
            await self.store.arun(undelivered.try_later, message_id, reason)
