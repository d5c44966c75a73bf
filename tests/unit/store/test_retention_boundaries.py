"""Retention at its exact boundaries: a row one minute inside its period is kept, one minute past it is
deleted, for each kind of row (so a period off by a day, or a < turned into <=, fails here)."""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance.config import StoreSettings
from appliance.store import audit_records, conversations, pending_actions
from appliance.store.connection import Connection
from appliance.store.retention import purge

POLICY = StoreSettings(retention_conversation_days=30, retention_pending_days=1, retention_audit_days=400)
MINUTE = timedelta(minutes=1)


def _created(db: Connection, sql: str) -> datetime:
    return datetime.fromisoformat(db.execute(sql).fetchone()[0])


def test_conversation_turns_live_exactly_their_period(db: Connection) -> None:
    conversations.append_turn(db, "c", "user", "hello")
    born = _created(db, "SELECT created_at FROM conversation_turns")
    assert purge(db, POLICY, born + timedelta(days=30) - MINUTE).conversation_turns == 0
    assert purge(db, POLICY, born + timedelta(days=30) + MINUTE).conversation_turns == 1


def test_ended_actions_live_exactly_their_period_after_they_end(db: Connection) -> None:
    pending_actions.create_action(db, action_id="a1", conversation_ref="c", requester_id="r", tool="t",
                                  arguments={}, summary="s", action_hash="h",
                                  expires_at=datetime.now().astimezone() + MINUTE)
    assert pending_actions.transition(db, "a1", "AWAITING", "CANCELLED")
    ended = _created(db, "SELECT ended_at FROM pending_actions")
    assert purge(db, POLICY, ended + timedelta(days=1) - MINUTE).pending_actions == 0
    assert purge(db, POLICY, ended + timedelta(days=1) + MINUTE).pending_actions == 1


def test_audit_records_live_exactly_their_period(db: Connection) -> None:
    audit_records.append_record(db, {"ToolName": "m365_user_disable", "Outcome": "Success"})
    recorded = _created(db, "SELECT recorded_at FROM audit_records")
    assert purge(db, POLICY, recorded + timedelta(days=400) - MINUTE).audit_records == 0
    assert audit_records.count(db) == 2  # kept, and the purge's own operator record (dated now) beside it
    # one minute past: the record goes, and so does the first purge's record (written the same minute)
    assert purge(db, POLICY, recorded + timedelta(days=400) + MINUTE).audit_records == 2
    [(left,)] = db.execute("SELECT record_json FROM audit_records").fetchall()
    assert '"ToolName": "appliance.retention.purge"' in left  # only the second purge's own record is left
    assert audit_records.verify(db).ok
