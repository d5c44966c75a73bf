"""The gate's two compound writes, each one transaction, built from the repositories.

- `propose_action`: the user's turn and the action it led to are stored together.
- `finish_action`: EXECUTING -> DONE/FAILED/UNKNOWN, the audit record and the tool-result turn, together:
  after a crash an action is DONE (or FAILED, or UNKNOWN) if and only if its audit record exists.
  UNKNOWN -> DONE/FAILED (a late directory audit entry settles it) appends a second record for the action.
- `close_action` / `expire_due_recorded`: an action that ends without a Graph call (cancelled, expired)
  ends together with its audit record.

Moving to EXECUTING (with the client-request-id) stays a transaction of its own, committed before the
Graph call, and so does `pending_actions.confirm`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from appliance.store import audit_records, conversations, pending_actions
from appliance.store.connection import Connection, transaction
from appliance.store.errors import ActionTransitionError
from appliance.store.pending_actions import PendingAction
from appliance.types import ActionState


def propose_action(db: Connection, *, user_text: str, **action: Any) -> PendingAction:
    """Append the user's turn to `action["conversation_ref"]` and create the action (`create_action`'s
    keyword arguments) in one transaction."""
    with transaction(db):
        conversations.append_turn(db, action["conversation_ref"], "user", user_text)
        return pending_actions.create_action(db, **action)


def finish_action(
    db: Connection, action_id: str, final_state: ActionState, audit_record: Mapping[str, Any],
    tool_turn: str | None = None,
) -> dict[str, Any] | None:
    """EXECUTING (or UNKNOWN) -> `final_state` (DONE, FAILED or UNKNOWN), plus the audit record and the
    tool-result turn, atomically. An UNKNOWN action can only move on to DONE or FAILED.

    Returns the stored audit record, or None (and nothing written) if the action was in neither state.
    """
    finals = (ActionState.DONE, ActionState.FAILED, ActionState.UNKNOWN)
    if final_state not in finals:
        raise ActionTransitionError(f"an executed action ends DONE, FAILED or UNKNOWN, not {final_state}")
    with transaction(db):
        moved = pending_actions.transition(db, action_id, ActionState.EXECUTING, final_state)
        if not moved and final_state != ActionState.UNKNOWN:
            moved = pending_actions.transition(db, action_id, ActionState.UNKNOWN, final_state)
        if not moved:
            return None
        action = pending_actions.get_action(db, action_id)
        if action is None:  # pragma: no cover - it was updated a line above, in this transaction
            raise ActionTransitionError(f"action {action_id} vanished while finishing")
        record = audit_records.append_record(db, audit_record)
        if tool_turn is not None:
            conversations.append_turn(db, action.conversation_ref, "tool", tool_turn)
        return record


RecordOf = Callable[[PendingAction], Mapping[str, Any]]


def close_action(
    db: Connection, action_id: str, expected: ActionState, new_state: ActionState, record_of: RecordOf
) -> dict[str, Any] | None:
    """`expected` -> `new_state` (CANCELLED, EXPIRED or FAILED without a Graph call) and its audit record
    (`record_of(the action as it now is)`), atomically. None (nothing written) if it was not `expected`."""
    with transaction(db):
        if not pending_actions.transition(db, action_id, expected, new_state):
            return None
        action = pending_actions.get_action(db, action_id)
        if action is None:  # pragma: no cover - it was updated a line above, in this transaction
            raise ActionTransitionError(f"action {action_id} vanished while closing")
        return audit_records.append_record(db, record_of(action))


def expire_due_recorded(db: Connection, moment: datetime, record_of: RecordOf) -> list[PendingAction]:
    """Expire every overdue waiting action and append each one's audit record, in one transaction."""
    with transaction(db):
        expired = pending_actions.expire_due(db, moment)
        for action in expired:
            audit_records.append_record(db, record_of(action))
        return expired
