"""`aid_pending_list` and `aid_pending_cancel`: the person's own waiting changes in this chat.

Only the asker's own actions in this conversation are ever listed or cancelled (the ledger selects by
conversation and requester), and cancelling goes through the gate like a Cancel button.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from appliance import gate
from appliance.orchestrator.requester_decisions import RequesterDecisions
from appliance.ports import Ledger, Outbox
from appliance.types import PendingAction, Turn

PENDING_LIST, PENDING_CANCEL = "aid_pending_list", "aid_pending_cancel"
PENDING_TOOLS = frozenset({PENDING_LIST, PENDING_CANCEL})


def listing(waiting: list[PendingAction]) -> str:
    """The answer to "what's waiting for me?"."""
    if not waiting:
        return "Nothing of yours is waiting for confirmation in this chat."
    lines = [f"{i}. {a.summary} (until {datetime.fromisoformat(a.expires_at).astimezone(UTC):%H:%M} UTC)"
             for i, a in enumerate(waiting, start=1)]
    return f"{len(waiting)} of your changes wait for your confirmation:\n" + "\n".join(lines)


async def answer_pending(
    tool: str, arguments: Mapping[str, Any], turn: Turn, ledger: Ledger, decisions: RequesterDecisions,
    clock: Callable[[], datetime], outbox: Outbox,
) -> str:
    """Run one pending-action tool for the person of `turn`; returns the outcome's shape for the context."""
    moment = clock()
    waiting = [a for a in await ledger.open_actions(turn.conversation_ref, turn.requester_id)
               if not gate.is_expired(a, moment)]
    if tool == PENDING_LIST:
        await outbox.say(listing(waiting))
        return f"{len(waiting)} waiting"
    if not waiting:
        await outbox.say("Nothing of yours is waiting, so there is nothing to cancel.")
        return "0 cancelled"
    chosen = waiting if arguments.get("which") == "all" else waiting[-1:]
    for action in chosen:
        await decisions.cancel(action, turn.requester_id, outbox, conversation_ref=turn.conversation_ref)
    return f"{len(chosen)} cancelled"
