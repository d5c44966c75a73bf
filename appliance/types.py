"""Plain data shared by every room: messages in, tool calls out. Stdlib + pydantic only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "tool"]


class ActionState(StrEnum):
    """Where a pending action stands. `gate.lifecycle.LIFECYCLE` says which moves exist between them;
    the value is what the store keeps (a `StrEnum`, so it compares equal to its stored text)."""

    PROPOSED = "PROPOSED"
    AWAITING = "AWAITING"
    CONFIRMED = "CONFIRMED"
    EXECUTING = "EXECUTING"
    UNKNOWN = "UNKNOWN"
    """The write may have reached Graph and no directory audit entry settled it yet; never run again."""
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


CardStatus = Literal[
    "awaiting", "approval", "waiting", "confirmed", "cancelled", "expired", "done", "failed", "unknown"
]
"""What a confirmation card shows. `awaiting` (the requester's Confirm / Cancel) and `approval` (a second
approver's Approve / Decline) carry buttons; every other status is a decision shown without buttons."""

DecidedStatus = Literal["waiting", "confirmed", "cancelled", "expired", "done", "failed", "unknown"]
"""The statuses a card is updated to once someone decided (no buttons)."""

Decision = Literal["confirm", "cancel", "approve", "decline"]
"""What a card button asks for: the requester's Confirm / Cancel, an approver's Approve / Decline."""


class ContextMessage(BaseModel):
    """One entry of the bounded conversation context given to the model.

    Only two kinds exist on purpose: what the user wrote, and the *shape* of a tool result
    (e.g. `m365_user_get -> found 1 user`), never bulk directory data.
    """

    model_config = ConfigDict(frozen=True)

    role: Role
    text: str = Field(max_length=20_000)


@dataclass(frozen=True)
class Mentions:
    """What the conversation names, sorted by kind by the directory (grounding, issue 12).

    `users` and `groups` hold addresses and display names as the person wrote them; a user address never
    fills a group argument and a group never a user one. `skus` are part numbers the tenant subscribes
    to that the conversation means ("E3" -> ENTERPRISEPACK). The model may only copy these values.
    """

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()


class ToolCall(BaseModel):
    """A validated call of one catalog tool, as proposed by an orchestrator."""

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, Any]

    def canonical_json(self) -> str:
        """Stable JSON (sorted keys, no whitespace): what the confirmation hash is computed over."""
        return json.dumps(
            {"tool": self.tool, "arguments": self.arguments},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )


class Proposal(BaseModel):
    """What an orchestrator returns for one message: the call plus how it was made."""

    model_config = ConfigDict(frozen=True)

    call: ToolCall
    raw_text: str
    model: str
    model_sha256: str
    backend: str
    prompt_tokens: int
    generated_tokens: int
    forced_tokens: int = 0
    compile_seconds: float = 0.0
    seconds: float = 0.0


@dataclass
class ExecutionResult:
    """What one tool execution did: outcome, Graph's ids and status, a minimal result, a Teams-safe message.

    `outcome` is `done` (it happened, or was already so), `failed` (Graph said no, or the write provably
    never reached Graph; nothing half-done), `refused` (the appliance itself refused the target, e.g. an
    administrator) or `unknown` (the write may have reached Graph and no clear answer came back: it is
    never sent again; the directory audit log settles it).
    """

    tool: str
    outcome: Literal["done", "failed", "refused", "unknown"]
    client_request_id: str
    status: int | None = None
    request_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class PendingAction:
    """One proposed state change and where it stands (timestamps are ISO-8601 UTC text)."""

    id: str
    conversation_ref: str
    requester_id: str
    tool: str
    arguments_json: str
    summary: str
    action_hash: str
    state: ActionState
    client_request_id: str | None
    confirmed_by: str | None
    confirmed_at: str | None
    created_at: str
    expires_at: str
    updated_at: str
    ended_at: str | None
    requester_upn: str | None = None
    orchestrator: str | None = None
    card_activity_id: str | None = None
    requester_confirmed_at: str | None = None
    approver_upn: str | None = None
    executing_at: str | None = None
    confirm_code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ActionState(self.state))  # typed, whatever text the store read

    @property
    def arguments(self) -> dict[str, Any]:
        """The tool arguments, parsed."""
        parsed: dict[str, Any] = json.loads(self.arguments_json)
        return parsed


