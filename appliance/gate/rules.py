"""The gate's rules (sans-I/O): may this person confirm, approve or cancel this action, now?

Each rule is a small function of an `Attempt` that returns a refusing `Verdict`, or None when it has
nothing against it. `judge` runs the rules of an attempt's kind in order and combines them fail-closed:
the first refusal wins, a rule that raises refuses, and only an attempt no rule refused is allowed.
Every kind ends with the same `SHARED` rules (the exact action shown, still waiting, before expiry),
so a rule added there applies to confirmations, approvals and cancellations alike.

Where a decision comes from is a rule too (hipaa/threat-model.md, "Blind confirmations"): a captured
channel token lets its holder post as anyone into any conversation, but never shows them the card. So
a decision counts only in the conversation that holds the card (an approval only in the approver's own
chat), and a typed "yes" only with the code the card shows; a button carries the action's random id.

The store repeats the same conditions inside one compare-and-set UPDATE, so the rules hold even if two
confirmations race; these functions decide what the person is told.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from appliance.gate.lifecycle import OPEN_STATES
from appliance.types import ActionState, PendingAction, Person

Kind = Literal["confirm", "approve", "cancel"]
CODE_DIGITS = 6
"""The length of the code a waiting card shows for a typed confirmation ("yes 482913")."""

ALREADY: Mapping[ActionState, str] = {
    ActionState.CONFIRMED: "It was already confirmed and is being carried out.",
    ActionState.EXECUTING: "It was already confirmed and is being carried out.",
    ActionState.DONE: "It was already carried out.",
    ActionState.FAILED: "It was already tried, and it failed; ask again if you still need it.",
    ActionState.UNKNOWN: (
        "It was already sent to Microsoft 365 and its outcome is still being checked; it will not run again."
    ),
    ActionState.CANCELLED: "It was cancelled; ask again if you still need it.",
    ActionState.EXPIRED: "It expired before anyone confirmed it; ask again if you still need it.",
}


NOUN: Mapping[Kind, str] = {"confirm": "confirmation", "approve": "approval", "cancel": "cancellation"}
EXPIRED: Mapping[Kind, str] = {
    "confirm": "This request expired before it was confirmed; nothing ran. Ask again.",
    "approve": "This request expired before it was approved; nothing ran.",
    "cancel": "This request had already expired; nothing ran.",
}
"""What the person is told when an action expired, per kind of attempt."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one rule check. `reason` is a stable code (tests and the ops log use it)."""

    allowed: bool
    reason: str
    message: str = ""


ALLOWED = Verdict(True, "ok")


@dataclass(frozen=True)
class Attempt:
    """Someone tries to decide an action: what they pressed or typed, about which action, when.

    `approver` and `approvers` matter only for an approval (two-person rule); `presented_hash` is None
    when nothing was presented (a cancel, a decline). `conversation_ref` is where the decision was made
    (None: unknown, which no rule accepts), `approver_chat` the approver's own 1:1 chat with the Aid;
    `typed` and `code` say whether a person typed the decision and which card code they typed with it.
    """

    kind: Kind
    action: PendingAction | None
    actor_id: str
    presented_hash: str | None
    moment: datetime
    approver: Person | None = None
    approvers: tuple[str, ...] = ()
    conversation_ref: str | None = None
    approver_chat: str | None = None
    typed: bool = False
    code: str | None = None


Rule = Callable[[Attempt], Verdict | None]
"""A refusal, or None when the rule has nothing against the attempt (it never sees an unknown action)."""


def is_expired(action: PendingAction, moment: datetime) -> bool:
    """True once `moment` is at or past the action's expiry."""
    return datetime.fromisoformat(action.expires_at) <= moment.astimezone(UTC)


# -- who may decide -----------------------------------------------------------------------------------
def by_the_requester(attempt: Attempt) -> Verdict | None:
    """Only the person who asked confirms or cancels."""
    assert attempt.action is not None
    if attempt.actor_id == attempt.action.requester_id:
        return None
    return Verdict(False, "not_requester", f"Only the person who asked for this change can {attempt.kind} it.")


def not_by_the_requester(attempt: Attempt) -> Verdict | None:
    """Two-person rule: the second approval comes from someone else."""
    assert attempt.action is not None
    if attempt.approver is not None and attempt.approver.object_id != attempt.action.requester_id:
        return None
    return Verdict(False, "self_approval", "The person who asked cannot also give the second approval.")


def by_an_approver(attempt: Attempt) -> Verdict | None:
    """Two-person rule: an enabled account named in `[gate] approvers`."""
    approver = attempt.approver
    if approver is not None and approver.enabled and approver.upn.casefold() in {
        upn.casefold() for upn in attempt.approvers
    }:
        return None
    return Verdict(False, "not_an_approver", "You are not one of the approvers for this kind of change.")


# -- where a decision comes from ----------------------------------------------------------------------
def in_the_cards_chat(attempt: Attempt) -> Verdict | None:
    """The requester decides in the conversation that holds the card, nowhere else."""
    assert attempt.action is not None
    if attempt.conversation_ref is not None and attempt.conversation_ref == attempt.action.conversation_ref:
        return None
    return Verdict(False, "other_conversation", "That change was asked for in another chat; decide it on its card "
                                                "there. Nothing was changed.")


