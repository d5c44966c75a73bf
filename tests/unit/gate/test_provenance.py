"""Where a decision may come from (issue 15, item 3): a tenant user's object id, the card's own chat,
and, for a typed "yes", the code only the card shows. One rule per test; each fails closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
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
    )  # fmt: skip


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


def test_a_decision_counts_only_in_the_chat_that_holds_the_card() -> None:
    assert gate.judge_conversation(_action(), "teams://msg/c1").allowed
    verdict = gate.judge_conversation(_action(), "teams://msg/elsewhere")
    assert not verdict.allowed and verdict.reason == "other_conversation" and "Nothing was changed" in verdict.message
    assert gate.judge_conversation(None, "teams://msg/elsewhere").allowed  # unknown actions: judged later


def test_an_approval_counts_only_in_the_approvers_own_chat() -> None:
    assert gate.judge_approval_conversation("teams://msg/eve", "teams://msg/eve").allowed
    assert gate.judge_approval_conversation("teams://msg/eve", "teams://msg/other").reason == "other_conversation"
    assert gate.judge_approval_conversation(None, "teams://msg/other").reason == "other_conversation"


def test_a_typed_yes_confirms_only_with_the_cards_code() -> None:
    action = _action()
    assert gate.judge_typed_code(action, "482913").allowed
    assert gate.judge_typed_code(action, None).reason == "no_code"
    assert gate.judge_typed_code(action, "482914").reason == "wrong_code"
    assert gate.judge_typed_code(_action(code=None), "000000").reason == "wrong_code"  # no code: buttons only
    assert gate.judge_typed_code(_action(code=None), None).reason == "no_code"


@pytest.mark.parametrize(("text", "answer", "code"), [
    ("yes 482913", "yes", "482913"), ("Yes, 482913!", "yes", "482913"), ("confirm: 482913", "yes", "482913"),
    ("yes please 482913", "yes", "482913"), ("YES #482913", "yes", "482913"), ("yes", "yes", None),
    ("no 482913", "no", "482913"), ("no", "no", None), ("ｙｅｓ ４８２９１３", "yes", "482913"),
])  # fmt: skip
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
