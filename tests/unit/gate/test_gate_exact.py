"""The gate, exactly: every rule's whole verdict (allowed, reason code, the sentence the person reads) for
every branch and its boundary, the complete lifecycle table, typed answers, cards and the action hash.
Written so that any one changed condition, constant or sentence in gate/ fails a test (make mutation)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from appliance import gate
from appliance.catalog import DEFAULT_CATALOG
from appliance.gate.answers import NO_WORDS, YES_WORDS, Target
from appliance.gate.cards import STATUS_TITLES
from appliance.gate.rules import ALREADY, Verdict
from appliance.types import ActionCard, PendingAction, Person

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ARGS = {"sku": "ENTERPRISEPACK", "user": "sarah.lin@contoso.com"}
SUMMARY = "Assign ENTERPRISEPACK to sarah.lin@contoso.com"
HASH = gate.action_hash("m365_license_assign", ARGS, SUMMARY)
OK = Verdict(True, "ok", "")
EVE = Person("eve-oid", "eve@contoso.com", "Eve", True)


def _action(state: str = "AWAITING", **change: object) -> PendingAction:
    action = PendingAction(
        id="a1", conversation_ref="teams://msg/c1", requester_id="doug-oid", tool="m365_license_assign",
        arguments_json=gate.canonical_arguments(ARGS), summary=SUMMARY, action_hash=HASH, state=state,
        client_request_id=None, confirmed_by=None, confirmed_at=None, created_at=NOW.isoformat(),
        expires_at=(NOW + timedelta(minutes=10)).isoformat(), updated_at=NOW.isoformat(), ended_at=None,
        requester_upn="doug@contoso.com",
    )
    return replace(action, **change)  # type: ignore[arg-type]


CHAT, EVES_CHAT = "teams://msg/c1", "teams://msg/eve"


def _confirm(action: PendingAction | None, actor: str = "doug-oid", presented: str | None = HASH,
             moment: datetime = NOW, chat: str = CHAT, typed: bool = False, code: str | None = None) -> Verdict:
    return gate.judge_confirmation(action, actor_id=actor, presented_hash=presented, moment=moment,
                                   conversation_ref=chat, typed=typed, code=code)


def _approve(action: PendingAction | None, approver: Person = EVE, approvers: tuple[str, ...] = ("EVE@contoso.com",),
             presented: str | None = HASH, moment: datetime = NOW, chat: str = EVES_CHAT,
             approver_chat: str | None = EVES_CHAT) -> Verdict:
    return gate.judge_approval(action, approver=approver, approvers=approvers, presented_hash=presented, moment=moment,
                               conversation_ref=chat, approver_chat=approver_chat)


def _cancel(action: PendingAction | None, actor: str = "doug-oid", moment: datetime = NOW, chat: str = CHAT) -> Verdict:
    return gate.judge_cancellation(action, actor_id=actor, moment=moment, conversation_ref=chat)


# -- confirmation ------------------------------------------------------------------------------------
def test_confirmation_verdicts_are_exact() -> None:
    assert _confirm(_action()) == OK
    assert _confirm(_action(), presented=None) == OK  # a typed "yes" carries no hash: the action itself is it
    assert _confirm(_action("PROPOSED")) == OK
    assert _confirm(None) == Verdict(False, "unknown_action",
                                     "I can't find that request. Ask again and I'll prepare it anew.")
    assert _confirm(_action(), actor="eve-oid") == Verdict(
        False, "not_requester", "Only the person who asked for this change can confirm it.")
    assert _confirm(_action(), presented="0" * 64) == Verdict(
        False, "wrong_hash", "That confirmation does not match the action on the card; nothing ran.")
    assert _confirm(_action(), moment=NOW + timedelta(minutes=10)) == Verdict(
        False, "expired", "This request expired before it was confirmed; nothing ran. Ask again.")
    assert _confirm(_action(), moment=NOW + timedelta(minutes=10) - timedelta(microseconds=1)) == OK


def test_the_confirmation_rules_apply_in_order() -> None:
    # someone else with a wrong hash on an expired, decided action is told they are not the requester
    everything_wrong = _action("DONE")
    late = NOW + timedelta(days=1)
    wrong = {"presented": "0" * 64, "moment": late}
    assert _confirm(everything_wrong, actor="eve-oid", chat="x", typed=True, **wrong).reason == "not_requester"
    assert _confirm(everything_wrong, presented="0" * 64, moment=late, chat="x", typed=True).reason == (
        "other_conversation")
    assert _confirm(everything_wrong, presented="0" * 64, moment=late, typed=True).reason == "no_code"
    assert _confirm(everything_wrong, presented="0" * 64, moment=NOW + timedelta(days=1)).reason == "wrong_hash"
    assert _confirm(everything_wrong, moment=NOW + timedelta(days=1)).reason == "already_decided"


@pytest.mark.parametrize("state", sorted(ALREADY))
def test_each_decided_state_is_told_in_its_own_words(state: str) -> None:
    verdict = Verdict(False, "already_decided", ALREADY[state])
    assert _confirm(_action(state)) == verdict
    assert _approve(_action(state, requester_confirmed_at=NOW.isoformat())) == verdict
    assert _cancel(_action(state)) == verdict


def test_the_words_for_each_decided_state() -> None:
    assert ALREADY == {
        "CONFIRMED": "It was already confirmed and is being carried out.",
        "EXECUTING": "It was already confirmed and is being carried out.",
        "DONE": "It was already carried out.",
        "FAILED": "It was already tried, and it failed; ask again if you still need it.",
        "CANCELLED": "It was cancelled; ask again if you still need it.",
        "EXPIRED": "It expired before anyone confirmed it; ask again if you still need it.",
        "UNKNOWN": "It was already sent to Microsoft 365 and its outcome is still being checked; "
                   "it will not run again.",
    }


def test_a_rule_that_raises_or_allows_explicitly_refuses() -> None:
    def broken(attempt: gate.Attempt) -> Verdict | None:
        raise RuntimeError("a bug in a rule")

    def says_yes(attempt: gate.Attempt) -> Verdict | None:
        return OK

    attempt = gate.Attempt("confirm", _action(), "doug-oid", HASH, NOW, conversation_ref=CHAT)
    assert gate.judge(attempt) == OK
    assert gate.judge(attempt, [broken]) == Verdict(
        False, "rule_failed", "That could not be checked, so nothing ran. Please try again.")
    assert gate.judge(attempt, [says_yes]) == Verdict(False, "rule_failed", "Nothing ran.")
    assert gate.judge(attempt, []) == OK


# -- where a decision comes from -------------------------------------------------------------------------
def test_a_decision_counts_only_in_the_cards_chat() -> None:
    elsewhere = Verdict(False, "other_conversation", "That change was asked for in another chat; decide it on its "
                                                     "card there. Nothing was changed.")
    assert _confirm(_action(), chat="teams://msg/other") == elsewhere
    assert _cancel(_action(), chat="teams://msg/other") == elsewhere
    unknown = gate.judge(gate.Attempt("confirm", _action(), "doug-oid", HASH, NOW))  # where: unknown
    assert unknown == elsewhere


def test_an_approval_counts_only_in_the_approvers_own_chat() -> None:
    confirmed = _action(requester_confirmed_at=NOW.isoformat())
    elsewhere = Verdict(False, "other_conversation", "Approve or decline on the card in your own chat with me. "
                                                     "Nothing was changed.")
    assert _approve(confirmed, chat=CHAT) == elsewhere
    assert _approve(confirmed, approver_chat=None) == elsewhere
    assert gate.judge(gate.Attempt("approve", confirmed, "eve-oid", HASH, NOW, EVE, ("eve@contoso.com",),
                                   approver_chat=EVES_CHAT)) == elsewhere


def test_a_typed_confirmation_needs_the_cards_code() -> None:
    coded = _action(confirm_code="482913")
    assert _confirm(coded, presented=None, typed=True, code="482913") == OK
    assert _confirm(coded, presented=None, typed=True) == Verdict(
        False, "no_code", "To confirm by typing, add the code shown on the card, for example “yes 123456”, or press "
                          "Confirm on the card. Nothing ran.")
    wrong = Verdict(False, "wrong_code", "That code is not the one on the card; nothing ran. Check the card, or "
                                         "press Confirm on it.")
    assert _confirm(coded, presented=None, typed=True, code="482914") == wrong
    assert _confirm(coded, presented=None, typed=True, code="48291") == wrong
    assert _confirm(_action(), presented=None, typed=True, code="") == wrong  # an action without a code: button only
    assert _confirm(_action(confirm_code=""), presented=None, typed=True, code="") == wrong
    assert _confirm(coded, presented=None, code="000000") == OK  # a button press carries no code
    assert gate.CODE_DIGITS == 6


# -- expiry ------------------------------------------------------------------------------------------
def test_expiry_is_at_or_after_the_deadline_in_any_time_zone() -> None:
    action = _action()
    deadline = NOW + timedelta(minutes=10)
    assert gate.is_expired(action, deadline) is True
    assert gate.is_expired(action, deadline + timedelta(microseconds=1)) is True
    assert gate.is_expired(action, deadline - timedelta(microseconds=1)) is False
    berlin = timezone(timedelta(hours=1))
    assert gate.is_expired(action, (deadline - timedelta(seconds=1)).astimezone(berlin)) is False
    assert gate.is_expired(action, deadline.astimezone(berlin)) is True


# -- two-person approval ------------------------------------------------------------------------------
def test_approval_verdicts_are_exact() -> None:
    confirmed = _action(requester_confirmed_at=NOW.isoformat())
    assert _approve(confirmed) == OK
    assert _approve(confirmed, presented=None) == OK
    assert _approve(None) == Verdict(False, "unknown_action", "I can't find that request.")
    doug = Person("doug-oid", "doug@contoso.com", "Doug", True)
    assert _approve(confirmed, approver=doug, approvers=("doug@contoso.com",)) == Verdict(
        False, "self_approval", "The person who asked cannot also give the second approval.")
    not_one = Verdict(False, "not_an_approver", "You are not one of the approvers for this kind of change.")
    assert _approve(confirmed, approvers=("mallory@contoso.com",)) == not_one
    assert _approve(confirmed, approvers=()) == not_one
    assert _approve(confirmed, approver=replace(EVE, enabled=False)) == not_one
    assert _approve(confirmed, presented="0" * 64) == Verdict(
        False, "wrong_hash", "That approval does not match the action on the card; nothing ran.")
    assert _approve(_action()) == Verdict(
        False, "not_confirmed_yet", "The requester has not confirmed this change yet.")
    assert _approve(confirmed, moment=NOW + timedelta(minutes=10)) == Verdict(
        False, "expired", "This request expired before it was approved; nothing ran.")
    assert _approve(confirmed, moment=NOW + timedelta(minutes=10) - timedelta(microseconds=1)) == OK


def test_the_approval_rules_apply_in_order() -> None:
    late = NOW + timedelta(days=1)
    doug = Person("doug-oid", "doug@contoso.com", "Doug", False)
    assert _approve(_action("DONE"), approver=doug, approvers=(), presented="0", moment=late).reason == "self_approval"
    assert _approve(_action("DONE"), approvers=(), presented="0", moment=late).reason == "not_an_approver"
    assert _approve(_action("DONE"), presented="0", moment=late, chat=CHAT).reason == "other_conversation"
    assert _approve(_action("DONE"), presented="0", moment=late).reason == "wrong_hash"
    assert _approve(_action("DONE"), moment=late).reason == "already_decided"
    assert _approve(_action(), moment=late).reason == "not_confirmed_yet"


# -- cancellation ---------------------------------------------------------------------------------------
def test_cancellation_verdicts_are_exact() -> None:
    cancel = _cancel
    assert cancel(_action()) == OK and cancel(_action("PROPOSED")) == OK
    assert cancel(None) == Verdict(False, "unknown_action", "I can't find that request.")
    assert cancel(_action(), actor="eve-oid") == Verdict(
        False, "not_requester", "Only the person who asked for this change can cancel it.")
    assert cancel(_action(), moment=NOW + timedelta(minutes=10)) == Verdict(
        False, "expired", "This request had already expired; nothing ran.")
    assert cancel(_action(), moment=NOW + timedelta(minutes=10) - timedelta(microseconds=1)) == OK
    assert cancel(_action("DONE"), actor="eve-oid", moment=NOW + timedelta(days=1)).reason == "not_requester"
    assert cancel(_action("DONE"), moment=NOW + timedelta(days=1), chat="x").reason == "other_conversation"
    assert cancel(_action("DONE"), moment=NOW + timedelta(days=1)).reason == "already_decided"


# -- lifecycle ------------------------------------------------------------------------------------------
def test_the_lifecycle_is_exactly_this_table() -> None:
    allowed = {
        ("PROPOSED", "AWAITING"), ("PROPOSED", "CANCELLED"), ("PROPOSED", "EXPIRED"),
        ("AWAITING", "CONFIRMED"), ("AWAITING", "CANCELLED"), ("AWAITING", "EXPIRED"),
        ("CONFIRMED", "EXECUTING"), ("CONFIRMED", "CANCELLED"), ("CONFIRMED", "EXPIRED"), ("CONFIRMED", "FAILED"),
        ("EXECUTING", "DONE"), ("EXECUTING", "FAILED"), ("EXECUTING", "UNKNOWN"),
        ("UNKNOWN", "DONE"), ("UNKNOWN", "FAILED"),  # settled later from the directory audit, never re-sent
    }
    assert len(gate.LIFECYCLE) == 9 and "UNKNOWN" in gate.LIFECYCLE
    states = [*gate.LIFECYCLE, "PAUSED"]  # text that names no state moves nowhere, and nothing moves to it
    assert {(a, b) for a in states for b in states if gate.may_move(a, b)} == allowed
    assert {"DONE", "FAILED", "CANCELLED", "EXPIRED"} == gate.FINAL_STATES
    assert gate.OPEN_STATES == ("PROPOSED", "AWAITING")


# -- typed answers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", sorted(YES_WORDS | NO_WORDS))
def test_every_answer_word_is_understood_with_trailing_punctuation_and_case(word: str) -> None:
    expected = "yes" if word in YES_WORDS else "no"
    assert gate.typed_answer(word) == expected
    assert gate.typed_answer(f"\t{word.upper()}!.\r\n") == expected


def test_the_answer_words_are_exactly_these() -> None:
    assert {"yes", "y", "confirm", "confirmed", "approve", "approved", "yes please", "yes, do it",
                         "go ahead", "do it"} == YES_WORDS
    assert {"no", "n", "cancel", "stop", "abort", "no thanks", "no, cancel", "don't", "dont"} == NO_WORDS


@pytest.mark.parametrize("text", ["yes?", "ye s", "yes," + " " * 30 + "do it", "ja", "oui", "👍"])
def test_anything_else_is_not_an_answer(text: str) -> None:
    assert gate.typed_answer(text) is None


def test_an_answer_is_at_most_20_characters_after_trimming() -> None:
    assert gate.typed_answer("  yes  ") == "yes"  # trimmed first, then measured
    assert gate.typed_answer("no" + "!" * 30) == "no"  # trailing punctuation does not count


def test_the_question_when_several_actions_wait_lists_them_in_order() -> None:
    one, two = _action(), _action(id="a2", summary="Remove SPE_E5 from ben@contoso.com")
    target = gate.pick_target([one, two])
    assert target == Target(None, (one, two)) and target.ambiguous
    assert gate.which_one(target.waiting) == (
        "2 changes are waiting for your decision, so a typed answer is ambiguous. Use the Confirm or Cancel button "
        "on the card you mean, or type the code it shows (“yes 123456”):\n"
        f"1. {SUMMARY}\n2. Remove SPE_E5 from ben@contoso.com")
    assert gate.pick_target([one]) == Target(one, (one,)) and not gate.pick_target([one]).ambiguous


# -- policy -----------------------------------------------------------------------------------------------
def test_requesters_match_names_and_groups_case_blind_and_only_enabled() -> None:
    doug = Person("d", "Doug@Contoso.com", "Doug", True, frozenset({"HelpDesk@contoso.com", "other@contoso.com"}))
    assert gate.may_use_tools(doug, ["doug@contoso.COM"], []) is True
    assert gate.may_use_tools(doug, [], ["helpdesk@CONTOSO.com"]) is True
    assert gate.may_use_tools(doug, ["eve@contoso.com"], ["finance@contoso.com"]) is False
    assert gate.may_use_tools(replace(doug, enabled=False), ["doug@contoso.com"], ["helpdesk@contoso.com"]) is False


def test_reviewers_are_matched_case_blind() -> None:
    assert gate.may_review_all(EVE, ["EVE@CONTOSO.COM"]) is True
    assert gate.may_review_all(EVE, ["doug@contoso.com"]) is False and gate.may_review_all(EVE, []) is False


def test_the_aid_is_a_protected_target_in_any_case_and_only_by_user() -> None:
    sentence = "I don't change my own account, licenses or groups; an administrator must do that."
    assert gate.protected_target({"user": "Aid@Contoso.com"}, "aid@contoso.com") == sentence
    assert gate.protected_target({"group": "aid@contoso.com"}, "aid@contoso.com") is None
    assert gate.protected_target({"user": 42}, "aid@contoso.com") is None
    assert gate.protected_target({"user": ""}, "") is None  # no Aid UPN known: nothing matches by accident


# -- cards ------------------------------------------------------------------------------------------------
def test_a_card_carries_the_exact_facts() -> None:
    card = gate.card_for(_action(expires_at="2026-11-24T11:10:00+01:00"), DEFAULT_CATALOG["m365_license_assign"])
    assert card == ActionCard(
        action_id="a1", action_hash=HASH, summary=SUMMARY, tool="m365_license_assign",
        target="sarah.lin@contoso.com", graph_operation=DEFAULT_CATALOG["m365_license_assign"].graph_operation,
        expires_at="2026-11-24 10:10:00 UTC",
    )


def test_the_card_target_names_user_and_group_or_whichever_there_is() -> None:
    spec = DEFAULT_CATALOG["m365_group_add_member"]
    both = _action(arguments_json=json.dumps({"group": "finance@contoso.com", "user": "sarah.lin@contoso.com"}))
    assert gate.card_for(both, spec).target == "sarah.lin@contoso.com in finance@contoso.com"
    group = _action(arguments_json=json.dumps({"group": "finance@contoso.com"}))
    assert gate.card_for(group, DEFAULT_CATALOG["m365_group_members"]).target == "finance@contoso.com"
    nobody = _action(arguments_json="{}")
    assert gate.card_for(nobody, DEFAULT_CATALOG["m365_license_list"]).target == "-"


def test_an_approval_card_says_who_asked_and_waits_for_approval() -> None:
    spec = DEFAULT_CATALOG["m365_license_assign"]
    card = gate.approval_card(_action(), spec)
    assert card == replace(gate.card_for(_action(), spec), status="approval",
                           status_line="Requested and confirmed by doug@contoso.com; needs your approval.")
    assert gate.approval_card(_action(requester_upn=None), spec).status_line.startswith("Requested and confirmed by "
                                                                                         "doug-oid;")


@pytest.mark.parametrize("status", ["confirmed", "cancelled", "expired", "done", "failed", "waiting", "unknown"])
def test_a_decided_card_keeps_its_facts_and_takes_the_decision(status: str) -> None:
    card = gate.card_for(_action(), DEFAULT_CATALOG["m365_license_assign"])
    line = "by Doug at 10:00"
    assert gate.decided(card, status, line) == replace(card, status=status, status_line=line)


@pytest.mark.parametrize("status", ["awaiting", "approval", "checking", ""])
def test_a_card_cannot_be_decided_into_a_waiting_or_unknown_status(status: str) -> None:
    card = gate.card_for(_action(), DEFAULT_CATALOG["m365_license_assign"])
    with pytest.raises(ValueError, match="unknown card status"):
        gate.decided(card, status, "")


def test_the_card_titles_are_these() -> None:
    assert STATUS_TITLES == {
        "awaiting": "Waiting for your confirmation", "confirmed": "Confirmed", "cancelled": "Cancelled",
        "expired": "Expired", "done": "Done", "failed": "Failed", "waiting": "Confirmed; waiting for a second approver",
        "approval": "Second approval needed", "unknown": "Outcome being checked",
    }


# -- the action hash ------------------------------------------------------------------------------------------
def test_the_action_hash_is_sha256_of_this_exact_json() -> None:
    arguments = {"user": "jürgen@contoso.com", "sku": "E3"}
    blob = '{"arguments":{"sku":"E3","user":"jürgen@contoso.com"},"summary":"Give E3","tool":"m365_license_assign"}'
    assert gate.action_hash("m365_license_assign", arguments, "Give E3") == hashlib.sha256(blob.encode()).hexdigest()
    assert gate.canonical_arguments(arguments) == '{"sku":"E3","user":"jürgen@contoso.com"}'
