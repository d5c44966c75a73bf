"""What a confirmation card shows, and how it reads once decided (pure; teams/ renders it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from appliance.catalog import ToolSpec
from appliance.types import ActionCard, PendingAction

STATUS_TITLES = {
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


def card_for(action: PendingAction, spec: ToolSpec) -> ActionCard:
    """The confirmation card of a waiting action: exact summary, tool, target, Graph operation, expiry."""
    arguments = action.arguments
    target = str(arguments.get("user") or arguments.get("group") or "-")
    if "group" in arguments and "user" in arguments:
        target = f"{arguments['user']} in {arguments['group']}"
    return ActionCard(
        action_id=action.id,
        action_hash=action.action_hash,
        summary=action.summary,
        tool=action.tool,
        target=target,
        graph_operation=spec.graph_operation,
        expires_at=datetime.fromisoformat(action.expires_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def approval_card(action: PendingAction, spec: ToolSpec) -> ActionCard:
    """The card an approver gets (two-person rule): the same facts, who asked, Approve / Decline."""
    line = f"Requested and confirmed by {action.requester_upn or action.requester_id}; needs your approval."
    return replace(card_for(action, spec), status="approval", status_line=line)


def decided(card: ActionCard, status: str, line: str) -> ActionCard:
    """The same card after a decision: no buttons, the decision and who/when in `status_line`."""
    if status not in STATUS_TITLES or status in ("awaiting", "approval"):
        raise ValueError(f"unknown card status {status!r}")
    return replace(card, status=status, status_line=line)
