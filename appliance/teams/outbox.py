"""`ProactiveOutbox`: the orchestrator's `Outbox` for one Teams conversation.

Every message is sent as a proactive turn (`CloudAdapter.continue_conversation` with the stored
conversation reference), so the inbound POST is answered at once and the reply comes when it is ready,
also after a restart. Sends are paced per conversation and retried as Teams documents (`pacing.py`);
a message Teams will not take raises `DeliveryFailed` (the orchestrator keeps it to send again later).
The typing indicator is best effort: it is never retried and never fails a turn.
"""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from appliance import ops_log
from appliance.teams.cards import card_attachment, choice_card
from appliance.teams.pacing import SHARED_PACER, ConversationPacer, deliver
from appliance.types import ActionCard, ChoiceCard


class ProactiveOutbox:
    """Implements `ports.Outbox` over a conversation reference."""

    def __init__(self, adapter: CloudAdapter, reference: ConversationReference, app_id: str, *,
                 pacer: ConversationPacer = SHARED_PACER) -> None:
        self.adapter, self.reference, self.app_id, self.pacer = adapter, reference, app_id, pacer
        conversation = getattr(reference, "conversation", None)
        self.conversation_id = str(getattr(conversation, "id", "") or "")

    async def _once(self, activity: Activity) -> str | None:
        sent: list[str | None] = []

        async def callback(context: TurnContext) -> None:
            response = await context.send_activity(activity)
            sent.append(response.id if response else None)

        await self.adapter.continue_conversation(self.reference, callback, self.app_id)
        return sent[0] if sent else None

    async def _send(self, activity: Activity) -> str | None:
        return await deliver(self.conversation_id, lambda: self._once(activity), pacer=self.pacer)

    async def typing(self) -> None:
        """Show the typing indicator (best effort: a refused indicator is only logged)."""
        try:
            await self.pacer.turn(self.conversation_id)
            await self._once(Activity(type=ActivityTypes.typing))
        except Exception as exc:
            ops_log.event("typing.failed", error=type(exc).__name__)

    async def say(self, text: str) -> str | None:
        """Send plain text."""
        message = MessageFactory.text(text)
        message.text_format = "plain"
        return await self._send(message)

    async def show_card(self, card: ActionCard) -> str | None:
        """Send a confirmation card; returns its activity id."""
        return await self._send(MessageFactory.attachment(card_attachment(card)))

    async def show_choices(self, card: ChoiceCard) -> str | None:
        """Send a choice card (which person or group was meant)."""
        return await self._send(MessageFactory.attachment(CardFactory.adaptive_card(choice_card(card))))

    async def update_card(self, activity_id: str, card: ActionCard) -> None:
        """Replace an earlier card in place."""
        update = MessageFactory.attachment(card_attachment(card))
        update.id = activity_id

        async def callback(context: TurnContext) -> None:
            await context.update_activity(update)

        async def once() -> None:
            await self.adapter.continue_conversation(self.reference, callback, self.app_id)

        await deliver(self.conversation_id, once, pacer=self.pacer)
