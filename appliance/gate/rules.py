"""The gate's rules (sans-I/O): may this person confirm, approve or cancel this action, now?

Each rule is a small function of an `Attempt` that returns a refusing `Verdict`, or None when it has
nothing against it. `judge` runs the rules of an attempt's kind in order and combines them fail-closed:
the first refusal wins, a rule that raises refuses, and only an attempt no rule refused is allowed.
Every kind ends with the same `SHARED` rules (the exact action shown, still waiting, before expiry),
so a rule added there applies to confirmations, approvals and cancellations alike.

The store repeats the same conditions inside one compare-and-set UPDATE, so the rules hold even if two
confirmations race; these functions decide what the person is told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from appliance.gate.lifecycle import OPEN_STATES
from appliance.types import ActionState, PendingAction, Person

Kind = Literal["confirm", "approve", "cancel"]

ALREADY: Mapping[ActionState, str] = {
    ActionState.CONFIRMED: "It was already confirmed and is being carried out.",
    ActionState.EXECUTING: "It was already confirmed and is being carried out.",
    ActionState.DONE: "It was already carried out.",
    ActionState.FAILED: "It was already tried, and it failed; ask again if you still need it.",
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
    when nothing was presented (a cancel, a decline).
    """

    kind: Kind
    action: PendingAction | None
    actor_id: str
    presented_hash: str | None
    moment: datetime
    approver: Person | None = None
    approvers: tuple[str, ...] = ()


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
    "confirm": (by_the_requester, *SHARED),
    "cancel": (by_the_requester, *SHARED),
    "approve": (not_by_the_requester, by_an_approver, *SHARED[:2], confirmed_by_the_requester_first, *SHARED[2:]),
}
"""Who may decide, then the shared rules (an approval also needs the requester's confirmation first)."""


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
    action: PendingAction | None, *, actor_id: str, presented_hash: str | None, moment: datetime
) -> Verdict:
    """Only the requester, only the exact action shown (its hash), only before expiry, only once."""
    return judge(Attempt("confirm", action, actor_id, presented_hash, moment))


def judge_approval(
    action: PendingAction | None,
    *,
    approver: Person,
    approvers: Iterable[str],
    presented_hash: str | None,
    moment: datetime,
) -> Verdict:
    """Two-person rule: an enabled approver from the list, never the requester, after the requester's own
    confirmation, on the exact action shown, before expiry, once."""
    return judge(Attempt("approve", action, approver.object_id, presented_hash, moment, approver, tuple(approvers)))


def judge_cancellation(action: PendingAction | None, *, actor_id: str, moment: datetime) -> Verdict:
    """Only the requester may cancel, and only while the action still waits for a decision."""
    return judge(Attempt("cancel", action, actor_id, None, moment))
