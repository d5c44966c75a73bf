"""`CatalogRequests`: the channel-free use case "this person asks for this catalog call".

Teams (the local model's proposal), MCP (an agent's tool call) and any later channel end here:
- `admit`: the requester is an enabled account of the tenant and on the requester list (`[gate]`);
- `ask`: the call is validated against the enabled catalog; the audit query answers from the ledger
  (the requester's own records, or everyone's for a reviewer); a read-only tool runs at once as the
  Aid; a state change is never run here: the Aid's own account is refused, otherwise a pending
  action is stored and its confirmation card is sent to the requester's own 1:1 chat with the Aid,
  where only that person can confirm it (the two-person rule follows in `Approvals`);
- `status` / `waiting`: the requester's own actions, for channels that cannot show a card.

Nothing here knows a channel: answers come back as `Answer` values, and the card goes to an `Outbox`
(the Teams turn's own, or the requester's chat found through the `OutboxFor` given at construction).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from appliance import gate, ops_log
from appliance.audit import chat_answer
from appliance.catalog import AUDIT_QUERY_TOOL, REPLY_TOOL, Catalog
from appliance.errors import ApplianceError
from appliance.orchestrator.closing_records import ClosingRecords
from appliance.orchestrator.execution import result_shape
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.shared import OutboxFor
from appliance.ports import Directory, Ledger, Outbox, ToolRunner
from appliance.types import PendingAction, Person, ToolCall

NOT_A_REQUESTER = "You're not on the list of people the Aid works for. Your IT team can add you."
NO_CHAT = ("I can't reach your Teams chat with the Aid, so there is nowhere to ask for your confirmation. "
           "Send the Aid one message in Teams first, then ask again. Nothing was changed.")
UNREACHABLE = "I can't reach Microsoft 365 right now; try later."

AnswerKind = Literal["read", "read_failed", "audit", "refused", "pending", "no_chat"]


@dataclass(frozen=True)
class RequesterAdmission:
    """Whether a person may use the Aid's tools: the person, or the sentence that refuses them."""

    person: Person | None
    refusal: str = ""


@dataclass(frozen=True)
class CatalogRequest:
    """One person asking for one catalog call.

    `conversation_ref` is the requester's 1:1 chat with the Aid (None: the newest one the store knows);
    the card goes there. `user_text` is what the person asked in their words (or, from an agent, the
    call as the agent sent it); `orchestrator` is what proposed the call (the audit record's
    Orchestrator field). With `remember`, the request and the result's shape join the conversation.
    """

    requester: Person
    tool: str
    arguments: Mapping[str, Any]
    orchestrator: str
    user_text: str
    conversation_ref: str | None = None
    remember: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)  # address -> "Lee Vere (leaver@...)" for the card


@dataclass(frozen=True)
class Answer:
    """What came of a request. `message` is the sentence for the person (empty: the card says it all);
    `result` the minimal result of a read (or the records of an audit query); `action` the pending
    action a state change created; `earlier_waiting` how many of the person's changes already waited."""

    kind: AnswerKind
    call: ToolCall
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    action: PendingAction | None = None
    card_shown: bool = False
    earlier_waiting: int = 0


