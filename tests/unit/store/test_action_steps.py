"""The gate's compound writes are atomic: all of their rows or none."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.store import action_steps, audit_records, conversations, pending_actions
from appliance.store.clock import now
from appliance.store.connection import Connection, transaction
from appliance.store.errors import ActionTransitionError, StoreError

RECORD = {"ToolName": "m365_user_disable", "Outcome": "Success", "ClientRequestId": "crid-1"}


def _propose(db: Connection) -> None:
    action_steps.propose_action(
        db, user_text="disable lee please", action_id="a1", conversation_ref="c", requester_id="r",
        tool="m365_user_disable", arguments={"user": "lee@contoso.com"}, summary="Disable lee@contoso.com",
        action_hash="h", expires_at=now() + timedelta(minutes=10),
    )


def _executing(db: Connection) -> None:
    _propose(db)
    assert pending_actions.confirm(db, "a1", requester_id="r", action_hash="h")
    assert pending_actions.transition(db, "a1", "CONFIRMED", "EXECUTING", client_request_id="crid-1")


def test_propose_stores_the_turn_and_the_action_together(db: Connection) -> None:
    _propose(db)
    assert [t.text for t in conversations.recent_turns(db, "c")] == ["disable lee please"]
    action = pending_actions.get_action(db, "a1")
    assert action is not None and action.state == "AWAITING"


def test_a_failing_propose_leaves_no_turn_behind(db: Connection) -> None:
    _propose(db)
    with pytest.raises(Exception, match="UNIQUE"):
        _propose(db)  # same action id: the insert fails after the turn was appended
    assert len(conversations.recent_turns(db, "c")) == 1


def test_finish_writes_state_audit_record_and_tool_turn_together(db: Connection) -> None:
    _executing(db)
    record = action_steps.finish_action(db, "a1", "DONE", RECORD, tool_turn="m365_user_disable -> disabled")
    assert record is not None and record["ClientRequestId"] == "crid-1"
    action = pending_actions.get_action(db, "a1")
    assert action is not None and action.state == "DONE"
    unjoined = {"AuditEntryId": None, "AuditEntryMatchedBy": None}
    assert audit_records.find_by_client_request_id(db, "crid-1") == record | unjoined
    assert conversations.recent_turns(db, "c")[-1].role == "tool"


def test_finish_writes_nothing_unless_the_action_is_executing(db: Connection) -> None:
    _propose(db)
    assert action_steps.finish_action(db, "a1", "DONE", RECORD, tool_turn="x") is None
    assert audit_records.count(db) == 0 and len(conversations.recent_turns(db, "c")) == 1
    with pytest.raises(ActionTransitionError):
        action_steps.finish_action(db, "a1", "CANCELLED", RECORD)


def test_a_bad_audit_record_rolls_the_state_change_back(db: Connection) -> None:
    _executing(db)
    with pytest.raises(StoreError, match="Outcome"):
        action_steps.finish_action(db, "a1", "FAILED", {"ToolName": "m365_user_disable"})
    action = pending_actions.get_action(db, "a1")
    assert action is not None and action.state == "EXECUTING"  # still to be reconciled, not silently ended


def test_transactions_nest_by_joining_the_outer_one(db: Connection) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        conversations.append_turn(db, "c", "user", "one")
        with transaction(db):
            conversations.append_turn(db, "c", "user", "two")
        raise RuntimeError("the outer unit fails")
    assert conversations.recent_turns(db, "c") == [] and not db.in_transaction
