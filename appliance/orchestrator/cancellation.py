"""The one cancel path: the requester's Cancel (or typed "no") and an approver's Decline both end here."""

from __future__ import annotations

from appliance import ops_log
from appliance.orchestrator.shared import CardUpdates
from appliance.ports import Ledger, Outbox
from appliance.types import ActionState, PendingAction


async def cancel_waiting(
    ledger: Ledger, cards: CardUpdates, action: PendingAction, requester: Outbox | None, line: str
) -> bool:
    """Move a waiting action to CANCELLED (compare-and-set: once) and show `line` on the requester's card.

    The gate has already allowed it. False when the action changed meanwhile: nothing was cancelled.
    """
    if not await ledger.transition(action.id, action.state, ActionState.CANCELLED):
        return False
    ops_log.event("action.cancelled", tool=action.tool, action=action.id)
    if requester is not None:
        await cards.show(action, requester, "cancelled", line)
    return True
