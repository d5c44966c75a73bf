"""The Protocols the use case (`appliance.orchestrator`) reaches out through. Adapters implement them;
wiring joins them.

The use case never imports an adapter: it gets a `Proposer` (the model, a `ToolCallModel` on its own
thread), a `Ledger` (the encrypted store), a `ToolRunner` and a `Directory` (Graph as the Aid) and, per
conversation, an `Outbox` (the channel, e.g. Teams).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from appliance.types import (
    NO_CLAIMS,
    ActionCard,
    ActionState,
    AuditMatch,
    ChoiceCard,
    ClaimedEntries,
    ContextMessage,
    DirectoryEntry,
    EntryMatch,
    ExecutionResult,
    Mentions,
    PendingAction,
    PendingChoice,
    Person,
    Proposal,
)


class ToolCallModel(Protocol):
    """The model: turns a bounded conversation into exactly one valid catalog tool call (blocking; one call
    at a time). The local llama.cpp engine and every BYO LLM implement it."""

    def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """Return the one tool call the model proposes for the conversation so far, its directory and license
        arguments grounded on `mentions` (None: on every address and name the conversation holds)."""
        ...


class Proposer(Protocol):
    """A `ToolCallModel` made awaitable (wiring runs the blocking model on its own thread)."""

    @property
    def name(self) -> str:
        """What the audit record's Orchestrator field says (model name and fingerprint)."""
        ...

    async def propose(self, messages: Sequence[ContextMessage], mentions: Mentions | None = None) -> Proposal:
        """The one tool call for this conversation."""
        ...


class TokenCacheStore(Protocol):
    """Where msal's SerializableTokenCache blob is persisted (inside the encrypted store)."""

    def load_token_cache(self) -> str | None:
        """The serialized cache, or None if there is none yet."""
        ...

    def save_token_cache(self, blob: str) -> None:
        """Replace the serialized cache."""
        ...


class ToolRunner(Protocol):
    """Runs one catalog tool as the Aid (Graph). The caller has recorded `client_request_id` first."""

    async def run(self, tool: str, arguments: Mapping[str, Any], client_request_id: str) -> ExecutionResult:
        """Execute and report; never raises for Graph failures (they come back as `failed`)."""
        ...


