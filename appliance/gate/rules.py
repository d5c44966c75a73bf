"""The gate's rules (sans-I/O): may this person confirm or cancel this action, now?

Each function returns a `Verdict` (allowed or not, a reason code, a sentence for the person). The store
repeats the same conditions inside one compare-and-set UPDATE, so the rules hold even if two
confirmations race; these functions decide what the person is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from appliance.types import PendingAction, Person

ALREADY = {
    "CONFIRMED": "It was already confirmed and is being carried out.",
    "EXECUTING": "It was already confirmed and is being carried out.",
    "DONE": "It was already carried out.",
    "FAILED": "It was already tried, and it failed; ask again if you still need it.",
    "UNKNOWN": "It was already sent to Microsoft 365 and its outcome is still being checked; it will not run again.",
    "CANCELLED": "It was cancelled; ask again if you still need it.",
    "EXPIRED": "It expired before anyone confirmed it; ask again if you still need it.",
}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one rule check. `reason` is a stable code (tests and the ops log use it)."""

    allowed: bool
    reason: str
    message: str = ""


ALLOWED = Verdict(True, "ok")


def is_expired(action: PendingAction, moment: datetime) -> bool:
    """True once `moment` is at or past the action's expiry."""
    return datetime.fromisoformat(action.expires_at) <= moment.astimezone(UTC)


def judge_confirmation(
    action: PendingAction | None, *, actor_id: str, presented_hash: str | None, moment: datetime
) -> Verdict:
    """Only the requester, only the exact action shown (its hash), only before expiry, only once."""
    if action is None:
        return Verdict(False, "unknown_action", "I can't find that request. Ask again and I'll prepare it anew.")
    if actor_id != action.requester_id:
        return Verdict(False, "not_requester", "Only the person who asked for this change can confirm it.")
    if presented_hash is not None and presented_hash != action.action_hash:
        return Verdict(False, "wrong_hash", "That confirmation does not match the action on the card; nothing ran.")
    if action.state not in ("PROPOSED", "AWAITING"):
        return Verdict(False, "already_decided", ALREADY.get(action.state, "It was already decided."))
    if is_expired(action, moment):
        return Verdict(False, "expired", "This request expired before it was confirmed; nothing ran. Ask again.")
    return ALLOWED


def judge_approval(
    action: PendingAction | None, *, approver: Person, approvers: Iterable[str], presented_hash: str | None,
    moment: datetime,
) -> Verdict:  # fmt: skip
    """Two-person rule: an enabled approver from the list, never the requester, after the requester's own
    confirmation, on the exact action shown, before expiry, once."""
    if action is None:
        return Verdict(False, "unknown_action", "I can't find that request.")
    if approver.object_id == action.requester_id:
        return Verdict(False, "self_approval", "The person who asked cannot also give the second approval.")
    if not approver.enabled or approver.upn.casefold() not in {upn.casefold() for upn in approvers}:
        return Verdict(False, "not_an_approver", "You are not one of the approvers for this kind of change.")
    if presented_hash is not None and presented_hash != action.action_hash:
        return Verdict(False, "wrong_hash", "That approval does not match the action on the card; nothing ran.")
    if action.state not in ("PROPOSED", "AWAITING"):
        return Verdict(False, "already_decided", ALREADY.get(action.state, "It was already decided."))
    if action.requester_confirmed_at is None:
        return Verdict(False, "not_confirmed_yet", "The requester has not confirmed this change yet.")
    if is_expired(action, moment):
        return Verdict(False, "expired", "This request expired before it was approved; nothing ran.")
    return ALLOWED


def judge_cancellation(action: PendingAction | None, *, actor_id: str, moment: datetime) -> Verdict:
    """Only the requester may cancel, and only while the action still waits for a decision."""
    if action is None:
        return Verdict(False, "unknown_action", "I can't find that request.")
    if actor_id != action.requester_id:
        return Verdict(False, "not_requester", "Only the person who asked for this change can cancel it.")
    if action.state not in ("PROPOSED", "AWAITING"):
        return Verdict(False, "already_decided", ALREADY.get(action.state, "It was already decided."))
    if is_expired(action, moment):
        return Verdict(False, "expired", "This request had already expired; nothing ran.")
    return ALLOWED
