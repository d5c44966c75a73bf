"""The use case end to end over a real SQLCipher ledger: read-only at once, changes only after the
requester's confirmation, once, with an audit record; every gate rule seen from the chat."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from appliance.errors import ApplianceError
from appliance.gate import card_payload
from appliance.types import ActionCard, Turn
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, MALLORY, Aid, yes


def _press(card: ActionCard, decision: str = "confirm", **override: Any) -> dict[str, Any]:
    return {**card_payload(decision, card.action_id, card.action_hash), **override}


def _only_card(outbox: RecordingOutbox) -> tuple[str, ActionCard]:
    assert len(outbox.cards) == 1, outbox.said
    return next(iter(outbox.cards.items()))


async def test_a_read_only_tool_runs_at_once(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "who is sarah.lin@contoso.com", outbox)
    assert [run[0] for run in aid.tools.runs] == ["m365_user_get"]
    assert outbox.last == "m365_user_get done" and outbox.typing_count == 1 and not outbox.cards
    context = await aid.ledger.context(f"teams://msg/{DOUG.object_id}", 10)
    assert [m.role for m in context] == ["user", "tool"]
    assert context[1].text == "m365_user_get(user=sarah.lin@contoso.com) -> done"


async def test_a_change_waits_for_confirmation_then_runs_once_with_an_audit_record(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    assert aid.tools.runs == []
    card_id, card = _only_card(outbox)
    assert card.summary == "Assign ENTERPRISEPACK to sarah.lin@contoso.com" and card.status == "awaiting"
    await aid.press(DOUG, _press(card), outbox)
    assert [run[0] for run in aid.tools.runs] == ["m365_license_assign"]
    assert [c.status for _, c in outbox.updates] == ["confirmed", "done"]
    assert outbox.cards[card_id].status == "done" and "audit record" in outbox.last
    records = await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                             limit=10)
    assert len(records) == 1
    record = records[0]
    assert record["RequestedBy"] == "doug@contoso.com" and record["Outcome"] == "Success"
    assert record["ClientRequestId"] == aid.tools.runs[0][2] and record["AuditEntryId"].startswith("Directory_")
    assert record["ConfirmedAt"] == aid.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert record["Orchestrator"] == "scripted-test-engine"
    await aid.press(DOUG, _press(card), outbox)  # a replayed button press
    assert len(aid.tools.runs) == 1 and "already carried out" in outbox.last


async def test_another_person_cannot_confirm(aid: Aid) -> None:
    doug_chat, eve_chat = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug_chat)
    _, card = _only_card(doug_chat)
    await aid.press(EVE, _press(card), eve_chat)
    await aid.press(EVE, _press(card), eve_chat, conversation=f"teams://msg/{DOUG.object_id}")  # in Doug's chat
    await aid.say(EVE, "yes", eve_chat)
    await aid.say(EVE, yes(doug_chat), eve_chat)  # even with the code
    assert aid.tools.runs == [] and eve_chat.said[:2] == [eve_chat.said[0]] * 2
    assert "Only the person who asked" in eve_chat.said[0]
    assert eve_chat.said[2:] == ["Nothing is waiting for your confirmation in this chat."] * 2
    action = await aid.ledger.get_action(card.action_id)
    assert action is not None and action.state == "AWAITING"


async def test_a_confirmation_with_another_hash_runs_nothing(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    _, card = _only_card(outbox)
    await aid.press(DOUG, _press(card, action_hash="0" * 64), outbox)
    assert aid.tools.runs == [] and "does not match" in outbox.last


async def test_a_malformed_card_submission_changes_nothing(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    _, card = _only_card(outbox)
    for bad in ({"kind": "aidizen.decision", "decision": "confirm"}, {"x": 1},
                _press(card, action_id="../etc"), _press(card, decision="force")):
        await aid.press(DOUG, bad, outbox)
        assert outbox.last == "That button press was not understood; nothing was changed."
    assert aid.tools.runs == []


async def test_expired_actions_cannot_be_confirmed(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    card_id, card = _only_card(outbox)
    aid.clock.advance(minutes=11)
    await aid.say(DOUG, yes(outbox), outbox)
    await aid.press(DOUG, _press(card), outbox)
    assert aid.tools.runs == [] and outbox.cards[card_id].status == "expired"


async def test_typed_yes_confirms_the_only_waiting_action_and_no_cancels(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    await aid.say(DOUG, f"Yes! {yes(outbox).split()[1]}", outbox)
    assert [run[0] for run in aid.tools.runs] == ["m365_license_assign"]
    await aid.say(DOUG, "disable ben@contoso.com", outbox)
    await aid.say(DOUG, "no", outbox)
    assert len(aid.tools.runs) == 1 and outbox.last.startswith("Cancelled: Disable the account of ben@contoso.com")


async def test_a_new_proposal_does_not_replace_a_waiting_one_and_yes_then_asks_which(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    await aid.say(DOUG, "disable ben@contoso.com", outbox)
    assert len(outbox.cards) == 2 and "nothing was replaced" in outbox.last
    await aid.say(DOUG, "yes", outbox)
    assert aid.tools.runs == [] and "ambiguous" in outbox.last and "Disable the account" in outbox.last
    waiting = await aid.ledger.open_actions(f"teams://msg/{DOUG.object_id}", DOUG.object_id)
    assert len(waiting) == 2
    first_code = next(iter(outbox.cards.values())).confirm_code
    await aid.say(DOUG, f"yes {first_code}", outbox)  # the code names the card
    assert [run[0] for run in aid.tools.runs] == ["m365_license_assign"]


async def test_two_confirmations_at_once_run_the_action_once(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    _, card = _only_card(outbox)
    await asyncio.gather(*(aid.press(DOUG, _press(card), outbox) for _ in range(5)),
                         *(aid.say(DOUG, yes(outbox), outbox) for _ in range(3)))
    assert len(aid.tools.runs) == 1


async def test_a_typed_yes_without_the_cards_code_runs_nothing(aid: Aid) -> None:
    """Issue 15, item 3: a captured channel token lets its holder type "yes" as the requester, but never
    shows them the card; so a typed confirmation must carry the code only the card shows."""
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    _, card = _only_card(outbox)
    assert len(card.confirm_code) == 6 and card.confirm_code.isdigit()
    for blind in ("yes", "Yes!", "confirm", "go ahead"):
        await aid.say(DOUG, blind, outbox)
        assert "add the code shown on the card" in outbox.last
    wrong = f"{(int(card.confirm_code) + 1) % 10**6:06d}"
    await aid.say(DOUG, f"yes {wrong}", outbox)
    assert "not the one on the card" in outbox.last
    assert aid.tools.runs == []
    action = await aid.ledger.get_action(card.action_id)
    assert action is not None and action.state == "AWAITING"
    await aid.say(DOUG, f"yes {card.confirm_code}", outbox)
    assert [run[0] for run in aid.tools.runs] == ["m365_license_assign"]


async def test_a_card_is_decided_only_in_the_chat_that_holds_it(aid: Aid) -> None:
    """Issue 15, item 3: a press (or a cancel) sent into another conversation changes nothing."""
    outbox, elsewhere = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    _, card = _only_card(outbox)
    for decision in ("confirm", "cancel"):
        await aid.press(DOUG, _press(card, decision), elsewhere, conversation="teams://msg/a-forged-chat")
        assert "another chat" in elsewhere.last
    action = await aid.ledger.get_action(card.action_id)
    assert aid.tools.runs == [] and action is not None and action.state == "AWAITING"
    await aid.press(DOUG, _press(card), outbox)
    assert [run[0] for run in aid.tools.runs] == ["m365_license_assign"]


@pytest.mark.parametrize("sender", ["doug@contoso.com", "DOUG@CONTOSO.COM"])
async def test_a_sender_id_that_is_not_the_users_object_id_gets_nothing(aid: Aid, sender: str) -> None:
    """Issue 15, item 3: the directory also resolves UPNs; a UPN in aadObjectId must not stand in for Doug."""
    outbox = RecordingOutbox()
    await aid.handler.handle_turn(Turn(f"teams://msg/{sender}", "act", sender, "Doug", "who is ben@contoso.com"),
                                  outbox)
    assert aid.proposer.seen == [] and aid.tools.runs == [] and "can't find an enabled account" in outbox.last


async def test_people_not_on_the_requester_list_are_refused_before_the_model(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(MALLORY, "assign E3 to mallory@contoso.com", outbox)
    assert aid.proposer.seen == [] and aid.tools.runs == [] and "not on the list" in outbox.last


async def test_the_aid_refuses_to_change_its_own_account(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to aid@contoso.com", outbox)
    assert not outbox.cards and "own account" in outbox.last


async def test_a_model_failure_changes_nothing_and_says_so(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "fail please", outbox)
    assert aid.tools.runs == [] and "nothing was changed" in outbox.last


async def test_oversized_and_empty_messages_get_a_clear_answer(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "x" * 5000, outbox)
    assert "5000 characters" in outbox.last and aid.proposer.seen == []
    await aid.say(DOUG, "   ", outbox)
    assert "text messages" in outbox.last


async def test_a_failed_graph_call_is_recorded_failed(aid: Aid) -> None:
    aid.tools.outcomes["m365_license_assign"] = "failed"
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    await aid.say(DOUG, yes(outbox), outbox)
    action = await aid.ledger.get_action(next(iter(outbox.cards.values())).action_id)
    assert action is not None and action.state == "FAILED"
    records = await aid.ledger.records_missing_entry(10)
    assert records == []  # a failure has no M365 entry to wait for


async def test_audit_query_shows_own_records_and_everything_to_reviewers(aid: Aid) -> None:
    doug, eve = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug)
    await aid.say(DOUG, yes(doug), doug)
    await aid.say(DOUG, "audit please", doug)
    assert "1 audit record(s) for the actions you asked for" in doug.last and "doug@contoso.com" in doug.last
    await aid.say(EVE, "audit please", eve)
    assert "1 audit record(s) for the Aid's actions" in eve.last


async def test_someone_removed_from_the_requesters_after_proposing_cannot_confirm(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    aid.directory.people[DOUG.object_id] = replace(DOUG, group_mails=frozenset())  # left the helpdesk group
    await aid.say(DOUG, yes(outbox), outbox)
    assert aid.tools.runs == [] and "not on the list" in outbox.last


async def test_a_sign_in_problem_on_a_read_is_explained_in_words_for_a_person(
    aid: Aid, monkeypatch: pytest.MonkeyPatch
) -> None:
    class SignInNeeded(ApplianceError):
        teams_message = "My sign-in needs renewing. An administrator has been told."

    async def broken(tool: str, arguments: Any, client_request_id: str) -> Any:
        raise SignInNeeded("refresh token revoked")

    monkeypatch.setattr(aid.tools, "run", broken)
    outbox = RecordingOutbox()
    await aid.say(DOUG, "who is sarah.lin@contoso.com", outbox)
    assert outbox.last == "My sign-in needs renewing. An administrator has been told."


async def test_a_reply_is_a_rendered_intent_never_model_text(aid: Aid) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "please help", outbox)
    assert outbox.said == ["Whose account do you mean? Tell me their name or address."]
    assert not outbox.cards and aid.tools.runs == []


async def test_waiting_changes_are_listed_and_cancelled_for_their_requester_only(aid: Aid) -> None:
    doug, eve = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug)
    await aid.say(DOUG, "disable ben@contoso.com", doug)
    await aid.say(EVE, "disable ben@contoso.com", eve)
    await aid.say(DOUG, "what is waiting for me?", doug)
    assert doug.last.startswith("2 of your changes wait") and "1. Assign ENTERPRISEPACK to sarah.lin" in doug.last
    assert "2. Disable the account of ben@contoso.com" in doug.last

    await aid.say(DOUG, "cancel that", doug)  # the newest one
    assert doug.last == "Cancelled: Disable the account of ben@contoso.com (block sign-in). Nothing was changed."
    await aid.say(DOUG, "what is waiting for me?", doug)
    assert doug.last.startswith("1 of your changes wait") and "Disable" not in doug.last

    await aid.say(DOUG, "cancel all of them", doug)
    await aid.say(DOUG, "what is waiting for me?", doug)
    assert doug.last == "Nothing of yours is waiting for confirmation in this chat."
    await aid.say(DOUG, "cancel all", doug)
    assert doug.last == "Nothing of yours is waiting, so there is nothing to cancel."

    await aid.say(EVE, "what is waiting for me?", eve)  # Eve's own change is untouched by Doug's cancels
    assert eve.last.startswith("1 of your changes wait") and aid.tools.runs == []
