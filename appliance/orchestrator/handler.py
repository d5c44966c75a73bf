"""`TurnHandler`: one Teams message in, the Aid's answer out.

The path (DESIGN.md): context from the ledger -> the model proposes one catalog call -> validated again
-> read-only tools run at once; state changes become a pending action with a confirmation card ->
the same person confirms (card or a typed "yes") -> `Executor` runs it as the Aid and writes the audit
record. Only ports are used; nothing here knows Teams, Graph, SQLCipher or llama.cpp.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from appliance import gate, ops_log
from appliance.audit import chat_answer
from appliance.audit.closures import refused_request_record
from appliance.catalog import REPLY_TOOL, Catalog
from appliance.errors import ApplianceError
from appliance.orchestrator.cards import parse_card_decision
from appliance.orchestrator.execution import Executor, result_shape
from appliance.orchestrator.policy import AidPolicy
from appliance.ports import Directory, Ledger, Outbox, Proposer, ToolRunner
from appliance.types import ContextMessage, PendingAction, Person, ToolCall, Turn

AUDIT_QUERY_TOOL = "m365_audit_query"
UNREADABLE = "That button press was not understood; nothing was changed."


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


class TurnHandler:
    """Handles the turns of every conversation; one turn at a time per conversation."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        proposer: Proposer,
        ledger: Ledger,
        tools: ToolRunner,
        directory: Directory,
        policy: AidPolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.catalog, self.proposer, self.ledger = catalog, proposer, ledger
        self.tools, self.directory, self.policy, self.clock = tools, directory, policy, clock
        self.executor = Executor(catalog=catalog, ledger=ledger, tools=tools, directory=directory,
                                 policy=policy, clock=clock)  # fmt: skip
        self._locks: dict[str, asyncio.Lock] = {}

    async def handle_turn(self, turn: Turn, outbox: Outbox) -> None:
        """Answer one message (typed text or a card button) in its conversation."""
        lock = self._locks.setdefault(turn.conversation_ref, asyncio.Lock())
        async with lock:
            started = time.perf_counter()
            kind = await self._dispatch(turn, outbox)
            ops_log.event("turn.handled", kind=kind, conversation=turn.conversation_ref,
                          ms=round((time.perf_counter() - started) * 1000))  # fmt: skip
        if not lock.locked() and len(self._locks) > 10_000:
            self._locks.pop(turn.conversation_ref, None)

    async def _dispatch(self, turn: Turn, outbox: Outbox) -> str:
        if turn.card is not None:
            await self._card(turn, outbox)
            return "card"
        text = turn.text.strip()
        if not text:
            await outbox.say("I only read text messages. Tell me what you need, e.g. “Who is anna@yourco.com?”.")
            return "empty"
        if len(text) > self.policy.max_message_chars:
            await outbox.say(f"That message is {len(text)} characters long; I read at most "
                             f"{self.policy.max_message_chars}. Please send a shorter request.")  # fmt: skip
            return "too_long"
        answer = gate.typed_answer(text)
        if answer is not None:
            await self._typed_answer(turn, answer, outbox)
            return f"typed_{answer}"
        person = await self._allowed_person(turn, outbox)
        if person is None:
            return "refused_person"
        await self._request(turn, text, person, outbox)
        return "request"

    # -- a request -------------------------------------------------------------------------------
    async def _allowed_person(self, turn: Turn, outbox: Outbox) -> Person | None:
        person = await self.directory.person(turn.requester_id)
        if person is None or not person.enabled:
            message = "I can't find an enabled account for you in this tenant, so I can't help here."
            await self._refuse(turn, person, "unknown_person", message, outbox)
            return None
        if not gate.may_use_tools(person, self.policy.requesters, self.policy.requester_groups):
            message = "You're not on the list of people the Aid works for. Your IT team can add you."
            await self._refuse(turn, person, "not_a_requester", message, outbox)
            return None
        return person

    async def _refuse(self, turn: Turn, person: Person | None, reason: str, message: str, outbox: Outbox,
                      call: ToolCall | None = None) -> None:  # fmt: skip
        """Refuse a request: the ops log, a hash-chained audit record (nothing reached Graph), the answer."""
        ops_log.event("turn.refused", reason=reason, requester=turn.requester_id, tool=call.tool if call else None)
        await self.ledger.append_record(refused_request_record(
            requester_id=turn.requester_id, requester_upn=person.upn if person else None,
            conversation_ref=turn.conversation_ref, reason=reason, moment=self.clock(),
            implementer=self.policy.implementer, implementer_name=self.policy.implementer_name,
            tool=call.tool if call else None, arguments=call.arguments if call else None, detail=message,
        ))  # fmt: skip
        await outbox.say(message)

    async def _request(self, turn: Turn, text: str, person: Person, outbox: Outbox) -> None:
        await outbox.typing()
        history = await self.ledger.context(turn.conversation_ref, self.policy.context_turns)
        try:
            proposal = await self.proposer.propose([*history, ContextMessage(role="user", text=text)])
            call = self.catalog.validate_call(proposal.call.tool, proposal.call.arguments)
        except ApplianceError as exc:
            ops_log.event("turn.model_failed", error=type(exc).__name__, conversation=turn.conversation_ref)
            await outbox.say("I couldn't turn that into one of the things I can do; nothing was changed. "
                             "Try rephrasing it, with the person's full address.")  # fmt: skip
            return
        ops_log.event("turn.proposed", tool=call.tool, tokens=proposal.generated_tokens,
                      ms=round(proposal.seconds * 1000), conversation=turn.conversation_ref)  # fmt: skip
        spec = self.catalog[call.tool]
        if call.tool == REPLY_TOOL:
            await self._remember(turn, text, f"reply: {call.arguments['text']}")
            await outbox.say(str(call.arguments["text"]))
        elif call.tool == AUDIT_QUERY_TOOL:
            await self._audit_query(turn, text, call, person, outbox)
        elif not spec.changes_state:
            try:
                result = await self.tools.run(call.tool, call.arguments, str(uuid.uuid4()))
            except ApplianceError as exc:  # e.g. the Aid's sign-in needs renewing: say so, in words for a person
                ops_log.event("tool.read", tool=call.tool, outcome="error", error=type(exc).__name__)
                await outbox.say(getattr(exc, "teams_message", "I can't reach Microsoft 365 right now; try later."))
                return
            ops_log.event("tool.read", tool=call.tool, outcome=result.outcome, status=result.status)
            await self._remember(turn, text, result_shape(call.tool, call.arguments, result.outcome))
            await outbox.say(result.message)
        else:
            await self._propose_change(turn, text, call, person, outbox)

    async def _remember(self, turn: Turn, user_text: str, tool_turn: str) -> None:
        await self.ledger.remember(turn.conversation_ref, "user", user_text)
        await self.ledger.remember(turn.conversation_ref, "tool", tool_turn)

    async def _audit_query(self, turn: Turn, text: str, call: ToolCall, person: Person, outbox: Outbox) -> None:
        days = int(call.arguments["days"])
        tool = None if call.arguments["tool"] == "any" else str(call.arguments["tool"])
        everyone = gate.may_review_all(person, self.policy.reviewers)
        records = await self.ledger.audit_records(
            since=self.clock() - timedelta(days=days), requested_by=None if everyone else person.upn,
            tool=tool, limit=200,
        )  # fmt: skip
        await self._remember(turn, text, result_shape(call.tool, call.arguments, f"{len(records)} records"))
        await outbox.say(chat_answer(records, days=days, everyone=everyone))

    async def _propose_change(self, turn: Turn, text: str, call: ToolCall, person: Person, outbox: Outbox) -> None:
        refusal = gate.protected_target(call.arguments, self.policy.aid_upn)
        if refusal:
            await self._remember(turn, text, result_shape(call.tool, call.arguments, "refused"))
            await self._refuse(turn, person, "protected_target", refusal, outbox, call)
            return
        spec = self.catalog[call.tool]
        summary = spec.summary(call.arguments)
        waiting = await self.ledger.open_actions(turn.conversation_ref, turn.requester_id)
        action = await self.ledger.propose_action(
            user_text=text, action_id=str(uuid.uuid4()), conversation_ref=turn.conversation_ref,
            requester_id=turn.requester_id, tool=call.tool, arguments=call.arguments, summary=summary,
            action_hash=gate.action_hash(call.tool, call.arguments, summary),
            expires_at=self.clock() + timedelta(minutes=self.policy.confirmation_minutes),
            requester_upn=person.upn, orchestrator=self.proposer.name,
        )  # fmt: skip
        ops_log.event("action.proposed", tool=call.tool, action=action.id, conversation=turn.conversation_ref,
                      pending=len(waiting) + 1)  # fmt: skip
        card_id = await outbox.show_card(gate.card_for(action, spec))
        if card_id:
            await self.ledger.set_card(action.id, card_id)
        if waiting:
            await outbox.say(f"You also have {len(waiting)} earlier change(s) waiting; nothing was replaced. "
                             "Each has its own card: confirm or cancel each one there.")  # fmt: skip

    # -- decisions ---------------------------------------------------------------------------------
    async def _card(self, turn: Turn, outbox: Outbox) -> None:
        decision = parse_card_decision(turn.card)
        if decision is None:
            ops_log.event("card.refused", reason="malformed", conversation=turn.conversation_ref)
            await outbox.say(UNREADABLE)
            return
        action = await self.ledger.get_action(decision.action_id)
        if decision.decision in ("approve", "decline"):
            approver = await self.directory.person(turn.requester_id)
            if approver is None:
                await outbox.say("I can't find your account in this tenant, so I can't take your approval.")
            elif decision.decision == "approve":
                await self.executor.approvals.approve(action, approver, decision.action_hash, outbox)
            else:
                await self.executor.approvals.decline(action, approver, outbox)
        elif decision.decision == "confirm":
            if await self._still_a_requester(turn, action, outbox):
                await self.executor.confirm(action, turn.requester_id, decision.action_hash, outbox)
        else:
            await self.executor.cancel(action, turn.requester_id, outbox)

    async def _still_a_requester(self, turn: Turn, action: PendingAction | None, outbox: Outbox) -> bool:
        """The requester must still be allowed when confirming, not only when asking (the gate's own
        rules answer everyone else, e.g. someone pressing another person's button)."""
        if action is None or action.requester_id != turn.requester_id:
            return True
        return await self._allowed_person(turn, outbox) is not None

    async def _typed_answer(self, turn: Turn, answer: str, outbox: Outbox) -> None:
        waiting = await self.ledger.open_actions(turn.conversation_ref, turn.requester_id)
        target = gate.pick_target(waiting)
        if target.ambiguous:
            await outbox.say(gate.which_one(target.waiting))
        elif target.action is None:
            await outbox.say("Nothing is waiting for your confirmation in this chat.")
        elif answer == "yes":
            if await self._still_a_requester(turn, target.action, outbox):
                await self.executor.confirm(target.action, turn.requester_id, target.action.action_hash, outbox)
        else:
            await self.executor.cancel(target.action, turn.requester_id, outbox)

