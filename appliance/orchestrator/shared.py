"""The collaborators the use case's parts share: the conversations' outboxes, the card updates, and the
function that runs a confirmed action. Executor, RequesterDecisions and Approvals each get these, and
never each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from appliance import gate, ops_log
from appliance.catalog import Catalog
from appliance.ports import Outbox
from appliance.types import DecidedStatus, PendingAction

OutboxFor = Callable[[str], Awaitable[Outbox | None]]
"""The outbox of a conversation by its ref, for proactive messages (None if it cannot be reached)."""
RunConfirmed = Callable[[PendingAction, Outbox | None], Awaitable[None]]
"""Runs a CONFIRMED action once and reports the outcome to the outbox (`Executor.execute`)."""
EXPIRED_LINE = "Expired before it was confirmed; nothing ran."


class Outboxes:
    """The proactive outboxes of every conversation, once a channel is connected.

    Wiring builds the channel's outbound half first and passes its `outbox_for` at construction;
    `connect` is for tests that connect later. Until connected, and for a conversation it cannot reach,
    there is no outbox.
    """

    def __init__(self, outbox_for: OutboxFor | None = None) -> None:
        self._outbox_for = outbox_for

    def connect(self, outbox_for: OutboxFor) -> None:
        """Use `outbox_for` from now on (wiring calls this once the channel is up)."""
        self._outbox_for = outbox_for

    @property
    def connected(self) -> bool:
        """True once a channel is connected."""
        return self._outbox_for is not None

    async def of(self, conversation_ref: str) -> Outbox | None:
        """The conversation's outbox, or None (no channel yet, or the conversation cannot be reached)."""
        return await self._outbox_for(conversation_ref) if self._outbox_for else None


class CardUpdates:
    """Shows a decision on the card an action was proposed with; a card that cannot be updated is logged."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def show(self, action: PendingAction, outbox: Outbox, status: DecidedStatus, line: str) -> None:
        """Replace the action's card (if it has one) with the decided card: `status`, and who/when in `line`."""
        if not action.card_activity_id:
            return
        card = gate.decided(gate.card_for(action, self.catalog[action.tool]), status, line)
        try:
            await outbox.update_card(action.card_activity_id, card)
        except Exception as exc:  # an old card that can't be updated must not stop the action's own path
            ops_log.event("card.update_failed", error=type(exc).__name__, action=action.id)