class Directory(Protocol):
    """What the orchestrator asks the tenant's directory (through Graph, as the Aid)."""

    async def person(self, object_id: str) -> Person | None:
        """The person behind a Teams aadObjectId or a UPN (UPN, name, enabled, group mails), or None."""
        ...

    async def audit_match(
        self, tool: str, arguments: Mapping[str, Any], client_request_id: str, since: datetime, until: datetime,
        claimed: ClaimedEntries = NO_CLAIMS,
    ) -> AuditMatch | None:
        """The M365 directory audit entry of one write, if it is readable yet: first by correlationId ==
        client-request-id, else by the same activity on the same target, initiated by the Aid, between
        `since` and `until` (one entry only; several are ambiguous and settle nothing). An entry in `claimed`
        (another write's) never settles this one."""
        ...

    async def refusal(self, tool: str, arguments: Mapping[str, Any]) -> str | None:
        """Why the Aid will not act on this tool's target (a privileged account, a role-assignable group), in a
        sentence for the person, or None. Asked before any confirmation card is shown."""
        ...

    async def find_users(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Users whose name starts with `name` (at most `limit`; UPN, display name, department only)."""
        ...

    async def find_groups(self, name: str, limit: int) -> list[DirectoryEntry]:
        """Groups whose display name starts with `name` (at most `limit`; mail and display name only)."""
        ...

    async def kind_of(self, address: str) -> str | None:
        """`user` or `group` for an address the directory knows, else None."""
        ...

    async def subscribed_skus(self) -> tuple[str, ...]:
        """The part numbers of the tenant's subscribed SKUs (refreshed from Graph every few minutes)."""
        ...


class Outbox(Protocol):
    """Messages to one Teams conversation (delivered proactively, after the inbound POST was answered)."""

    async def typing(self) -> None:
        """Show the typing indicator."""
        ...

    async def say(self, text: str) -> str | None:
        """Send a text message; returns its activity id."""
        ...

    async def show_card(self, card: ActionCard) -> str | None:
        """Send a confirmation card; returns its activity id (to update it in place later)."""
        ...

    async def update_card(self, activity_id: str, card: ActionCard) -> None:
        """Replace a card already sent (the decision, no more buttons)."""
        ...

    async def show_choices(self, card: ChoiceCard) -> str | None:
        """Send a card asking which person or group was meant (one button each); returns its activity id."""
        ...


class Ledger(Protocol):
    """The encrypted store as the orchestrator sees it: context, pending actions, audit records."""

    async def context(self, conversation_ref: str, limit: int) -> list[ContextMessage]:
        """The newest `limit` turns of the conversation, oldest first."""
        ...

    async def remember(self, conversation_ref: str, role: str, text: str) -> None:
        """Append a turn (a user message, or the shape of a tool result)."""
        ...

    async def propose_action(self, *, user_text: str, **action: Any) -> PendingAction:
        """Store the user's turn and the new pending action together."""
        ...

    async def get_action(self, action_id: str) -> PendingAction | None:
        """The action, or None."""
        ...

    async def open_actions(self, conversation_ref: str, requester_id: str) -> list[PendingAction]:
        """This person's actions in this conversation that still wait for a decision, oldest first."""
        ...

    async def set_card(self, action_id: str, activity_id: str) -> None:
        """Remember the activity id of the action's confirmation card."""
        ...

    async def confirm(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        """AWAITING -> CONFIRMED iff same requester, same hash, not expired, not yet decided."""
        ...

    async def confirm_first(self, action_id: str, *, requester_id: str, action_hash: str, moment: datetime) -> bool:
        """Two-person rule: record the requester's own confirmation; the action keeps waiting."""
        ...

    async def confirm_second(
        self, action_id: str, *, approver_id: str, approver_upn: str, action_hash: str, moment: datetime
    ) -> bool:
        """Two-person rule: AWAITING -> CONFIRMED by someone other than the requester, after the requester."""
        ...

    async def transition(
        self, action_id: str, expected: ActionState, new_state: ActionState, *, client_request_id: str | None = None
    ) -> bool:
        """Compare-and-set one state move; False if the action was not in `expected`."""
        ...

    async def finish_action(
        self, action_id: str, final_state: ActionState, record: Mapping[str, Any], tool_turn: str | None
    ) -> dict[str, Any] | None:
        """EXECUTING -> DONE/FAILED/UNKNOWN (or UNKNOWN -> DONE/FAILED) with its audit record (and the
        tool-result turn), atomically."""
        ...

    async def actions_in_state(self, state: ActionState) -> list[PendingAction]:
        """Every action in `state`, oldest first."""
        ...

    async def expire_due(
        self, moment: datetime, record_of: Callable[[PendingAction], Mapping[str, Any]] | None = None
    ) -> list[PendingAction]:
        """Expire every overdue waiting action (with `record_of(action)` as its audit record); return them."""
        ...

    async def close_action(
        self, action_id: str, expected: ActionState, new_state: ActionState,
        record_of: Callable[[PendingAction], Mapping[str, Any]],
    ) -> dict[str, Any] | None:
        """`expected` -> `new_state` without a Graph call, with its audit record, atomically; None if it moved."""
        ...

    async def append_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Chain and append one audit record (a refused request); returns it as stored."""
        ...

    async def audit_records(
        self, *, since: datetime, requested_by: str | None, tool: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Audit records since `since`, newest last, optionally of one requester (UPN) and one tool."""
        ...

    async def records_missing_entry(self, limit: int) -> list[dict[str, Any]]:
        """Successful records whose M365 AuditEntryId is not known yet, oldest first."""
        ...

    async def set_audit_entry_id(self, client_request_id: str, audit_entry_id: str, matched_by: EntryMatch) -> bool:
        """Fill AuditEntryId once, with AuditEntryMatchedBy (how the directory audit entry was found)."""
        ...

    async def claimed_entries(self, client_request_id: str, since: datetime, until: datetime) -> ClaimedEntries:
        """What belongs to writes other than `client_request_id` from a day before `since` on: the directory
        audit entries joined to their records, and their client-request-ids; and the other writes not joined to
        an entry that could own one dated between `since` and `until` (rivals)."""
        ...

    async def save_choice(self, choice: PendingChoice) -> None:
        """Keep a request that waits for the person to pick who they meant."""
        ...

    async def take_choice(self, choice_id: str, requester_id: str, moment: datetime) -> PendingChoice | None:
        """The choice, once: only for its requester, before it expires (None otherwise)."""
        ...

    async def save_reference(self, conversation_ref: str, reference_json: str, person_id: str | None = None) -> None:
        """Keep the Teams conversation reference for proactive messages (and whose 1:1 chat it is)."""
        ...

    async def keep_undelivered(self, conversation_ref: str, text: str, reason: str) -> None:
        """Keep a message that could not be delivered, to try again later."""
        ...

    async def undelivered_due(self, limit: int) -> list[dict[str, Any]]:
        """Kept messages whose next try is due (id, conversation_ref, text, reason, attempts)."""
        ...

    async def mark_delivered(self, message_id: int, delivered: bool, reason: str = "") -> None:
        """A kept message went out, or failed again (and waits longer)."""
        ...

    async def conversation_of_person(self, person_id: str) -> str | None:
        """The newest 1:1 conversation of a person (Entra object id) with the Aid, or None."""
        ...

    async def load_reference(self, conversation_ref: str) -> str | None:
        """The stored Teams conversation reference, or None."""
        ...
