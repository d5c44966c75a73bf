"""`TurnHandler`: one Teams message in, the Aid's answer out.

The path (docs/ARCHITECTURE.md): context from the ledger -> the model proposes one catalog call ->
validated again -> read-only tools run at once; state changes become a pending action with a
confirmation card -> the same person confirms (card or a typed "yes"; `RequesterDecisions`), a second
approver too under the two-person rule (`Approvals`) -> `Executor` runs it as the Aid and writes the
audit record. From a validated call on, the path is the channel-free `CatalogRequests` use case (MCP uses it
too). Only ports are used; nothing here knows Teams, Graph, SQLCipher or llama.cpp.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from appliance import gate, ops_log
from appliance.catalog import AUDIT_QUERY_TOOL, REPLY_TOOL, Catalog
from appliance.catalog.replies import render_reply, reply_shape
from appliance.errors import ApplianceError, EngineBusy
from appliance.gate.choices import ChoicePick, parse_choice_pick
from appliance.orchestrator.approvals import Approvals
from appliance.orchestrator.catalog_requests import CatalogRequest, CatalogRequests
from appliance.orchestrator.choices import Choices
from appliance.orchestrator.execution import Executor, result_shape
from appliance.orchestrator.naming import NameResolver, unknown_sentence
from appliance.orchestrator.pending_tools import PENDING_TOOLS, answer_pending
from appliance.orchestrator.policy import AidPolicy
from appliance.orchestrator.requester_decisions import RequesterDecisions
from appliance.orchestrator.shared import CardUpdates, Outboxes, OutboxFor
from appliance.ports import Directory, Ledger, Outbox, Proposer, ToolRunner
from appliance.types import ContextMessage, PendingAction, Person, ToolCall, Turn

ANSWERED_IN_THE_APPLIANCE = frozenset({REPLY_TOOL, AUDIT_QUERY_TOOL, *PENDING_TOOLS})
"""The catalog tools this use case answers itself (no Graph call): a reply, the appliance's audit records, and
the person's own waiting changes."""
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
        outbox_for: OutboxFor | None = None,
        requests: CatalogRequests | None = None,
    ) -> None:
        self.catalog, self.proposer, self.ledger = catalog, proposer, ledger
        self.tools, self.directory, self.policy, self.clock = tools, directory, policy, clock
        self.cards, self.outboxes = CardUpdates(catalog), Outboxes(outbox_for)
        self.requests = requests or CatalogRequests(catalog=catalog, ledger=ledger, tools=tools, directory=directory,
                                                    policy=policy, clock=clock, outbox_for=self.outboxes.of)
        self.executor = Executor(ledger=ledger, tools=tools, directory=directory, policy=policy, clock=clock,
                                 cards=self.cards)
        self.approvals = Approvals(catalog=catalog, ledger=ledger, directory=directory, policy=policy, clock=clock,
                                   cards=self.cards, outboxes=self.outboxes, run=self.executor.execute)
        self.decisions = RequesterDecisions(ledger=ledger, policy=policy, clock=clock, cards=self.cards,
                                            run=self.executor.execute,
                                            second_approval=self.approvals.requester_confirmed)
        self.choices = Choices(catalog, ledger, clock, policy.confirmation_minutes)
        self._locks: dict[str, asyncio.Lock] = {}

    def connect(self, outbox_for: OutboxFor) -> None:
        """Reach conversations proactively from now on: outcomes confirmed elsewhere, approval cards for the
        two-person rule. Wiring passes `outbox_for` at construction instead; tests connect later."""
        self.outboxes.connect(outbox_for)

    async def handle_turn(self, turn: Turn, outbox: Outbox) -> None:
        """Answer one message (typed text or a card button) in its conversation."""
        lock = self._locks.setdefault(turn.conversation_ref, asyncio.Lock())
        async with lock:
            started = time.perf_counter()
            kind = await self._dispatch(turn, outbox)
            ops_log.event("turn.handled", kind=kind, conversation=turn.conversation_ref,
                          ms=round((time.perf_counter() - started) * 1000))
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
                             f"{self.policy.max_message_chars}. Please send a shorter request.")
            return "too_long"
        reply = gate.typed_reply(text)
        if reply is not None:
            await self._typed_answer(turn, reply, outbox)
            return f"typed_{reply.answer}"
        person = await self._allowed_person(turn, outbox)
        if person is None:
            return "refused_person"
        await self._request(turn, text, person, outbox)
        return "request"

    # -- a request -------------------------------------------------------------------------------
    async def _allowed_person(self, turn: Turn, outbox: Outbox) -> Person | None:
        admission = await self.requests.admit(turn.requester_id, turn.conversation_ref)
        if admission.person is None:
            await outbox.say(admission.refusal)
        return admission.person

    async def _request(self, turn: Turn, text: str, person: Person, outbox: Outbox) -> None:
        await outbox.typing()
        history = await self.ledger.context(turn.conversation_ref, self.policy.context_turns)
        messages = [*history, ContextMessage(role="user", text=text)]
        names = NameResolver(self.directory)
        try:
            mentions = await names.mentions(messages)
            proposal = await self.proposer.propose(messages, mentions)
            call = self.catalog.validate_call(proposal.call.tool, proposal.call.arguments)
        except EngineBusy:
            ops_log.event("turn.refused", reason="model_busy", conversation=turn.conversation_ref)
            await outbox.say("I'm answering a lot of people right now and couldn't take this one; nothing was "
                             "changed. Please send it again in a minute.")
            return
        except ApplianceError as exc:
            ops_log.event("turn.model_failed", error=type(exc).__name__, conversation=turn.conversation_ref)
            await outbox.say("I couldn't turn that into one of the things I can do; nothing was changed. "
                             "Try rephrasing it, with the person's full address.")
            return
        ops_log.event("turn.proposed", tool=call.tool, tokens=proposal.generated_tokens,
                      ms=round(proposal.seconds * 1000), conversation=turn.conversation_ref)
        resolution = await names.resolve(self.catalog, call)
        if resolution.unknown is not None:
            await self._remember(turn, text, result_shape(call.tool, call.arguments, "nobody by that name"))
            await outbox.say(unknown_sentence(resolution.unknown, resolution.unknown_kind))
        elif resolution.argument is not None:
            await self.choices.ask(turn, text, resolution, outbox)
        else:
            assert resolution.call is not None
            await self._act(turn, text, resolution.call, person, outbox, resolution.labels)

    async def _act(self, turn: Turn, text: str, call: ToolCall, person: Person, outbox: Outbox,
                   labels: dict[str, str]) -> None:
        """Carry out a proposed call whose names are all resolved to addresses."""
        if call.tool == REPLY_TOOL:
            await self._remember(turn, text, reply_shape(call.arguments))
            await outbox.say(render_reply(call.arguments))
            return
        if call.tool in PENDING_TOOLS:
            outcome = await answer_pending(call.tool, call.arguments, turn, self.ledger, self.decisions, self.clock,
                                           outbox)
            await self._remember(turn, text, result_shape(call.tool, call.arguments, outcome))
            return
        request = CatalogRequest(requester=person, tool=call.tool, arguments=call.arguments,
                                 orchestrator=self.proposer.name, user_text=text,
                                 conversation_ref=turn.conversation_ref, labels=labels)
        answer = await self.requests.ask(request, outbox)
        if answer.message or answer.kind != "pending":  # a pending change speaks through its card
            await outbox.say(answer.message)

    async def _remember(self, turn: Turn, user_text: str, tool_turn: str) -> None:
        await self.ledger.remember(turn.conversation_ref, "user", user_text)
        await self.ledger.remember(turn.conversation_ref, "tool", tool_turn)

    # -- decisions ---------------------------------------------------------------------------------
    async def _card(self, turn: Turn, outbox: Outbox) -> None:
        pick = parse_choice_pick(turn.card)
        if pick is not None:
            await self._picked(turn, pick, outbox)
            return
        decision = gate.parse_card_decision(turn.card)
        if decision is None:
            ops_log.event("card.refused", reason="malformed", conversation=turn.conversation_ref)
            await outbox.say(UNREADABLE)
            return
        action = await self.ledger.get_action(decision.action_id)
        if decision.decision in ("approve", "decline"):
            approver = await self.directory.person(turn.requester_id)
            if approver is None or not gate.judge_sender(turn.requester_id, approver).allowed:
                await outbox.say("I can't find your account in this tenant, so I can't take your approval.")
            elif decision.decision == "approve":
                await self.approvals.approve(action, approver, decision.action_hash, outbox, turn.conversation_ref)
            else:
                await self.approvals.decline(action, approver, outbox, turn.conversation_ref)
        elif decision.decision == "confirm":
            if await self._still_a_requester(turn, action, outbox):
                await self.decisions.confirm(action, turn.requester_id, decision.action_hash, outbox,
                                             conversation_ref=turn.conversation_ref)
        else:
            await self.decisions.cancel(action, turn.requester_id, outbox, conversation_ref=turn.conversation_ref)

    async def _picked(self, turn: Turn, pick: ChoicePick, outbox: Outbox) -> None:
        """A choice card's button: the request continues with the person picked (and any name left)."""
        person = await self._allowed_person(turn, outbox)
        if person is None:
            return
        picked = await self.choices.pick(turn, pick)
        if picked is None:
            await outbox.say("That choice is no longer open (it was used, has expired, or is someone else's); "
                             "nothing was changed. Ask again if you still need it.")
            return
        choice, call, labels = picked
        resolution = await NameResolver(self.directory).resolve(self.catalog, call, labels)
        if resolution.unknown is not None:
            await outbox.say(unknown_sentence(resolution.unknown, resolution.unknown_kind))
        elif resolution.argument is not None:
            await self.choices.ask(turn, choice.user_text, resolution, outbox)
        else:
            assert resolution.call is not None
            await self._act(turn, choice.user_text, resolution.call, person, outbox, resolution.labels)

    async def _still_a_requester(self, turn: Turn, action: PendingAction | None, outbox: Outbox) -> bool:
        """The requester must still be allowed when confirming, not only when asking (the gate's own
        rules answer everyone else, e.g. someone pressing another person's button)."""
        if action is None or action.requester_id != turn.requester_id:
            return True
        return await self._allowed_person(turn, outbox) is not None

    async def _typed_answer(self, turn: Turn, reply: gate.TypedReply, outbox: Outbox) -> None:
        """A typed yes/no applies to this person's waiting actions in this chat only; a "yes" confirms only
        with the code its card shows (the gate's `with_the_cards_code`), never blindly."""
        waiting = await self.ledger.open_actions(turn.conversation_ref, turn.requester_id)
        target = gate.pick_target(waiting, reply.code)
        if target.ambiguous:
            await outbox.say(gate.which_one(target.waiting))
        elif target.action is None:
            await outbox.say("Nothing is waiting for your confirmation in this chat.")
        elif reply.answer == "yes":
            if await self._still_a_requester(turn, target.action, outbox):
                await self.decisions.confirm(target.action, turn.requester_id, target.action.action_hash, outbox,
                                             conversation_ref=turn.conversation_ref, typed=True, code=reply.code)
        else:
            await self.decisions.cancel(target.action, turn.requester_id, outbox,
                                        conversation_ref=turn.conversation_ref)