EntryMatch = Literal["correlationId", "activity"]
"""How a write's M365 directory audit entry was found: its audit record's `AuditEntryMatchedBy`.
`correlationId`: the entry's correlationId is the client-request-id the appliance sent with the write (the strong
join). `activity`: the fallback on the entry's documented fields only: the same activity, on the same target,
initiated by the Aid, inside the action's time window, and the only such entry no other write claims."""
BY_CORRELATION_ID: EntryMatch = "correlationId"
BY_ACTIVITY: EntryMatch = "activity"
ENTRY_MATCHES: tuple[EntryMatch, ...] = (BY_CORRELATION_ID, BY_ACTIVITY)


@dataclass(frozen=True)
class AuditMatch:
    """The M365 directory audit entry that settles one write: its id, whether it says the write succeeded,
    Graph's reason when it failed, and how it was matched (`EntryMatch`)."""

    entry_id: str
    succeeded: bool
    reason: str = ""
    matched_by: EntryMatch = BY_CORRELATION_ID


@dataclass(frozen=True)
class ClaimedEntries:
    """What the store knows belongs to the appliance's *other* writes, so it never settles this one: the ids of
    directory audit entries already joined to (or settling) another write's record, and the client-request-ids
    of the other writes (an entry whose correlationId is one of them is that write's, not this one's). `rivals`:
    (tool, arguments JSON) of the other writes not joined to any entry whose window overlaps this one's: an
    entry the documented fields find could be theirs as well."""

    entry_ids: frozenset[str] = frozenset()
    client_request_ids: frozenset[str] = frozenset()
    rivals: tuple[tuple[str, str], ...] = ()


NO_CLAIMS = ClaimedEntries()
"""Nothing claimed (a caller without a store)."""


@dataclass(frozen=True)
class Person:
    """Someone who wrote to the Aid, as the directory knows them (resolved from the Teams aadObjectId)."""

    object_id: str
    upn: str
    display_name: str
    enabled: bool
    group_mails: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Turn:
    """One inbound Teams message, already authenticated and checked (tenant, 1:1, known sender).

    `card` holds the data of an Adaptive Card button the person pressed (None for typed text).
    """

    conversation_ref: str
    activity_id: str
    requester_id: str
    requester_name: str
    text: str
    card: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionCard:
    """What a confirmation card shows; the Teams adapter renders it as an Adaptive Card.

    `status` is `awaiting` while buttons are live; afterwards the card is updated in place with the
    decision (`confirmed`, `cancelled`, `expired`, `done`, `failed`) and `status_line` says who and when.
    `confirm_code` is what a typed confirmation must carry ("yes 482913"); only a waiting card shows it.
    """

    action_id: str
    action_hash: str
    summary: str
    tool: str
    target: str
    graph_operation: str
    expires_at: str
    status: CardStatus = "awaiting"
    status_line: str = ""
    confirm_code: str = ""


@dataclass(frozen=True)
class DirectoryEntry:
    """One person or group a name search found: only what a choice card shows (minimal fields)."""

    key: str  # the user principal name, or the group's mail address
    display_name: str
    department: str = ""


@dataclass(frozen=True)
class PendingChoice:
    """A request waiting for the person to pick who (or which group) they meant; the pick continues it.

    `arguments` still hold the name as written in `argument`; `options` are the directory keys offered
    (at most five); `labels` name the people already resolved ("Lee Vere (leaver@contoso.com)").
    """

    id: str
    conversation_ref: str
    requester_id: str
    tool: str
    arguments: dict[str, Any]
    argument: str
    options: tuple[DirectoryEntry, ...]
    labels: dict[str, str]
    user_text: str
    expires_at: str


@dataclass(frozen=True)
class ChoiceCard:
    """A card asking which of several people or groups was meant: one button per option."""

    choice_id: str
    question: str
    options: tuple[DirectoryEntry, ...]
