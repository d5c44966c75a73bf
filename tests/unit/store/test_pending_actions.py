"""Pending actions: compare-and-set transitions, a forward-only lifecycle, and a confirm that checks everything."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.store import pending_actions
from appliance.store.clock import now
from appliance.store.connection import Connection
from appliance.store.errors import ActionTransitionError
from appliance.store.pending_actions import LIFECYCLE, PendingAction

HASH = "a" * 64


def _create(db: Connection, action_id: str = "a1", minutes: int = 10, state: str = "AWAITING") -> PendingAction:
    return pending_actions.create_action(
        db, action_id=action_id, conversation_ref="19:conv", requester_id="aad-adele", tool="m365_user_disable",
        arguments={"user": "lee@contoso.com", "reason": "left"}, summary="Disable lee@contoso.com",
        action_hash=HASH, expires_at=now() + timedelta(minutes=minutes), state=state,
    )


def _state(db: Connection, action_id: str) -> str | None:
    action = pending_actions.get_action(db, action_id)
    return action.state if action else None


def test_create_stores_canonical_arguments_and_every_field(db: Connection) -> None:
    created = _create(db)
    assert created == pending_actions.get_action(db, "a1")
    assert created.arguments_json == '{"reason":"left","user":"lee@contoso.com"}'
    assert created.arguments == {"user": "lee@contoso.com", "reason": "left"}
    assert (created.state, created.client_request_id, created.ended_at) == ("AWAITING", None, None)
    assert created.created_at == created.updated_at < created.expires_at
    with pytest.raises(ActionTransitionError):
        _create(db, "a2", state="EXECUTING")


def test_confirm_needs_the_same_requester_the_same_hash_and_no_expiry(db: Connection) -> None:
    _create(db)
    assert not pending_actions.confirm(db, "a1", requester_id="aad-mallory", action_hash=HASH)
    assert not pending_actions.confirm(db, "a1", requester_id="aad-adele", action_hash="b" * 64)
    late = now() + timedelta(minutes=11)
    assert not pending_actions.confirm(db, "a1", requester_id="aad-adele", action_hash=HASH, moment=late)
    assert not pending_actions.confirm(db, "nope", requester_id="aad-adele", action_hash=HASH)
    assert _state(db, "a1") == "AWAITING"
    assert pending_actions.confirm(db, "a1", requester_id="aad-adele", action_hash=HASH)
    assert not pending_actions.confirm(db, "a1", requester_id="aad-adele", action_hash=HASH)  # once only
    confirmed = pending_actions.get_action(db, "a1")
    assert confirmed is not None and confirmed.state == "CONFIRMED" and confirmed.confirmed_by == "aad-adele"
    assert confirmed.confirmed_at is not None


def test_the_happy_path_records_the_client_request_id_and_the_end(db: Connection) -> None:
    _create(db)
    pending_actions.confirm(db, "a1", requester_id="aad-adele", action_hash=HASH)
    assert pending_actions.transition(db, "a1", "CONFIRMED", "EXECUTING", client_request_id="crid-1")
    executing = pending_actions.get_action(db, "a1")
    assert executing is not None and executing.client_request_id == "crid-1" and executing.ended_at is None
    assert [a.id for a in pending_actions.actions_in_state(db, "EXECUTING")] == ["a1"]
    assert pending_actions.transition(db, "a1", "EXECUTING", "DONE")
    done = pending_actions.get_action(db, "a1")
    assert done is not None and done.state == "DONE" and done.ended_at is not None
    assert done.client_request_id == "crid-1"


def test_a_transition_from_the_wrong_state_changes_nothing(db: Connection) -> None:
    _create(db)
    assert not pending_actions.transition(db, "a1", "CONFIRMED", "EXECUTING", client_request_id="crid-x")
    action = pending_actions.get_action(db, "a1")
    assert action is not None and action.state == "AWAITING" and action.client_request_id is None


@pytest.mark.parametrize(("expected", "new_state"), [
    ("DONE", "EXECUTING"), ("FAILED", "CONFIRMED"), ("EXECUTING", "CONFIRMED"), ("AWAITING", "EXECUTING"),
    ("CANCELLED", "AWAITING"), ("EXPIRED", "CONFIRMED"), ("AWAITING", "DONE"),
])
def test_moves_the_lifecycle_never_allows_are_refused(db: Connection, expected: str, new_state: str) -> None:
    with pytest.raises(ActionTransitionError):
        pending_actions.transition(db, "a1", expected, new_state)


def test_confirmed_is_reached_only_through_confirm(db: Connection) -> None:
    _create(db)
    with pytest.raises(ActionTransitionError, match="confirm"):
        pending_actions.transition(db, "a1", "AWAITING", "CONFIRMED")


def test_the_lifecycle_only_moves_forward() -> None:
    order = ["PROPOSED", "AWAITING", "CONFIRMED", "EXECUTING"]
    for state, following in LIFECYCLE.items():
        for target in following:
            assert target not in order or state not in order or order.index(target) > order.index(state)


def test_expire_due_moves_overdue_open_actions_only(db: Connection) -> None:
    _create(db, "soon", minutes=1)
    _create(db, "later", minutes=60)
    _create(db, "proposed", minutes=1, state="PROPOSED")
    expired = pending_actions.expire_due(db, now() + timedelta(minutes=5))
    assert sorted(a.id for a in expired) == ["proposed", "soon"]
    assert {a.state for a in expired} == {"EXPIRED"}
    states = {a: _state(db, a) for a in ("soon", "later", "proposed")}
    assert states == {"soon": "EXPIRED", "later": "AWAITING", "proposed": "EXPIRED"}
    assert [a.id for a in pending_actions.open_actions(db, "19:conv", "aad-adele")] == ["later"]
