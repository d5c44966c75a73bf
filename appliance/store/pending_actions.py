"""Pending actions with compare-and-set state transitions (`UPDATE ... WHERE state = expected`).

The gate decides *which* transition to ask for; this module guarantees that each one happens at most
once even when two confirmations race (only one UPDATE can match), and never moves an action
backwards or out of a final state (`LIFECYCLE`). `confirm` checks requester, hash and expiry in the
same single UPDATE, so there is no window between checking and changing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from appliance.gate.hashing import canonical_arguments
from appliance.gate.lifecycle import FINAL_STATES, LIFECYCLE, OPEN_STATES, may_move
from appliance.store.clock import iso, now
from appliance.store.connection import Connection
from appliance.store.errors import ActionTransitionError
from appliance.types import ActionState, PendingAction

__all__ = ["FINAL_STATES", "LIFECYCLE", "OPEN_STATES", "PendingAction", "canonical_arguments"]

_COLUMNS = (
    "id, conversation_ref, requester_id, tool, arguments_json, summary, action_hash, state, client_request_id, "
    "confirmed_by, confirmed_at, created_at, expires_at, updated_at, ended_at, requester_upn, orchestrator, "
    "card_activity_id, requester_confirmed_at, approver_upn, executing_at, confirm_code"
)


def create_action(
    db: Connection, *, action_id: str, conversation_ref: str, requester_id: str, tool: str,
    arguments: Mapping[str, Any], summary: str, action_hash: str, expires_at: datetime,
    state: ActionState = ActionState.AWAITING,
    requester_upn: str | None = None, orchestrator: str | None = None, confirm_code: str | None = None,
) -> PendingAction:
    """Insert a new action (in PROPOSED or AWAITING, default AWAITING) and return it. `confirm_code` is
    the code its card shows for a typed confirmation (None: only the card's buttons confirm it)."""
    if state not in OPEN_STATES:
        raise ActionTransitionError(f"a new action starts in one of {', '.join(OPEN_STATES)}, not {state!r}")
    stamp = iso(now())
    row = (action_id, conversation_ref, requester_id, tool, canonical_arguments(arguments), summary, action_hash,
           state, None, None, None, stamp, iso(expires_at), stamp, None, requester_upn, orchestrator,
           None, None, None, None, confirm_code)
    db.execute(f"INSERT INTO pending_actions ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)
    return PendingAction(*row)


def get_action(db: Connection, action_id: str) -> PendingAction | None:
    """The action with this id, or None."""
    row = db.execute(f"SELECT {_COLUMNS} FROM pending_actions WHERE id = ?", (action_id,)).fetchone()
    return PendingAction(*row) if row else None


def transition(
    db: Connection, action_id: str, expected: ActionState, new_state: ActionState, *,
    client_request_id: str | None = None,
) -> bool:
    """Move `expected` -> `new_state` atomically. False (and no change) if the action was not in `expected`.

    `client_request_id` is recorded with the move (give it when entering EXECUTING, before the Graph call);
    entering EXECUTING also stamps `executing_at` (the start of the window its directory audit entry falls in).
    A move the lifecycle never allows raises ActionTransitionError, and so does CONFIRMED: use `confirm`.
    """
    if not may_move(expected, new_state):
        raise ActionTransitionError(f"a pending action never moves from {expected} to {new_state}")
    if new_state == ActionState.CONFIRMED:
        raise ActionTransitionError("CONFIRMED is reached only through confirm(), which checks requester, hash, expiry")
    stamp = iso(now())
    cursor = db.execute(
        "UPDATE pending_actions SET state = ?, updated_at = ?, ended_at = ?, "
        "client_request_id = coalesce(?, client_request_id), executing_at = coalesce(?, executing_at) "
        "WHERE id = ? AND state = ?",
        (new_state, stamp, stamp if new_state in FINAL_STATES else None, client_request_id,
         stamp if new_state == ActionState.EXECUTING else None, action_id, expected),
    )
    return cursor.rowcount == 1


def confirm(
    db: Connection, action_id: str, *, requester_id: str, action_hash: str, moment: datetime | None = None
) -> bool:
    """AWAITING -> CONFIRMED only if the same requester confirms the same hash before expiry, once.

    One UPDATE checks all four conditions; False means nothing changed (wrong person, hash, expired,
    already decided, or unknown id).
    """
    stamp = iso(moment or now())
    cursor = db.execute(
        "UPDATE pending_actions SET state = 'CONFIRMED', confirmed_by = ?, confirmed_at = ?, updated_at = ? "
        "WHERE id = ? AND state = 'AWAITING' AND requester_id = ? AND action_hash = ? AND expires_at > ?",
        (requester_id, stamp, stamp, action_id, requester_id, action_hash, stamp),
    )
    return cursor.rowcount == 1


def confirm_first(
    db: Connection, action_id: str, *, requester_id: str, action_hash: str, moment: datetime | None = None
) -> bool:
    """Two-person rule, step one: the requester confirms (same checks as `confirm`); the action stays
    AWAITING until an approver approves. False if nothing changed (including a second press)."""
    stamp = iso(moment or now())
    cursor = db.execute(
        "UPDATE pending_actions SET requester_confirmed_at = ?, updated_at = ? WHERE id = ? AND state = 'AWAITING' "
        "AND requester_id = ? AND action_hash = ? AND expires_at > ? AND requester_confirmed_at IS NULL",
        (stamp, stamp, action_id, requester_id, action_hash, stamp),
    )
    return cursor.rowcount == 1


def confirm_second(
    db: Connection, action_id: str, *, approver_id: str, approver_upn: str, action_hash: str,
    moment: datetime | None = None,
) -> bool:
    """Two-person rule, step two: AWAITING -> CONFIRMED only after the requester's own confirmation, by
    someone other than the requester, on the same hash, before expiry, once (one conditional UPDATE)."""
    stamp = iso(moment or now())
    cursor = db.execute(
        "UPDATE pending_actions SET state = 'CONFIRMED', confirmed_by = ?, approver_upn = ?, confirmed_at = ?, "
        "updated_at = ? WHERE id = ? AND state = 'AWAITING' AND requester_confirmed_at IS NOT NULL "
        "AND requester_id <> ? AND action_hash = ? AND expires_at > ?",
        (approver_id, approver_upn, stamp, stamp, action_id, approver_id, action_hash, stamp),
    )
    return cursor.rowcount == 1


def expire_due(db: Connection, moment: datetime | None = None) -> list[PendingAction]:
    """Move every PROPOSED/AWAITING action past its expiry to EXPIRED; return them as they now are."""
    stamp = iso(moment or now())
    due = [
        row[0]
        for row in db.execute(
            "SELECT id FROM pending_actions WHERE state IN ('PROPOSED', 'AWAITING') AND expires_at <= ?", (stamp,)
        ).fetchall()
    ]
    expired = []
    for action_id in due:
        cursor = db.execute(
            "UPDATE pending_actions SET state = 'EXPIRED', updated_at = ?, ended_at = ? "
            "WHERE id = ? AND state IN ('PROPOSED', 'AWAITING')",
            (stamp, stamp, action_id),
        )
        action = get_action(db, action_id) if cursor.rowcount == 1 else None
        if action is not None:
            expired.append(action)
    return expired


def set_card(db: Connection, action_id: str, activity_id: str) -> bool:
    """Remember the Teams activity id of the action's confirmation card (to update it in place later)."""
    cursor = db.execute("UPDATE pending_actions SET card_activity_id = ? WHERE id = ?", (activity_id, action_id))
    return cursor.rowcount == 1


def open_actions(db: Connection, conversation_ref: str, requester_id: str) -> list[PendingAction]:
    """Actions of this person in this conversation that still await a decision, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM pending_actions WHERE conversation_ref = ? AND requester_id = ? "
        "AND state IN ('PROPOSED', 'AWAITING') ORDER BY created_at",
        (conversation_ref, requester_id),
    ).fetchall()
    return [PendingAction(*row) for row in rows]


def actions_in_state(db: Connection, state: ActionState) -> list[PendingAction]:
    """Every action in `state`, oldest first (e.g. EXECUTING at start-up, for reconciliation)."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM pending_actions WHERE state = ? ORDER BY created_at", (state,))
    return [PendingAction(*row) for row in rows.fetchall()]
