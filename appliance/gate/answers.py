"""Typed answers: does a message mean "yes" or "no" to a pending action, and to which one?

Only plain words count (after Unicode NFKC normalisation and case folding). A message with any
non-ASCII letter is never an answer, so look-alikes such as "yes" spelled with a Cyrillic "у" confirm nothing.
An answer may end with the six-digit code its card shows ("yes 482913"): a typed "yes" confirms only
with it (`rules.with_the_cards_code`), and it also says which card is meant when several wait.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from appliance.types import PendingAction

Answer = Literal["yes", "no"]
YES_WORDS = frozenset({"yes", "y", "confirm", "confirmed", "approve", "approved", "yes please", "yes, do it",
                       "go ahead", "do it"})
NO_WORDS = frozenset({"no", "n", "cancel", "stop", "abort", "no thanks", "no, cancel", "don't", "dont"})
TRAILING = " .!\t\r\n"
WITH_CODE = re.compile(r"^(?P<words>[a-z' ,.!]+?)[ ,:#-]+(?P<code>[0-9]{6})$")


@dataclass(frozen=True)
class TypedReply:
    """A typed yes/no, and the card code it carried (None without one)."""

    answer: Answer
    code: str | None = None


def typed_reply(text: str) -> TypedReply | None:
    """The answer and code of `text`, or None if it is anything other than a plain yes/no word,
    optionally followed by a six-digit code."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip(TRAILING)
    if not folded.isascii() or len(folded) > 32:
        return None
    code = None
    with_code = WITH_CODE.fullmatch(folded)
    if with_code:
        folded, code = with_code["words"].strip(TRAILING + ",:"), with_code["code"]
    if len(folded) > 20:
        return None
    if folded in YES_WORDS:
        return TypedReply("yes", code)
    if folded in NO_WORDS:
        return TypedReply("no", code)
    return None


def typed_answer(text: str) -> Answer | None:
    """`"yes"`, `"no"`, or None if `text` is anything other than a plain yes/no word (and its code)."""
    reply = typed_reply(text)
    return reply.answer if reply else None


@dataclass(frozen=True)
class Target:
    """Which pending action a typed answer is about: exactly one, none, or several (ask which)."""

    action: PendingAction | None
    waiting: tuple[PendingAction, ...]

    @property
    def ambiguous(self) -> bool:
        """True when several actions wait, so the Aid must ask which one."""
        return self.action is None and len(self.waiting) > 1


def pick_target(waiting: list[PendingAction], code: str | None = None) -> Target:
    """A typed yes/no applies to the waiting action whose card shows `code`, else only when exactly one
    action of this person waits in this conversation."""
    named = [action for action in waiting if code is not None and action.confirm_code == code]
    if len(named) == 1:
        return Target(named[0], tuple(waiting))
    return Target(waiting[0] if len(waiting) == 1 else None, tuple(waiting))


def which_one(waiting: tuple[PendingAction, ...]) -> str:
    """The question the Aid asks when several actions wait."""
    lines = [f"{index}. {action.summary}" for index, action in enumerate(waiting, start=1)]
    return (
        f"{len(waiting)} changes are waiting for your decision, so a typed answer is ambiguous. "
        "Use the Confirm or Cancel button on the card you mean, or type the code it shows "
        "(“yes 123456”):\n" + "\n".join(lines)
    )
