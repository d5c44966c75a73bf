"""The data an Adaptive Card button sends back, validated strictly (anything else is refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CARD_KIND = "aidizen.decision"


class CardDecision(BaseModel):
    """A button pressed on a card: Confirm / Cancel (the requester) or Approve / Decline (an approver,
    two-person rule); which action, and the hash the card showed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["aidizen.decision"]
    decision: Literal["confirm", "cancel", "approve", "decline"]
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


def card_payload(decision: str, action_id: str, action_hash: str) -> dict[str, str]:
    """What a Confirm / Cancel button carries (the Teams adapter puts it in Action.Submit data)."""
    return {"kind": CARD_KIND, "decision": decision, "action_id": action_id, "action_hash": action_hash}
