"""What an Adaptive Card button carries, and the strict reading of what comes back (anything else is refused).

The card protocol's wire half: `card_payload` is the data of a button (Action.Submit), `parse_card_decision`
reads a pressed button back. Which buttons a card has in each status is `cards.BUTTONS`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance.types import Decision

CARD_KIND = "aidizen.decision"


class CardDecision(BaseModel):
    """A button pressed on a card: Confirm / Cancel (the requester) or Approve / Decline (an approver,
    two-person rule); which action, and the hash the card showed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["aidizen.decision"]
    decision: Decision
    action_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    action_hash: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")


def parse_card_decision(value: Any) -> CardDecision | None:
    """The decision a card submit carries, or None if it is not one of ours or is malformed."""
    if not isinstance(value, dict):
        return None
    try:
        return CardDecision.model_validate(value)
    except ValidationError:
        return None


def card_payload(decision: Decision, action_id: str, action_hash: str) -> dict[str, str]:
    """What a button carries (the channel puts it in the button's submit data)."""
    return {"kind": CARD_KIND, "decision": decision, "action_id": action_id, "action_hash": action_hash}
