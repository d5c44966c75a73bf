"""Where a decision may come from (sans-I/O): a real person of this tenant, in the chat that holds the
card, and, for a typed "yes", with the code that only the card shows.

A captured channel token lets its holder post any activity for about an hour, as anyone, in any
conversation, but it never shows them what the Aid sends back. So a confirmation must prove it saw
the card: a button press carries the action's random id (only on the card), a typed "yes" carries the
card's six-digit code (hipaa/threat-model.md, "Blind confirmations"). Each rule is one small function
that fails closed and returns a `Verdict`, like `rules.py`.
"""

from __future__ import annotations

import hmac
import re

from appliance.gate.rules import ALLOWED, Verdict
from appliance.types import PendingAction, Person

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
CODE_DIGITS = 6
NO_ACCOUNT = "I can't find an enabled account for you in this tenant, so I can't help here."


def is_object_id(value: str) -> bool:
    """True for an Entra object id: a GUID in its 8-4-4-4-12 hex form (never a UPN, never free text)."""
    return bool(OBJECT_ID.fullmatch(value))


def judge_object_id(sender_id: str) -> Verdict:
    """The sender's `aadObjectId` must be a GUID (a UPN or any other text is refused before anything else)."""
    if not is_object_id(sender_id):
        return Verdict(False, "not_an_object_id", NO_ACCOUNT)
    return ALLOWED


def judge_sender(sender_id: str, person: Person | None) -> Verdict:
    """The directory's answer for the sender must be an enabled user whose object id is exactly the one
    the activity carried (the directory also resolves UPNs: that must never stand in for an id)."""
    if person is None or person.object_id.casefold() != sender_id.casefold():
        return Verdict(False, "not_a_tenant_user", NO_ACCOUNT)
    if not person.enabled:
        return Verdict(False, "disabled", NO_ACCOUNT)
    return ALLOWED


def judge_conversation(action: PendingAction | None, conversation_ref: str) -> Verdict:
    """A decision on an action counts only in the conversation that holds its card."""
    if action is not None and action.conversation_ref != conversation_ref:
        return Verdict(False, "other_conversation", "That change was asked for in another chat; decide it on its "
                                                    "card there. Nothing was changed.")  # fmt: skip
    return ALLOWED


def judge_approval_conversation(approver_chat: str | None, conversation_ref: str) -> Verdict:
    """An approval counts only in the approver's own 1:1 chat with the Aid (where the approval card went)."""
    if approver_chat != conversation_ref:
        return Verdict(False, "other_conversation", "Approve or decline on the card in your own chat with me. "
                                                    "Nothing was changed.")  # fmt: skip
    return ALLOWED


def judge_typed_code(action: PendingAction, code: str | None) -> Verdict:
    """A typed "yes" confirms only with the code shown on the action's card (compared in constant time)."""
    expected = action.confirm_code or ""
    if code is None:
        return Verdict(False, "no_code", "To confirm by typing, add the code shown on the card, for example "
                                         "“yes 123456”, or press Confirm on the card. Nothing ran.")  # fmt: skip
    if not expected or not hmac.compare_digest(code.encode(), expected.encode()):
        return Verdict(False, "wrong_code", "That code is not the one on the card; nothing ran. Check the card, "
                                            "or press Confirm on it.")  # fmt: skip
    return ALLOWED
