"""`AidBot`: the botbuilder `ActivityHandler` that turns a Teams message into a background turn.

The inbound POST must be answered within 15 s, and a model turn can take longer, so the bot stores the
conversation reference, starts the turn as a task and returns at once; the orchestrator's answers go
out proactively through `ProactiveOutbox`. At most `max_turns` turns are started and not yet finished
(running or waiting for their conversation or the model), and at most `waiting_per_sender` of them are
one person's; beyond that the person is told to try again (nothing is queued without bound). A reply
sent inside the request (a refusal, "busy") that cannot be delivered is logged, never raised: the
inbound POST is still answered 200.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from appliance import ops_log
from appliance.ports import Outbox
from appliance.teams.activities import GROUP_REFUSAL, Inspection
from appliance.teams.outbox import ProactiveOutbox
from appliance.types import Turn

RunTurn = Callable[[Turn, Outbox], Awaitable[None]]
SaveReference = Callable[[str, str, str], Awaitable[None]]
"""(conversation ref, reference JSON, the person's Entra object id)"""
BUSY = "I'm handling many requests right now. Please send your message again in a minute."
BUSY_SENDER = ("I'm still working on your earlier messages. Please wait for my answers, then send this one "
               "again.")
INSPECTION_KEY = "aidizen.inspection"


def reference_json(reference: ConversationReference) -> str:
    """A conversation reference as stored JSON."""
    return json.dumps(reference.serialize(), sort_keys=True)


def reference_from_json(text: str) -> ConversationReference:
    """A stored conversation reference."""
    return ConversationReference().deserialize(json.loads(text))


CRASHED = ("Something went wrong on my side while answering that. A change you already confirmed is not run again: "
           "its card and `m365_audit_query` show whether it happened. Please try again.")
"""Never "nothing was changed": the turn may have crashed after a confirmed change was done."""


class AidBot(ActivityHandler):
    """Schedules each checked message as a background turn; refuses group chats politely."""

    def __init__(self, adapter: CloudAdapter, app_id: str, run_turn: RunTurn, save_reference: SaveReference,
                 max_turns: int, waiting_per_sender: int = 3) -> None:
        self.adapter, self.app_id = adapter, app_id
        self._run_turn, self._save_reference = run_turn, save_reference
        self.max_turns, self.waiting_per_sender = max_turns, waiting_per_sender
        self._per_sender: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Answer a refusal in the request; otherwise start the turn (if there is room) and return."""
        inspection: Inspection = turn_context.turn_state[INSPECTION_KEY]
        if inspection.turn is None:  # the web layer hands on only turns and polite refusals
            await self._reply(turn_context, inspection.reply or GROUP_REFUSAL)
            return
        turn = inspection.turn
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        await self._save_reference(turn.conversation_ref, reference_json(reference), turn.requester_id)
        busy = self._busy(turn.requester_id)
        if busy:
            ops_log.event("turn.busy", conversation=turn.conversation_ref)
            await self._reply(turn_context, busy)
            return
        self._per_sender[turn.requester_id] = self._per_sender.get(turn.requester_id, 0) + 1
        outbox = ProactiveOutbox(self.adapter, reference, self.app_id)
        task = asyncio.create_task(self._guarded(turn, outbox))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _busy(self, sender: str) -> str | None:
        """Why a new turn cannot start now (the polite sentence), or None if it can."""
        if len(self.tasks) >= self.max_turns:
            return BUSY
        if self._per_sender.get(sender, 0) >= self.waiting_per_sender:
            return BUSY_SENDER
        return None

    @staticmethod
    async def _reply(turn_context: TurnContext, text: str) -> None:
        try:
            await turn_context.send_activity(text)
        except Exception as exc:  # e.g. a conversation Teams does not know: the POST is still answered
            ops_log.event("turn.unreachable", error=type(exc).__name__)

    async def _guarded(self, turn: Turn, outbox: Outbox) -> None:
        try:
            await self._run_turn(turn, outbox)
        except Exception as exc:  # one broken turn must never take the bot down; the person is told
            ops_log.event("turn.crashed", error=type(exc).__name__, conversation=turn.conversation_ref)
            try:
                await outbox.say(CRASHED)
            except Exception as send_error:
                ops_log.event("turn.unreachable", error=type(send_error).__name__)
        finally:
            left = self._per_sender.pop(turn.requester_id, 1) - 1
            if left > 0:
                self._per_sender[turn.requester_id] = left

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s) for running turns, e.g. at shutdown."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)
