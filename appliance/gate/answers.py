"""Typed answers: does a message mean "yes" or "no" to a pending action, and to which one?

Only plain words count (after Unicode NFKC normalisation and case folding). A message with any
non-ASCII letter is never an answer, so look-alikes such as "yes" spelled with a Cyrillic "у" confirm nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from appliance.types import PendingAction

Answer = Literal["yes", "no"]
YES_WORDS = frozenset({"yes", "y", "confirm", "confirmed", "approve", "approved", "yes please", "yes, do it",
                       "go ahead", "do it"})
NO_WORDS = frozenset({"no", "n", "cancel", "stop", "abort", "no thanks", "no, cancel", "don't", "dont"})
TRAILING = " .!\t\r\n"


def typed_answer(text: str) -> Answer | None:
    """`"yes"`, `"no"`, or None if `text` is anything other than a plain yes/no word."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip(TRAILING)
    if not folded.isascii() or len(folded) > 20:
        return None
    if folded in YES_WORDS:
        return "yes"
    if folded in NO_WORDS:
        return "no"
    return None


@dataclass(frozen=True)
class Target:
    """Which pending action a typed answer is about: exactly one, none, or several (ask which)."""

    action: PendingAction | None
    waiting: tuple[PendingAction, ...]

    @property
    def ambiguous(self) -> bool:
        """True when several actions wait, so the Aid must ask which one."""
        return self.action is None and len(self.waiting) > 1


def pick_target(waiting: list[PendingAction]) -> Target:
    """A typed yes/no applies only when exactly one action of this person waits in this conversation."""
    return Target(waiting[0] if len(waiting) == 1 else None, tuple(waiting))


def which_one(waiting: tuple[PendingAction, ...]) -> str:
    """The question the Aid asks when several actions wait."""
    lines = [f"{index}. {action.summary}" for index, action in enumerate(waiting, start=1)]
    return (
        f"{len(waiting)} changes are waiting for your decision, so a typed answer is ambiguous. "
        "Use the Confirm or Cancel button on the card you mean:\n" + "\n".join(lines)
    )