class CatalogRequests:
    """The use case; one instance serves every channel (it keeps no per-request state)."""

    def __init__(
        self, *, catalog: Catalog, ledger: Ledger, tools: ToolRunner, directory: Directory, policy: AidPolicy,
        clock: Callable[[], datetime], outbox_for: OutboxFor | None = None,
    ) -> None:
        self.catalog, self.ledger, self.tools = catalog, ledger, tools
        self.directory, self.policy, self.clock = directory, policy, clock
        self._outbox_for = outbox_for
        self.closing = ClosingRecords(ledger, policy, clock)

    async def admit(self, requester_id: str, conversation_ref: str = "") -> RequesterAdmission:
        """The person behind an Entra object id, if they may use the Aid's tools (checked on every request,
        and again when they confirm). A refusal leaves a hash-chained audit record."""
        person = await self.directory.person(requester_id)
        sender = gate.judge_sender(requester_id, person)
        if person is None or not sender.allowed:
            reason, message = sender.reason, sender.message
        elif not gate.may_use_tools(person, self.policy.requesters, self.policy.requester_groups):
            reason, message = "not_a_requester", NOT_A_REQUESTER
        else:
            return RequesterAdmission(person)
        ops_log.event("turn.refused", reason=reason, requester=requester_id)
        await self.closing.refused_request(requester_id=requester_id, requester_upn=person.upn if person else None,
                                           conversation_ref=conversation_ref, reason=reason, message=message)
        return RequesterAdmission(None, message)

    def validate(self, tool: str, arguments: Any) -> ToolCall:
        """The call in canonical form if the enabled catalog has it with these arguments (else raises
        `ApplianceError`: an unknown or disabled tool, or arguments outside the tool's schema)."""
        return self.catalog.validate_call(tool, arguments)

    async def ask(self, request: CatalogRequest, card_outbox: Outbox | None = None) -> Answer:
        """Answer a read, or turn a state change into a pending action with a card in the requester's chat.

        `card_outbox` is the requester's chat when the channel already holds it (a Teams turn); otherwise
        the chat is looked up. Raises `ApplianceError` for a call outside the enabled catalog.
        """
        call = self.validate(request.tool, dict(request.arguments))
        if call.tool == REPLY_TOOL:
            return Answer("refused", call, "`reply` is the local model's answer to a person, not a request.")
        if call.tool == AUDIT_QUERY_TOOL:
            return await self._audit_query(request, call)
        if not self.catalog[call.tool].runs_on_graph:  # e.g. the chat's own waiting changes (aid_pending_*)
            return Answer("refused", call, f"`{call.tool}` is answered in the person's chat with the Aid only.")
        if not self.catalog[call.tool].changes_state:
            return await self._read(request, call)
        return await self._propose_change(request, call, card_outbox)

    async def _remember(self, request: CatalogRequest, call: ToolCall, outcome: str) -> None:
        if request.remember and request.conversation_ref:
            await self.ledger.remember(request.conversation_ref, "user", request.user_text)
            await self.ledger.remember(request.conversation_ref, "tool", result_shape(call.tool, call.arguments,
                                                                                      outcome))

    async def _audit_query(self, request: CatalogRequest, call: ToolCall) -> Answer:
        days = int(call.arguments["days"])
        tool = None if call.arguments["tool"] == "any" else str(call.arguments["tool"])
        everyone = gate.may_review_all(request.requester, self.policy.reviewers)
        records = await self.ledger.audit_records(
            since=self.clock() - timedelta(days=days), requested_by=None if everyone else request.requester.upn,
            tool=tool, limit=200,
        )
        await self._remember(request, call, f"{len(records)} records")
        return Answer("audit", call, chat_answer(records, days=days, everyone=everyone),
                      {"records": records, "everyone": everyone})

    async def _read(self, request: CatalogRequest, call: ToolCall) -> Answer:
        try:
            result = await self.tools.run(call.tool, call.arguments, str(uuid.uuid4()))
        except ApplianceError as exc:  # e.g. the Aid's sign-in needs renewing: say so, in words for a person
            ops_log.event("tool.read", tool=call.tool, outcome="error", error=type(exc).__name__)
            return Answer("read_failed", call, getattr(exc, "teams_message", UNREACHABLE))
        ops_log.event("tool.read", tool=call.tool, outcome=result.outcome, status=result.status)
        await self._remember(request, call, result.outcome)
        return Answer("read", call, result.message, {"outcome": result.outcome, **result.result})

    async def _propose_change(self, request: CatalogRequest, call: ToolCall, card_outbox: Outbox | None) -> Answer:
        refusal = gate.protected_target(call.arguments, self.policy.aid_upn)
        refusal = refusal or await self.directory.refusal(call.tool, call.arguments)  # privileged, before a card
        if refusal:
            await self._remember(request, call, "refused")
            ops_log.event("turn.refused", reason="protected_target", requester=request.requester.object_id,
                          tool=call.tool)
            await self.closing.refused_request(
                requester_id=request.requester.object_id, requester_upn=request.requester.upn,
                conversation_ref=request.conversation_ref or "", reason="protected_target", message=refusal,
                tool=call.tool, arguments=call.arguments)
            return Answer("refused", call, refusal)
        conversation_ref = request.conversation_ref or await self.ledger.conversation_of_person(
            request.requester.object_id
        )
        if card_outbox is None and conversation_ref and self._outbox_for is not None:
            card_outbox = await self._outbox_for(conversation_ref)
        if conversation_ref is None or card_outbox is None:
            ops_log.event("action.refused", reason="no_chat", tool=call.tool, requester=request.requester.object_id)
            return Answer("no_chat", call, NO_CHAT)
        spec = self.catalog[call.tool]
        summary = spec.summary({key: request.labels.get(value, value) for key, value in call.arguments.items()})
        requester_id = request.requester.object_id
        waiting = await self.ledger.open_actions(conversation_ref, requester_id)
        action = await self.ledger.propose_action(
            user_text=request.user_text, action_id=str(uuid.uuid4()), conversation_ref=conversation_ref,
            requester_id=requester_id, tool=call.tool, arguments=call.arguments, summary=summary,
            action_hash=gate.action_hash(call.tool, call.arguments, summary),
            expires_at=self.clock() + timedelta(minutes=self.policy.confirmation_minutes),
            requester_upn=request.requester.upn, orchestrator=request.orchestrator,
            confirm_code=f"{secrets.randbelow(10**gate.CODE_DIGITS):0{gate.CODE_DIGITS}d}",
        )
        ops_log.event("action.proposed", tool=call.tool, action=action.id, conversation=conversation_ref,
                      pending=len(waiting) + 1)
        card_id = await card_outbox.show_card(gate.card_for(action, spec))
        if card_id:
            await self.ledger.set_card(action.id, card_id)
        note = ""
        if waiting:
            note = (f"You also have {len(waiting)} earlier change(s) waiting; nothing was replaced. "
                    "Each has its own card: confirm or cancel each one there.")
        stored = await self.ledger.get_action(action.id) or action
        return Answer("pending", call, note, action=stored, card_shown=bool(card_id), earlier_waiting=len(waiting))

    # -- the requester's own actions (for channels without cards) ----------------------------------
    async def status(self, requester_id: str, action_id: str) -> PendingAction | None:
        """The action if it is this requester's own; None for any other (or none: the same answer, so an
        action id reveals nothing about anybody else's requests)."""
        action = await self.ledger.get_action(action_id)
        return action if action is not None and action.requester_id == requester_id else None

    async def waiting(self, requester_id: str) -> list[PendingAction]:
        """This requester's actions that still wait for a decision, in their chat with the Aid, oldest first."""
        conversation_ref = await self.ledger.conversation_of_person(requester_id)
        if conversation_ref is None:
            return []
        return await self.ledger.open_actions(conversation_ref, requester_id)

    async def record_of(self, action: PendingAction) -> dict[str, Any] | None:
        """The audit record of a finished action (with its M365 AuditEntryId once joined), or None."""
        if action.state not in ("DONE", "FAILED"):
            return None
        since = datetime.fromisoformat(action.created_at) - timedelta(minutes=1)
        records = await self.ledger.audit_records(since=since, requested_by=None, tool=action.tool, limit=500)
        return next((r for r in reversed(records) if r.get("ActionId") == action.id), None)
