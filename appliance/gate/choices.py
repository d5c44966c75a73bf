"""The choice-card protocol: what a "which one did you mean?" button carries and how a press is read back.

A button carries only the choice's id and an option number; the request itself waits in the store, so a
press can pick among the options the directory gave and nothing else (`orchestrator/choices.py`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CHOICE_KIND = "aidizen.choice"
CHOICES_SHOWN = 5
"""At most this many people or groups on one choice card."""


class ChoicePick(BaseModel):
    """What a choice card's button sends back, validated strictly."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["aidizen.choice"]
    choice_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    option: int = Field(ge=0, lt=CHOICES_SHOWN)


def parse_choice_pick(value: Any) -> ChoicePick | None:
    """The pick a card submit carries, or None if it is not a choice pick or is malformed."""
    if not isinstance(value, dict) or value.get("kind") != CHOICE_KIND:
        return None
    try:
        return ChoicePick.model_validate(value)
    except ValidationError:
        return None


def choice_payload(choice_id: str, option: int) -> dict[str, Any]:
    """What one option's button carries (the Teams adapter puts it in Action.Submit data)."""
    return {"kind": CHOICE_KIND, "choice_id": choice_id, "option": option}
