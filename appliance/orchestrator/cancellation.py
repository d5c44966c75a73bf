"""The one cancel path: the requester's Cancel (or typed "no") and an approver's Decline both end here."""

from __future__ import annotations

from appliance import ops_log
from appliance.orchestrator.closing_records import RecordOf
from appliance.orchestrator.shared import CardUpdates
from appliance.ports import Ledger, Outbox
from appliance.types import ActionState, PendingAction


async def cancel_waiting(
    ledger: Ledger, cards: CardUpdates, action: PendingAction, requester: Outbox | None, line: str,
    record_of: RecordOf,
) -> bool:
    """Move a waiting action to CANCELLED (compare-and-set: once) together with its audit record
    (`record_of`), and show `line` on the requester's card.

    The gate has already allowed it. False when the action changed meanwhile: nothing was cancelled.
    """
    if await ledger.close_action(action.id, action.state, ActionState.CANCELLED, record_of) is None:
        return False
    ops_log.event("action.cancelled", tool=action.tool, action=action.id)
    if requester is not None:
        await cards.show(action, requester, "cancelled", line)
    return True
