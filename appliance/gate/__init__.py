"""WHEN an action may run: the confirmation gate, sans I/O (no store, no network, no clock reads)."""

from appliance.gate.answers import TypedReply, pick_target, typed_answer, typed_reply, which_one
from appliance.gate.cards import approval_card, card_for, decided
from appliance.gate.hashing import action_hash, canonical_arguments
from appliance.gate.lifecycle import FINAL_STATES, LIFECYCLE, OPEN_STATES, may_move
from appliance.gate.policy import may_review_all, may_use_tools, protected_target
from appliance.gate.provenance import (
    CODE_DIGITS,
    is_object_id,
    judge_approval_conversation,
    judge_conversation,
    judge_object_id,
    judge_sender,
    judge_typed_code,
)
from appliance.gate.rules import Verdict, is_expired, judge_approval, judge_cancellation, judge_confirmation

__all__ = [
    "CODE_DIGITS",
    "FINAL_STATES",
    "LIFECYCLE",
    "OPEN_STATES",
    "TypedReply",
    "Verdict",
    "action_hash",
    "approval_card",
    "canonical_arguments",
    "card_for",
    "decided",
    "is_expired",
    "is_object_id",
    "judge_approval",
    "judge_approval_conversation",
    "judge_cancellation",
    "judge_confirmation",
    "judge_conversation",
    "judge_object_id",
    "judge_sender",
    "judge_typed_code",
    "may_move",
    "may_review_all",
    "may_use_tools",
    "pick_target",
    "protected_target",
    "typed_answer",
    "typed_reply",
    "which_one",
]
