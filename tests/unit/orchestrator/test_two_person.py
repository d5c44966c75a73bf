"""The two-person rule: the requester confirms, then an approver (never the requester) approves the
exact action, in time, once; the outcome goes to the requester; a decline cancels."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.gate import card_payload
from appliance.types import ActionCard
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, MALLORY, Aid, yes

REQUEST = "disable ben@contoso.com"


@pytest.fixture
async def chats(aid: Aid) -> dict[str, RecordingOutbox]:
    """Two-person rule on for m365_user_disable, Eve the approver; each person's chat is reachable."""
    aid.with_policy(two_person_tools=("m365_user_disable",), approvers=("eve@contoso.com", "mallory@contoso.com"))
    outboxes = {f"teams://msg/{p.object_id}": RecordingOutbox() for p in (DOUG, EVE, MALLORY)}
    for ref, person in zip(outboxes, (DOUG, EVE, MALLORY), strict=True):
        await aid.ledger.save_reference(ref, "{}", person.object_id)

    async def outbox_for(conversation_ref: str) -> RecordingOutbox | None:
        return outboxes.get(conversation_ref)

    aid.connect(outbox_for)
    return {"doug": outboxes[f"teams://msg/{DOUG.object_id}"], "eve": outboxes[f"teams://msg/{EVE.object_id}"],
            "mallory": outboxes[f"teams://msg/{MALLORY.object_id}"]}


def _press(card: ActionCard, decision: str, **override: Any) -> dict[str, Any]:
    return {**card_payload(decision, card.action_id, card.action_hash), **override}


async def _proposed_and_confirmed(aid: Aid, chats: dict[str, RecordingOutbox]) -> ActionCard:
    await aid.say(DOUG, REQUEST, chats["doug"])
    card = next(iter(chats["doug"].cards.values()))
    await aid.say(DOUG, yes(chats["doug"]), chats["doug"])
    return card


async def test_the_requesters_confirmation_alone_runs_nothing_and_asks_the_approvers(
    aid: Aid, chats: dict[str, RecordingOutbox]
) -> None:
    card = await _proposed_and_confirmed(aid, chats)
    assert aid.tools.runs == [] and "second approver" in chats["doug"].last
    assert chats["doug"].updates[-1][1].status == "waiting"
    approval = next(iter(chats["eve"].cards.values()))
    assert approval.status == "approval" and approval.action_hash == card.action_hash
    action = await aid.ledger.get_action(card.action_id)
    assert action is not None and action.state == "AWAITING" and action.requester_confirmed_at


async def test_an_approval_runs_it_once_and_the_requester_gets_the_outcome(
    aid: Aid, chats: dict[str, RecordingOutbox]
) -> None:
    card = await _proposed_and_confirmed(aid, chats)
    await aid.press(EVE, _press(card, "approve"), chats["eve"])
    await aid.press(MALLORY, _press(card, "approve"), chats["mallory"])  # a second approver, too late
    assert [run[0] for run in aid.tools.runs] == ["m365_user_disable"]
    assert "m365_user_disable done" in chats["doug"].last and "Running it now" in chats["eve"].last
    assert "already" in chats["mallory"].last
    records = await aid.ledger.audit_records(since=aid.clock().replace(year=2000), requested_by=None, tool=None,
                                             limit=5)
    record, late = records[-2:]  # the action's record, then the late approval's refusal (audit completeness)
    assert late["Outcome"] == "Refused" and late["Reason"] == "already_decided"
    assert late["ActorObjectId"] == MALLORY.object_id
    assert record["ConfirmedBy"] == DOUG.object_id and record["SecondApprovedBy"] == "eve@contoso.com"
    assert record["SecondApprovedAt"] and record["ConfirmedAt"]


async def test_the_requester_cannot_approve_their_own_change(aid: Aid, chats: dict[str, RecordingOutbox]) -> None:
    aid.with_policy(approvers=(*aid.handler.policy.approvers, "doug@contoso.com"))
    card = await _proposed_and_confirmed(aid, chats)
    await aid.press(DOUG, _press(card, "approve"), chats["doug"])
    assert aid.tools.runs == [] and "cannot also give the second approval" in chats["doug"].last


async def test_an_approval_before_the_requester_confirmed_or_with_another_hash_runs_nothing(
    aid: Aid, chats: dict[str, RecordingOutbox]
) -> None:
    await aid.say(DOUG, REQUEST, chats["doug"])
    card = next(iter(chats["doug"].cards.values()))
    await aid.press(EVE, _press(card, "approve"), chats["eve"])
    assert "has not confirmed" in chats["eve"].last
    await aid.say(DOUG, yes(chats["doug"]), chats["doug"])
    await aid.press(EVE, _press(card, "approve", action_hash="f" * 64), chats["eve"])
    assert aid.tools.runs == [] and "does not match" in chats["eve"].last


async def test_someone_who_is_not_an_approver_cannot_approve(aid: Aid, chats: dict[str, RecordingOutbox]) -> None:
    aid.with_policy(approvers=("eve@contoso.com",))
    card = await _proposed_and_confirmed(aid, chats)
    await aid.press(MALLORY, _press(card, "approve"), chats["mallory"])
    assert aid.tools.runs == [] and "not one of the approvers" in chats["mallory"].last


async def test_a_decline_cancels_and_tells_the_requester(aid: Aid, chats: dict[str, RecordingOutbox]) -> None:
    card = await _proposed_and_confirmed(aid, chats)
    await aid.press(EVE, _press(card, "decline"), chats["eve"])
    action = await aid.ledger.get_action(card.action_id)
    assert action is not None and action.state == "CANCELLED" and aid.tools.runs == []
    assert "declined" in chats["doug"].last and chats["doug"].updates[-1][1].status == "cancelled"


async def test_an_approval_after_expiry_runs_nothing(aid: Aid, chats: dict[str, RecordingOutbox]) -> None:
    card = await _proposed_and_confirmed(aid, chats)
    aid.clock.advance(minutes=11)
    await aid.press(EVE, _press(card, "approve"), chats["eve"])
    assert aid.tools.runs == [] and "expired" in chats["eve"].last


async def test_an_approval_counts_only_in_the_approvers_own_chat(aid: Aid, chats: dict[str, RecordingOutbox]) -> None:
    """Issue 15, item 3: an approval sent into any other conversation (the requester's, a forged one) runs
    nothing; the approver's card is in the approver's 1:1 chat."""
    card = await _proposed_and_confirmed(aid, chats)
    forged = RecordingOutbox()
    for conversation in (f"teams://msg/{DOUG.object_id}", "teams://msg/forged"):
        await aid.press(EVE, _press(card, "approve"), forged, conversation=conversation)
        assert "your own chat" in forged.last
    assert aid.tools.runs == []
    await aid.press(EVE, _press(card, "approve"), chats["eve"])
    assert [run[0] for run in aid.tools.runs] == ["m365_user_disable"]
