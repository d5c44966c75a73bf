"""Every action ends in a hash-chained record, not only those that ran: cancelled, expired, refused
answers and refused requests too; none of them waits for (or is shown as pending) an M365 entry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from appliance.audit import chat_answer
from appliance.gate import card_payload
from appliance.store import TenantStore, audit_records
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, MALLORY, Aid, ops_events


async def _records(aid: Aid) -> list[dict[str, Any]]:
    return await aid.ledger.audit_records(since=aid.clock() - timedelta(days=1), requested_by=None, tool=None,
                                          limit=100)


def _no_graph(record: dict[str, Any]) -> None:
    assert record["ClientRequestId"] is None and record["M365Entry"] == "none expected"


async def test_a_cancelled_action_leaves_a_record_and_nothing_waits_for_m365(aid: Aid, store: TenantStore) -> None:
    outbox = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", outbox)
    (card,) = outbox.cards.values()
    await aid.press(DOUG, card_payload("cancel", card.action_id, card.action_hash), outbox)
    (record,) = await _records(aid)
    assert record["Outcome"] == "Cancelled" and record["ActionId"] == card.action_id and record["ToolName"] == (
        "m365_license_assign")
    assert record["RequestedBy"] == "doug@contoso.com" and record["Hash"]
    _no_graph(record)
    assert await aid.ledger.records_missing_entry(10) == []
    assert "M365 entry none expected" in chat_answer([record], days=1, everyone=True)
    assert store.run(audit_records.verify).ok


async def test_an_expired_action_leaves_one_record_whether_upkeep_or_a_late_press_finds_it(aid: Aid) -> None:
    first, second = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", first)
    await aid.say(DOUG, "disable ben@contoso.com", second, conversation="teams://msg/other")
    (late_card,) = second.cards.values()
    aid.clock.advance(minutes=11)
    assert await aid.handler.executor.expire_due(lambda ref: _none()) == 2
    await aid.press(DOUG, card_payload("confirm", late_card.action_id, late_card.action_hash), second,
                    conversation="teams://msg/other")  # on the card, in the chat it was asked in
    records = await _records(aid)
    assert [r["Outcome"] for r in records] == ["Expired", "Expired", "Refused"]
    assert records[2]["Reason"] == "already_decided"  # the late press: refused, recorded, nothing ran
    for record in records:
        _no_graph(record)
    assert aid.tools.runs == []


async def test_refused_answers_and_refused_requests_are_recorded(aid: Aid, store: TenantStore) -> None:
    doug, eve, mallory = RecordingOutbox(), RecordingOutbox(), RecordingOutbox()
    await aid.say(MALLORY, "disable doug@contoso.com", mallory)  # not a requester
    await aid.say(DOUG, "disable aid@contoso.com", doug)  # the Aid's own account
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug)
    (card,) = doug.cards.values()
    await aid.press(EVE, card_payload("confirm", card.action_id, card.action_hash), eve)  # someone else's card
    records = await _records(aid)
    assert [(r["RecordKind"], r["Reason"]) for r in records] == [
        ("refusal", "not_a_requester"), ("refusal", "protected_target"), ("action", "not_requester")]
    assert records[0]["RequestedBy"] == "mallory@contoso.com" and records[0]["ToolName"] == "(none)"
    assert records[1]["ToolName"] == "m365_user_disable" and records[1]["Arguments"] == {"user": "aid@contoso.com"}
    assert records[2]["ActorObjectId"] == EVE.object_id and records[2]["RequestedBy"] == "doug@contoso.com"
    for record in records:
        assert record["Outcome"] == "Refused"
        _no_graph(record)
    assert aid.tools.runs == [] and store.run(audit_records.verify).ok


async def _none() -> None:
    return None


async def test_a_press_on_a_card_past_its_expiry_closes_it_as_expired_before_upkeep_does(
    aid: Aid, ops: pytest.LogCaptureFixture
) -> None:
    """The requester's own press finds the action expired (no upkeep ran yet): the action ends Expired,
    recorded and logged with its tool, and nothing runs."""
    doug = RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug)
    (card,) = doug.cards.values()
    aid.clock.advance(minutes=11)
    await aid.press(DOUG, card_payload("confirm", card.action_id, card.action_hash), doug)
    (record,) = await _records(aid)
    assert record["Outcome"] == "Expired" and record["ActionId"] == card.action_id
    assert record["ToolName"] == "m365_license_assign"
    _no_graph(record)
    assert ("action.expired", {"tool": "m365_license_assign", "action": card.action_id}) in ops_events(ops)
    assert aid.tools.runs == []


async def test_a_cancel_pressed_by_someone_else_is_recorded_with_who_pressed_and_why(aid: Aid) -> None:
    doug, eve = RecordingOutbox(), RecordingOutbox()
    await aid.say(DOUG, "assign E3 to sarah.lin@contoso.com", doug)
    (card,) = doug.cards.values()
    await aid.press(EVE, card_payload("cancel", card.action_id, card.action_hash), eve)
    (refusal,) = await _records(aid)
    assert (refusal["Outcome"], refusal["Reason"], refusal["ActionId"]) == ("Refused", "not_requester", card.action_id)
    assert refusal["ActorObjectId"] == EVE.object_id and refusal["RequestedBy"] == "doug@contoso.com"
    await aid.press(DOUG, card_payload("cancel", card.action_id, card.action_hash), doug)
    records = await _records(aid)
    assert [r["Outcome"] for r in records] == ["Refused", "Cancelled"]
    assert records[1]["ActorObjectId"] == DOUG.object_id and aid.tools.runs == []
