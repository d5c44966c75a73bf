"""Where a decision may come from (issue 15, item 3): a tenant user's object id (`gate/senders.py`), the
card's own chat, and, for a typed "yes", the code only the card shows (`gate/rules.py`: rules of the
same shape as the others, run by `judge`). One rule per test; each fails closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
from appliance.gate import rules
from appliance.types import PendingAction, Person

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DOUG_ID = "5f0c7c3e-2d1a-4b7e-9a53-0d6e1f2a3b4c"
DOUG = Person(DOUG_ID, "doug@contoso.com", "Doug", True)
ARGS = {"sku": "ENTERPRISEPACK", "user": "sarah.lin@contoso.com"}
SUMMARY = "Assign ENTERPRISEPACK to sarah.lin@contoso.com"


def _action(code: str | None = "482913", action_id: str = "a1") -> PendingAction:
    return PendingAction(
        id=action_id, conversation_ref="teams://msg/c1", requester_id=DOUG_ID, tool="m365_license_assign",
        arguments_json=gate.canonical_arguments(ARGS), summary=SUMMARY,
        action_hash=gate.action_hash("m365_license_assign", ARGS, SUMMARY), state="AWAITING",
        client_request_id=None, confirmed_by=None, confirmed_at=None, created_at=NOW.isoformat(),
        expires_at=(NOW + timedelta(minutes=10)).isoformat(), updated_at=NOW.isoformat(), ended_at=None,
        confirm_code=code,
    )


@pytest.mark.parametrize("value", [DOUG_ID, DOUG_ID.upper()])
def test_an_object_id_is_a_guid(value: str) -> None:
    assert gate.judge_object_id(value).allowed


@pytest.mark.parametrize("value", ["doug@contoso.com", "", "29:1abc", DOUG_ID + "0", "{" + DOUG_ID + "}",
                                   DOUG_ID.replace("-", ""), DOUG_ID + "\n", "５f0c7c3e-2d1a-4b7e-9a53-0d6e1f2a3b4c"])
def test_anything_else_is_not_an_object_id(value: str) -> None:
    verdict = gate.judge_object_id(value)
    assert not verdict.allowed and verdict.reason == "not_an_object_id" and verdict.message


def test_the_sender_must_be_exactly_the_directory_user_the_id_names() -> None:
    assert gate.judge_sender(DOUG_ID, DOUG).allowed
    assert gate.judge_sender(DOUG_ID.upper(), DOUG).allowed  # GUIDs compare case-insensitively
    # the directory resolves UPNs too: a UPN standing in for an object id is refused
    assert gate.judge_sender("doug@contoso.com", DOUG).reason == "not_a_tenant_user"
    assert gate.judge_sender(DOUG_ID, None).reason == "not_a_tenant_user"
    assert gate.judge_sender(DOUG_ID, replace(DOUG, enabled=False)).reason == "disabled"


def _confirm(action: PendingAction, where: str = "teams://msg/c1", **typed: object) -> gate.Verdict:
    return gate.judge_confirmation(action, actor_id=DOUG_ID, presented_hash=action.action_hash, moment=NOW,
                                   conversation_ref=where, **typed)  # type: ignore[arg-type]


def test_a_decision_counts_only_in_the_chat_that_holds_the_card() -> None:
    assert _confirm(_action()).allowed
    verdict = _confirm(_action(), "teams://msg/elsewhere")
    assert not verdict.allowed and verdict.reason == "other_conversation" and "Nothing was changed" in verdict.message
    cancel = gate.judge_cancellation(_action(), actor_id=DOUG_ID, moment=NOW, conversation_ref="teams://msg/x")
    assert cancel.reason == "other_conversation"
    nowhere = rules.Attempt("confirm", _action(), DOUG_ID, None, NOW)  # where it came from is unknown
    assert rules.judge(nowhere).reason == "other_conversation"


def test_someone_else_is_told_it_is_not_theirs_before_where() -> None:
    verdict = gate.judge_confirmation(_action(), actor_id="someone-else", presented_hash=None, moment=NOW,
                                      conversation_ref="teams://msg/elsewhere")
    assert verdict.reason == "not_requester"


def test_an_approval_counts_only_in_the_approvers_own_chat() -> None:
    eve = Person("9a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "eve@contoso.com", "Eve", True)
    waiting = replace(_action(), requester_confirmed_at=NOW.isoformat())

    def approve(where: str, chat: str | None) -> gate.Verdict:
        return gate.judge_approval(waiting, approver=eve, approvers=["eve@contoso.com"], presented_hash=None,
                                   moment=NOW, conversation_ref=where, approver_chat=chat)

    assert approve("teams://msg/eve", "teams://msg/eve").allowed
    assert approve("teams://msg/c1", "teams://msg/eve").reason == "other_conversation"
    assert approve("teams://msg/eve", None).reason == "other_conversation"  # no chat with the Aid: no card


def test_a_typed_yes_confirms_only_with_the_cards_code() -> None:
    action = _action()
    assert _confirm(action, typed=True, code="482913").allowed
    assert _confirm(action).allowed  # a button press carries the action's random id instead
    assert _confirm(action, typed=True, code=None).reason == "no_code"
    assert _confirm(action, typed=True, code="482914").reason == "wrong_code"
    assert _confirm(_action(code=None), typed=True, code="000000").reason == "wrong_code"  # buttons only
    assert _confirm(_action(code=None), typed=True, code=None).reason == "no_code"


@pytest.mark.parametrize(("text", "answer", "code"), [
    ("yes 482913", "yes", "482913"), ("Yes, 482913!", "yes", "482913"), ("confirm: 482913", "yes", "482913"),
    ("yes please 482913", "yes", "482913"), ("YES #482913", "yes", "482913"), ("yes", "yes", None),
    ("no 482913", "no", "482913"), ("no", "no", None), ("ｙｅｓ ４８２９１３", "yes", "482913"),
])
def test_a_typed_reply_carries_its_code(text: str, answer: str, code: str | None) -> None:
    assert gate.typed_reply(text) == gate.TypedReply(answer, code)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["yes 48291", "yes 4829131", "482913", "yes 482913 and make me admin",
                                  "maybe 482913", "уes 482913", "yes\u200b482913"])
def test_anything_else_is_not_a_typed_reply(text: str) -> None:
    assert gate.typed_reply(text) is None


def test_the_code_names_the_card_when_several_wait() -> None:
    first, second = _action("111111", "a1"), _action("222222", "a2")
    assert gate.pick_target([first, second], "222222").action == second
    assert gate.pick_target([first, second], "333333").ambiguous
    assert gate.pick_target([first, second]).ambiguous
    assert gate.pick_target([first], "999999").action == first  # then judged: wrong code


def test_only_a_waiting_card_shows_the_code() -> None:
    spec = DEFAULT_CATALOG["m365_license_assign"]
    card = gate.card_for(_action(), spec)
    assert card.confirm_code == "482913"
    assert gate.decided(card, "confirmed", "Confirmed").confirm_code == ""
    assert gate.approval_card(_action(), spec).confirm_code == ""  # an approver never sees the requester's code
