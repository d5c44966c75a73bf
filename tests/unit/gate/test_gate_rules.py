"""The gate's rules, one test each: requester, hash, expiry, once; typed answers; policy; cards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
from appliance.types import PendingAction, Person

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ARGS = {"sku": "ENTERPRISEPACK", "user": "sarah.lin@contoso.com"}
SUMMARY = "Assign ENTERPRISEPACK to sarah.lin@contoso.com"
C1 = "teams://msg/c1"
HASH = gate.action_hash("m365_license_assign", ARGS, SUMMARY)


def _action(state: str = "AWAITING", minutes: int = 10) -> PendingAction:
    return PendingAction(
        id="a1", conversation_ref="teams://msg/c1", requester_id="doug-oid", tool="m365_license_assign",
        arguments_json=gate.canonical_arguments(ARGS), summary=SUMMARY, action_hash=HASH, state=state,
        client_request_id=None, confirmed_by=None, confirmed_at=None, created_at=NOW.isoformat(),
        expires_at=(NOW + timedelta(minutes=minutes)).isoformat(), updated_at=NOW.isoformat(), ended_at=None,
    )


def test_the_requester_confirming_the_shown_hash_in_time_is_allowed() -> None:
    assert gate.judge_confirmation(_action(), actor_id="doug-oid", presented_hash=HASH, moment=NOW,
                                   conversation_ref=C1).allowed


def test_only_the_requester_can_confirm() -> None:
    verdict = gate.judge_confirmation(_action(), actor_id="eve-oid", presented_hash=HASH, moment=NOW,
                                      conversation_ref=C1)
    assert not verdict.allowed and verdict.reason == "not_requester"


def test_a_confirmation_must_carry_the_exact_hash() -> None:
    other = gate.action_hash("m365_license_assign", {**ARGS, "sku": "SPE_E5"}, SUMMARY)
    verdict = gate.judge_confirmation(_action(), actor_id="doug-oid", presented_hash=other, moment=NOW,
                                      conversation_ref=C1)
    assert verdict.reason == "wrong_hash"


def test_an_expired_action_cannot_be_confirmed() -> None:
    verdict = gate.judge_confirmation(_action(), actor_id="doug-oid", presented_hash=HASH,
                                      moment=NOW + timedelta(minutes=10), conversation_ref=C1)
    assert verdict.reason == "expired"


@pytest.mark.parametrize("state", ["CONFIRMED", "EXECUTING", "DONE", "FAILED", "CANCELLED", "EXPIRED"])
def test_a_decided_action_is_not_confirmed_again(state: str) -> None:
    verdict = gate.judge_confirmation(_action(state), actor_id="doug-oid", presented_hash=HASH, moment=NOW,
                                      conversation_ref=C1)
    assert verdict.reason == "already_decided" and verdict.message


def test_an_unknown_action_is_refused() -> None:
    assert gate.judge_confirmation(None, actor_id="x", presented_hash=HASH, moment=NOW,
                                   conversation_ref=C1).reason == "unknown_action"


def test_only_the_requester_can_cancel_and_only_while_waiting() -> None:
    assert gate.judge_cancellation(_action(), actor_id="doug-oid", moment=NOW, conversation_ref=C1).allowed
    assert gate.judge_cancellation(_action(), actor_id="eve-oid", moment=NOW,
                                   conversation_ref=C1).reason == "not_requester"
    assert gate.judge_cancellation(_action("DONE"), actor_id="doug-oid", moment=NOW,
                                   conversation_ref=C1).reason == "already_decided"


def test_the_hash_covers_tool_arguments_and_summary() -> None:
    assert gate.action_hash("m365_license_remove", ARGS, SUMMARY) != HASH
    assert gate.action_hash("m365_license_assign", ARGS, SUMMARY + " ") != HASH
    assert gate.action_hash("m365_license_assign", dict(reversed(list(ARGS.items()))), SUMMARY) == HASH


@pytest.mark.parametrize(("text", "answer"), [
    ("yes", "yes"), ("Yes!", "yes"), (" YES. ", "yes"), ("confirm", "yes"), ("ｙｅｓ", "yes"),
    ("no", "no"), ("Cancel", "no"), ("no thanks", "no"),
    ("yes and also make me admin", None), ("уes", None), ("y\u200bes", None), ("maybe", None), ("", None),
])
def test_typed_answers_are_plain_words_only(text: str, answer: str | None) -> None:
    assert gate.typed_answer(text) == answer


def test_a_typed_answer_applies_only_to_a_single_waiting_action() -> None:
    one = _action()
    assert gate.pick_target([one]).action == one
    assert gate.pick_target([]).action is None and not gate.pick_target([]).ambiguous
    two = gate.pick_target([one, replace(one, id="a2", summary="Remove SPE_E5 from ben@contoso.com")])
    assert two.ambiguous and "Remove SPE_E5" in gate.which_one(two.waiting)


def test_requesters_are_named_people_or_group_members_and_never_disabled_accounts() -> None:
    doug = Person("d", "doug@contoso.com", "Doug", True, frozenset({"helpdesk@contoso.com"}))
    assert gate.may_use_tools(doug, [], ["HelpDesk@contoso.com"])
    assert gate.may_use_tools(doug, ["DOUG@contoso.com"], [])
    assert not gate.may_use_tools(doug, [], [])
    assert not gate.may_use_tools(replace(doug, enabled=False), ["doug@contoso.com"], [])


def test_the_aid_never_changes_its_own_account() -> None:
    assert gate.protected_target({"user": "AID@contoso.com"}, "aid@contoso.com")
    assert gate.protected_target({"user": "sarah.lin@contoso.com"}, "aid@contoso.com") is None


def test_a_card_shows_summary_tool_target_operation_and_expiry_and_updates_in_place() -> None:
    card = gate.card_for(_action(), DEFAULT_CATALOG["m365_license_assign"])
    assert (card.summary, card.tool, card.target) == (SUMMARY, "m365_license_assign", "sarah.lin@contoso.com")
    assert "assignLicense" in card.graph_operation and card.expires_at and card.status == "awaiting"
    done = gate.decided(card, "done", "Success at 10:00")
    assert done.status == "done" and done.action_hash == HASH
    with pytest.raises(ValueError):
        gate.decided(card, "awaiting", "")


def test_the_lifecycle_never_leaves_a_final_state() -> None:
    for state in gate.FINAL_STATES:
        assert not any(gate.may_move(state, target) for target in gate.LIFECYCLE)
    assert gate.may_move("CONFIRMED", "EXECUTING") and not gate.may_move("AWAITING", "EXECUTING")
