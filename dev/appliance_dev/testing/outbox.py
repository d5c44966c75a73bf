"""`RecordingOutbox`: a `ports.Outbox` that keeps what the Aid said, showed and updated."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from appliance.types import ActionCard, ChoiceCard

_ids = itertools.count(1)


@dataclass
class RecordingOutbox:
    """Everything sent to one conversation, in order."""

    said: list[str] = field(default_factory=list)
    cards: dict[str, ActionCard] = field(default_factory=dict)
    updates: list[tuple[str, ActionCard]] = field(default_factory=list)
    typing_count: int = 0
    choices: list[ChoiceCard] = field(default_factory=list)

    async def typing(self) -> None:
        """Count typing indicators."""
        self.typing_count += 1

    async def say(self, text: str) -> str:
        """Keep the text; return a fresh activity id."""
        self.said.append(text)
        return f"activity-{next(_ids)}"

    async def show_card(self, card: ActionCard) -> str:
        """Keep the card by its new activity id."""
        activity_id = f"card-{next(_ids)}"
        self.cards[activity_id] = card
        return activity_id

    async def update_card(self, activity_id: str, card: ActionCard) -> None:
        """Record the update and replace the card."""
        self.updates.append((activity_id, card))
        self.cards[activity_id] = card

    async def show_choices(self, card: ChoiceCard) -> str:
        """Keep the choice card."""
        self.choices.append(card)
        return f"choices-{next(_ids)}"

    @property
    def last(self) -> str:
        """The newest text said."""
        return self.said[-1] if self.said else ""
