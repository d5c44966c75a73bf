"""What a confirmation card shows, which buttons it has, and how it reads once decided (pure; teams/ renders it).

Together with `decisions.py` (what a button carries and how a press is read back) this is the whole
card protocol: a channel renders `ActionCard` with `STATUS_TITLES` and `BUTTONS`, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

from appliance.catalog import ToolSpec
from appliance.types import ActionCard, CardStatus, DecidedStatus, Decision, PendingAction

STATUS_TITLES: Mapping[CardStatus, str] = {
    "awaiting": "Waiting for your confirmation",
    "confirmed": "Confirmed",
    "cancelled": "Cancelled",
    "expired": "Expired",
    "done": "Done",
    "failed": "Failed",
    "unknown": "Outcome being checked",
    "waiting": "Confirmed; waiting for a second approver",
    "approval": "Second approval needed",
}

ButtonStyle = Literal["positive", "destructive"]
BUTTONS: Mapping[CardStatus, tuple[tuple[Decision, ButtonStyle], ...]] = {
    "awaiting": (("confirm", "positive"), ("cancel", "destructive")),  # for the requester
    "approval": (("approve", "positive"), ("decline", "destructive")),  # for a second approver
}
"""Which buttons a card has in each status (decided cards have none)."""


def card_for(action: PendingAction, spec: ToolSpec) -> ActionCard:
    """The confirmation card of a waiting action: exact summary, tool, target, Graph operation, expiry,
    and the code a typed confirmation must carry."""
    return ActionCard(
        action_id=action.id,
        action_hash=action.action_hash,
        summary=action.summary,
        tool=action.tool,
        target=spec.target(action.arguments),
        graph_operation=spec.graph_operation,
        expires_at=datetime.fromisoformat(action.expires_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        confirm_code=action.confirm_code or "",
    )


def approval_card(action: PendingAction, spec: ToolSpec) -> ActionCard:
    """The card an approver gets (two-person rule): the same facts, who asked, Approve / Decline."""
    line = f"Requested and confirmed by {action.requester_upn or action.requester_id}; needs your approval."
    return replace(card_for(action, spec), status="approval", status_line=line, confirm_code="")


def decided(card: ActionCard, status: DecidedStatus, line: str) -> ActionCard:
    """The same card after a decision: no buttons, the decision and who/when in `status_line`."""
    if status not in STATUS_TITLES or status in BUTTONS:
        raise ValueError(f"unknown card status {status!r}")
    return replace(card, status=status, status_line=line, confirm_code="")
