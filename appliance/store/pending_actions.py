"""Pending actions with compare-and-set state transitions (`UPDATE ... WHERE state = expected`).

The gate (a later issue) decides *which* transition is allowed; this module guarantees that a
transition happens at most once even with concurrent confirmations: only one UPDATE can match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.store.clock import iso, now
from appliance.store.connection import Connection

TERMINAL_STATES = frozenset({"CANCELLED", "EXPIRED", "DONE", "FAILED"})
_COLUMNS = (
    "id, conversation_ref, requester_id, tool, arguments_json, summary, action_hash, state, client_request_id, "
    "confirmed_by, confirmed_at, created_at, expires_at, updated_at, ended_at"
)


@dataclass(frozen=True)
class PendingAction:
    """One proposed state change and where it stands."""

    id: str
    conversation_ref: str
    requester_id: str
    tool: str
    arguments_json: str
    summary: str
    action_hash: str
    state: str
    client_request_id: str | None
    confirmed_by: str | None
    confirmed_at: str | None
    created_at: str
    expires_at: str
    updated_at: str
    ended_at: str | None


def create_action(
    db: Connection, *, action_id: str, conversation_ref: str, requester_id: str, tool: str,
    arguments_json: str, summary: str, action_hash: str, expires_at: datetime, state: str = "AWAITING",
) -> PendingAction:  # fmt: skip
    """Insert a new action (default state AWAITING) and return it."""
    stamp = iso(now())
    db.execute(
        f"INSERT INTO pending_actions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, NULL)",
        (action_id, conversation_ref, requester_id, tool, arguments_json, summary, action_hash, state,
         stamp, iso(expires_at), stamp),
    )  # fmt: skip
    found = get_action(db, action_id)
    assert found is not None
    return found


def get_action(db: Connection, action_id: str) -> PendingAction | None:
    """The action with this id, or None."""
    row = db.execute(f"SELECT {_COLUMNS} FROM pending_actions WHERE id = ?", (action_id,)).fetchone()
    return PendingAction(*row) if row else None


def transition(
    db: Connection, action_id: str, expected: str, new_state: str, *,
    client_request_id: str | None = None, confirmed_by: str | None = None,
) -> bool:  # fmt: skip
    """Move `expected` -> `new_state` atomically. False if the action was not in `expected` (no change)."""
    stamp = iso(now())
    ended = stamp if new_state in TERMINAL_STATES else None
    cursor = db.execute(
        "UPDATE pending_actions SET state = ?, updated_at = ?, ended_at = coalesce(?, ended_at), "
        "client_request_id = coalesce(?, client_request_id), confirmed_by = coalesce(?, confirmed_by), "
        "confirmed_at = CASE WHEN ? = 'CONFIRMED' THEN ? ELSE confirmed_at END "
        "WHERE id = ? AND state = ?",
        (new_state, stamp, ended, client_request_id, confirmed_by, new_state, stamp, action_id, expected),
    )
    return bool(cursor.rowcount == 1)


def open_actions(db: Connection, conversation_ref: str, requester_id: str) -> list[PendingAction]:
    """Actions of this person in this conversation that still await a decision."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM pending_actions WHERE conversation_ref = ? AND requester_id = ? "
        "AND state IN ('PROPOSED', 'AWAITING') ORDER BY created_at",
        (conversation_ref, requester_id),
    ).fetchall()
    return [PendingAction(*row) for row in rows]


def actions_in_state(db: Connection, state: str) -> list[PendingAction]:
    """Every action in `state` (e.g. EXECUTING at start-up, for reconciliation)."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM pending_actions WHERE state = ? ORDER BY created_at", (state,))
    return [PendingAction(*row) for row in rows.fetchall()]
