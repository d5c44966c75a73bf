"""The gate's wire protocol and sender checks, exactly: what a card or choice button carries, how a press
is read back (and what is refused), and the whole verdict for each sender refusal. Each test here kills
mutants of gate/decisions.py, gate/choices.py, gate/senders.py or gate/answers.py that the other gate
tests let through (docs/TESTING.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
from appliance.gate.answers import Target, TypedReply, typed_reply
from appliance.gate.choices import CHOICE_KIND, CHOICES_SHOWN, ChoicePick, choice_payload, parse_choice_pick
from appliance.gate.decisions import CARD_KIND, CardDecision
from appliance.gate.rules import Verdict
from appliance.gate.senders import NO_ACCOUNT
from appliance.types import PendingAction, Person
from tests.local_zone import local_zone

HASH = "ab" * 32
DOUG_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
DOUG = Person(DOUG_ID, "doug@contoso.com", "Doug", True)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _action(**change: object) -> PendingAction:
    action = PendingAction(
        id="a1", conversation_ref="teams://msg/c1", requester_id="doug-oid", tool="m365_license_assign",
        arguments_json='{"sku":"ENTERPRISEPACK","user":"sarah.lin@contoso.com"}',
        summary="Assign ENTERPRISEPACK to sarah.lin@contoso.com", action_hash=HASH, state="AWAITING",
        client_request_id=None, confirmed_by=None, confirmed_at=None, created_at=NOW.isoformat(),
        expires_at=(NOW + timedelta(minutes=10)).isoformat(), updated_at=NOW.isoformat(), ended_at=None,
    )
    return replace(action, **change)  # type: ignore[arg-type]


# -- card decisions -----------------------------------------------------------------------------------
def test_a_card_button_carries_exactly_its_decision_action_and_hash() -> None:
    assert CARD_KIND == "aidizen.decision"
    payload = gate.card_payload("confirm", "a1", HASH)
    assert payload == {"kind": "aidizen.decision", "decision": "confirm", "action_id": "a1", "action_hash": HASH}
    assert gate.parse_card_decision(payload) == CardDecision(kind="aidizen.decision", decision="confirm",
                                                             action_id="a1", action_hash=HASH)


@pytest.mark.parametrize("value", [
    None, "confirm", ["aidizen.decision"], {},
    {"kind": "aidizen.choice", "decision": "confirm", "action_id": "a1", "action_hash": HASH},
    {"kind": "aidizen.decision", "decision": "run", "action_id": "a1", "action_hash": HASH},
    {"kind": "aidizen.decision", "decision": "confirm", "action_id": "../a1", "action_hash": HASH},
    {"kind": "aidizen.decision", "decision": "confirm", "action_id": "a1", "action_hash": HASH.upper()},
])
def test_anything_else_a_button_could_send_is_refused(value: object) -> None:
    assert gate.parse_card_decision(value) is None


# -- choice picks ----------------------------------------------------------------------------------------
def test_a_choice_button_carries_exactly_its_choice_and_option() -> None:
    assert (CHOICE_KIND, CHOICES_SHOWN) == ("aidizen.choice", 5)
    payload = choice_payload("c-1", 4)
    assert payload == {"kind": "aidizen.choice", "choice_id": "c-1", "option": 4}
    assert parse_choice_pick(payload) == ChoicePick(kind="aidizen.choice", choice_id="c-1", option=4)
    assert parse_choice_pick({**payload, "extra": "ignored"}) == ChoicePick(kind="aidizen.choice",
                                                                            choice_id="c-1", option=4)


@pytest.mark.parametrize("value", [
    None, "c-1", [CHOICE_KIND], {"choice_id": "c-1", "option": 0},
    {"kind": "aidizen.decision", "choice_id": "c-1", "option": 0},
    {"kind": "aidizen.choice", "choice_id": "c-1", "option": 5},
    {"kind": "aidizen.choice", "choice_id": "c/1", "option": 0},
])
def test_anything_else_a_choice_button_could_send_is_refused(value: object) -> None:
    assert parse_choice_pick(value) is None


# -- senders --------------------------------------------------------------------------------------------------
def test_each_sender_refusal_is_exact() -> None:
    assert gate.judge_object_id("doug@contoso.com") == Verdict(False, "not_an_object_id", NO_ACCOUNT)
    assert gate.judge_sender("doug@contoso.com", DOUG) == Verdict(False, "not_a_tenant_user", NO_ACCOUNT)
    assert gate.judge_sender(DOUG_ID, None) == Verdict(False, "not_a_tenant_user", NO_ACCOUNT)
    assert gate.judge_sender(DOUG_ID, replace(DOUG, enabled=False)) == Verdict(False, "disabled", NO_ACCOUNT)
    assert gate.judge_sender(DOUG_ID, DOUG) == Verdict(True, "ok", "")
    assert NO_ACCOUNT == "I can't find an enabled account for you in this tenant, so I can't help here."


# -- typed answers with a code ------------------------------------------------------------------------------
def test_an_answer_with_its_code_is_at_most_32_characters() -> None:
    assert typed_reply("yes" + " " * 23 + "482913") == TypedReply("yes", "482913")  # 32 characters
    assert typed_reply("yes" + " " * 24 + "482913") is None  # 33
    assert typed_reply("yes," + " " * 30 + "482913") is None


def test_the_words_before_a_code_may_end_in_punctuation() -> None:
    assert typed_reply("Yes! 482913") == TypedReply("yes", "482913")
    assert typed_reply("no. 482913") == TypedReply("no", "482913")


def test_a_code_picks_its_card_among_several_and_keeps_the_others_listed() -> None:
    one, two = _action(confirm_code="111111"), _action(id="a2", confirm_code="222222")
    assert gate.pick_target([one, two], "222222") == Target(two, (one, two))
    assert gate.pick_target([one, two], "333333") == Target(None, (one, two))


def test_a_typed_code_is_never_matched_against_a_card_without_one() -> None:
    attempt = gate.Attempt("confirm", _action(), "doug-oid", None, NOW, conversation_ref="teams://msg/c1",
                           typed=True, code="XXXX")
    assert gate.judge(attempt).reason == "wrong_code"


# -- a card's expiry reads in UTC whatever the machine's zone ---------------------------------------------
def test_a_cards_expiry_is_shown_in_utc_on_a_machine_in_another_zone() -> None:
    with local_zone("Europe/Berlin"):
        card = gate.card_for(_action(), DEFAULT_CATALOG["m365_license_assign"])
    assert card.expires_at == "2026-11-24 10:10:00 UTC"