def in_the_approvers_chat(attempt: Attempt) -> Verdict | None:
    """Two-person rule: an approval counts only in the approver's own chat, where the approval card went."""
    if attempt.conversation_ref is not None and attempt.conversation_ref == attempt.approver_chat:
        return None
    return Verdict(False, "other_conversation", "Approve or decline on the card in your own chat with me. "
                                                "Nothing was changed.")


def with_the_cards_code(attempt: Attempt) -> Verdict | None:
    """A typed confirmation carries the code only the card shows (compared in constant time); an action
    without a code is confirmed by its card's button only."""
    assert attempt.action is not None
    if not attempt.typed:
        return None
    if attempt.code is None:
        return Verdict(False, "no_code", "To confirm by typing, add the code shown on the card, for example "
                                         "“yes 123456”, or press Confirm on the card. Nothing ran.")
    expected = attempt.action.confirm_code or ""
    if expected and hmac.compare_digest(attempt.code.encode(), expected.encode()):
        return None
    return Verdict(False, "wrong_code", "That code is not the one on the card; nothing ran. Check the card, "
                                        "or press Confirm on it.")


# -- what every decision needs (SHARED) ---------------------------------------------------------------
def the_action_shown(attempt: Attempt) -> Verdict | None:
    """A presented hash must be the action's own: a decision binds to exactly what the card showed."""
    assert attempt.action is not None
    if attempt.presented_hash is None or attempt.presented_hash == attempt.action.action_hash:
        return None
    noun = NOUN[attempt.kind]
    return Verdict(False, "wrong_hash", f"That {noun} does not match the action on the card; nothing ran.")


def still_waiting(attempt: Attempt) -> Verdict | None:
    """Only once: an action that was already decided is never decided again."""
    assert attempt.action is not None
    if attempt.action.state in OPEN_STATES:
        return None
    return Verdict(False, "already_decided", ALREADY.get(attempt.action.state, "It was already decided."))


def confirmed_by_the_requester_first(attempt: Attempt) -> Verdict | None:
    """Two-person rule: the approver comes after the requester's own confirmation."""
    assert attempt.action is not None
    if attempt.action.requester_confirmed_at is not None:
        return None
    return Verdict(False, "not_confirmed_yet", "The requester has not confirmed this change yet.")


def before_expiry(attempt: Attempt) -> Verdict | None:
    """Only before the action expires."""
    assert attempt.action is not None
    if not is_expired(attempt.action, attempt.moment):
        return None
    return Verdict(False, "expired", EXPIRED[attempt.kind])


SHARED: tuple[Rule, ...] = (the_action_shown, still_waiting, before_expiry)
"""The rules every decision ends with, in order."""
RULES: Mapping[Kind, tuple[Rule, ...]] = {
    "confirm": (by_the_requester, in_the_cards_chat, with_the_cards_code, *SHARED),
    "cancel": (by_the_requester, in_the_cards_chat, *SHARED),
    "approve": (not_by_the_requester, by_an_approver, in_the_approvers_chat, *SHARED[:2],
                confirmed_by_the_requester_first, *SHARED[2:]),
}
"""Who may decide and from where, then the shared rules (an approval also needs the requester's
confirmation first)."""


def judge(attempt: Attempt, rules: Iterable[Rule] | None = None) -> Verdict:
    """Run the attempt's rules in order, fail-closed: the first refusal (or a rule that raises) wins."""
    if attempt.action is None:
        again = " Ask again and I'll prepare it anew." if attempt.kind == "confirm" else ""
        return Verdict(False, "unknown_action", "I can't find that request." + again)
    for rule in RULES[attempt.kind] if rules is None else rules:
        try:
            verdict = rule(attempt)
        except Exception:  # a broken rule must never let an action through
            return Verdict(False, "rule_failed", "That could not be checked, so nothing ran. Please try again.")
        if verdict is not None:
            return verdict if not verdict.allowed else Verdict(False, "rule_failed", "Nothing ran.")
    return ALLOWED


def judge_confirmation(
    action: PendingAction | None, *, actor_id: str, presented_hash: str | None, moment: datetime,
    conversation_ref: str, typed: bool = False, code: str | None = None,
) -> Verdict:
    """Only the requester, in the card's chat, only the exact action shown (its hash; typed: with the
    card's code), only before expiry, only once."""
    return judge(Attempt("confirm", action, actor_id, presented_hash, moment, conversation_ref=conversation_ref,
                         typed=typed, code=code))


def judge_approval(
    action: PendingAction | None,
    *,
    approver: Person,
    approvers: Iterable[str],
    presented_hash: str | None,
    moment: datetime,
    conversation_ref: str,
    approver_chat: str | None,
) -> Verdict:
    """Two-person rule: an enabled approver from the list, never the requester, in the approver's own chat,
    after the requester's own confirmation, on the exact action shown, before expiry, once."""
    return judge(Attempt("approve", action, approver.object_id, presented_hash, moment, approver, tuple(approvers),
                         conversation_ref=conversation_ref, approver_chat=approver_chat))


def judge_cancellation(action: PendingAction | None, *, actor_id: str, moment: datetime,
                       conversation_ref: str) -> Verdict:
    """Only the requester may cancel, in the card's chat, and only while the action still waits."""
    return judge(Attempt("cancel", action, actor_id, None, moment, conversation_ref=conversation_ref))
