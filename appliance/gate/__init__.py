"""WHEN an action may run: the confirmation gate, sans I/O (no store, no network, no clock reads).

The lifecycle of an action, the composable rules that decide who may confirm, approve or cancel it,
the action hash a confirmation binds to, typed yes/no answers, and the card protocol (what a card
shows, its buttons per status, what a button carries and how a press is read back).
"""

from appliance.gate.answers import TypedReply, pick_target, typed_answer, typed_reply, which_one
from appliance.gate.cards import BUTTONS, STATUS_TITLES, approval_card, card_for, decided
from appliance.gate.decisions import CardDecision, card_payload, parse_card_decision
from appliance.gate.hashing import action_hash, canonical_arguments
from appliance.gate.lifecycle import FINAL_STATES, LIFECYCLE, OPEN_STATES, may_move
from appliance.gate.policy import may_review_all, may_use_tools, protected_target
from appliance.gate.rules import (
    CODE_DIGITS,
    Attempt,
    Verdict,
    is_expired,
    judge,
    judge_approval,
    judge_cancellation,
    judge_confirmation,
)
from appliance.gate.senders import is_object_id, judge_object_id, judge_sender

__all__ = [
    "BUTTONS",
    "CODE_DIGITS",
    "FINAL_STATES",
    "LIFECYCLE",
    "OPEN_STATES",
    "STATUS_TITLES",
    "Attempt",
    "CardDecision",
    "TypedReply",
    "Verdict",
    "action_hash",
    "approval_card",
    "canonical_arguments",
    "card_for",
    "card_payload",
    "decided",
    "is_expired",
    "is_object_id",
    "judge",
    "judge_approval",
    "judge_cancellation",
    "judge_confirmation",
    "judge_object_id",
    "judge_sender",
    "may_move",
    "may_review_all",
    "may_use_tools",
    "parse_card_decision",
    "pick_target",
    "protected_target",
    "typed_answer",
    "typed_reply",
    "which_one",
]
