"""What the store says belongs to the other writes (store/claimed_entries.py): their joined directory audit entries
and their client-request-ids, never this write's own, and only from a day before the window on."""

from __future__ import annotations

from datetime import timedelta

from appliance.store import audit_records, pending_actions
from appliance.store.claimed_entries import LOOKBACK, RIVAL_WINDOW, claimed_entries
from appliance.store.clock import now
from appliance.store.connection import Connection
from appliance.types import ActionState, ClaimedEntries


def _record(db: Connection, crid: str, outcome: str = "Success") -> None:
    audit_records.append_record(db, {"ToolName": "m365_password_reset", "Outcome": outcome, "ClientRequestId": crid,
                                     "ExecutedAt": now()})


def test_other_writes_entries_and_requests_are_claimed_this_writes_own_are_not(db: Connection) -> None:
    _record(db, "crid-earlier")
    assert audit_records.set_audit_entry_id(db, "crid-earlier", "Directory_e1", "correlationId")
    _record(db, "crid-unjoined")  # no entry yet: only its request id is claimed
    _record(db, "crid-own", "Unknown")
    assert audit_records.set_audit_entry_id(db, "crid-own", "Directory_own", "correlationId")  # (this write's own)
    pending_actions.create_action(
        db, action_id="a2", conversation_ref="19:conv", requester_id="aad-doug", tool="m365_password_reset",
        arguments={"user": "tom.becker@contoso.com"}, summary="Reset", action_hash="a" * 64,
        expires_at=now() + timedelta(minutes=10),
    )
    assert pending_actions.confirm(db, "a2", requester_id="aad-doug", action_hash="a" * 64)
    assert pending_actions.transition(db, "a2", ActionState.CONFIRMED, ActionState.EXECUTING,
                                      client_request_id="crid-running")
    moment = now()
    window = (moment - timedelta(seconds=5), moment + timedelta(minutes=10))
    claimed = claimed_entries(db, "crid-own", *window)
    rival = ("m365_password_reset", '{"user":"tom.becker@contoso.com"}')  # running, not joined to an entry
    assert claimed == ClaimedEntries(frozenset({"Directory_e1"}),
                                     frozenset({"crid-earlier", "crid-unjoined", "crid-running"}), (rival,))
    running = claimed_entries(db, "crid-running", *window)
    assert running.client_request_ids == frozenset({"crid-earlier", "crid-unjoined", "crid-own"})
    assert running.rivals == ()  # a write is never its own rival
    # once a record joins the running write to its entry, it rivals no one
    audit_records.append_record(db, {"ToolName": "m365_password_reset", "Outcome": "Success",
                                     "ClientRequestId": "crid-running", "ExecutedAt": now()})
    assert audit_records.set_audit_entry_id(db, "crid-running", "Directory_r", "correlationId")
    assert claimed_entries(db, "crid-own", *window).rivals == ()


def test_only_writes_started_inside_the_window_are_rivals(db: Connection) -> None:
    pending_actions.create_action(
        db, action_id="a2", conversation_ref="19:conv", requester_id="aad-doug", tool="m365_password_reset",
        arguments={"user": "tom.becker@contoso.com"}, summary="Reset", action_hash="a" * 64,
        expires_at=now() + timedelta(minutes=10),
    )
    assert pending_actions.confirm(db, "a2", requester_id="aad-doug", action_hash="a" * 64)
    assert pending_actions.transition(db, "a2", ActionState.CONFIRMED, ActionState.EXECUTING, client_request_id="r")
    started = now()
    assert claimed_entries(db, "own", started - RIVAL_WINDOW + timedelta(seconds=5), started).rivals != ()
    assert claimed_entries(db, "own", started + RIVAL_WINDOW + timedelta(seconds=5), started + RIVAL_WINDOW * 2
                           ).rivals == ()  # it began more than its window before this one
    assert claimed_entries(db, "own", started - RIVAL_WINDOW * 2, started - RIVAL_WINDOW).rivals == ()  # after
    # writes recorded and started more than a day before the window are not looked at
    later = started + LOOKBACK + timedelta(minutes=1)
    assert claimed_entries(db, "own", later, later + RIVAL_WINDOW) == ClaimedEntries()
    assert (timedelta(days=1), timedelta(minutes=10)) == (LOOKBACK, RIVAL_WINDOW)
