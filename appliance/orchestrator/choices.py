"""Choice cards: "several people are called Tom; which one?" The pick continues the same request.

The request waits in the store (`PendingChoice`: tool, arguments, the name, the options offered); the
card's buttons carry only the choice id and an option number, so a pressed button can pick among the
options the directory gave, for the person who asked, before it expires, once, and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from appliance.catalog import Catalog
from appliance.gate.choices import ChoicePick
from appliance.orchestrator.naming import Resolution, choice_question, grounded_kinds, label
from appliance.ports import Ledger, Outbox
from appliance.types import ChoiceCard, PendingChoice, ToolCall, Turn


class Choices:
    """Asking and answering choice cards for one handler."""

    def __init__(self, catalog: Catalog, ledger: Ledger, clock: Callable[[], datetime], minutes: int) -> None:
        self.catalog, self.ledger, self.clock, self.minutes = catalog, ledger, clock, minutes

    async def ask(self, turn: Turn, text: str, resolution: Resolution, outbox: Outbox) -> None:
        """Keep the request and show who could be meant (at most five, with department)."""
        assert resolution.call is not None and resolution.argument is not None
        kind = grounded_kinds(self.catalog, resolution.call.tool)[resolution.argument]
        name = str(resolution.call.arguments[resolution.argument])
        choice = PendingChoice(
            id=str(uuid.uuid4()), conversation_ref=turn.conversation_ref, requester_id=turn.requester_id,
            tool=resolution.call.tool, arguments=dict(resolution.call.arguments), argument=resolution.argument,
            options=resolution.options, labels=dict(resolution.labels), user_text=text,
            expires_at=(self.clock() + timedelta(minutes=self.minutes)).isoformat(),
        )
        await self.ledger.save_choice(choice)
        await outbox.show_choices(ChoiceCard(choice.id, choice_question(name, kind, resolution.more), choice.options))

    async def pick(self, turn: Turn, pick: ChoicePick) -> tuple[PendingChoice, ToolCall, dict[str, str]] | None:
        """The request continued with the picked option, or None (not theirs, expired, used, no such option)."""
        choice = await self.ledger.take_choice(pick.choice_id, turn.requester_id, self.clock())
        if choice is None or pick.option >= len(choice.options):
            return None
        entry = choice.options[pick.option]
        arguments = {**choice.arguments, choice.argument: entry.key}
        labels = {**choice.labels, entry.key: label(entry)}
        return choice, ToolCall(tool=choice.tool, arguments=arguments), labels
