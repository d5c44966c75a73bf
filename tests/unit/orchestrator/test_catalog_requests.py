"""`CatalogRequests` with no Teams turn at all: the channel-free use case any channel (MCP, later ones) calls."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.errors import ApplianceError
from appliance.orchestrator import CatalogRequest, CatalogRequests
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, MALLORY, Aid

DOUG_CHAT = f"teams://msg/{DOUG.object_id}"


@pytest.fixture
async def use_case(aid: Aid) -> tuple[CatalogRequests, dict[str, RecordingOutbox]]:
    """The use case as wiring builds it: the chats' outboxes injected at construction (Doug's chat is known)."""
    outboxes = {DOUG_CHAT: RecordingOutbox()}
    await aid.ledger.save_reference(DOUG_CHAT, "{}", DOUG.object_id)

    async def outbox_for(conversation_ref: str) -> RecordingOutbox | None:
        return outboxes.get(conversation_ref)

    requests = CatalogRequests(catalog=aid.handler.catalog, ledger=aid.ledger, tools=aid.tools,
                               directory=aid.directory, policy=aid.handler.policy, clock=aid.clock,
                               outbox_for=outbox_for)
    return requests, outboxes


def _ask(tool: str, person: Any = DOUG, **arguments: Any) -> CatalogRequest:
    return CatalogRequest(requester=person, tool=tool, arguments=arguments, orchestrator="agent X",
                          user_text=f"{tool} {arguments}", remember=False)


async def test_admission_is_the_requester_list(use_case: tuple[CatalogRequests, Any]) -> None:
    requests, _ = use_case
    assert (await requests.admit(DOUG.object_id)).person == DOUG
    refused = await requests.admit(MALLORY.object_id)
    assert refused.person is None and "not on the list" in refused.refusal
    assert "can't find an enabled account" in (await requests.admit("nobody-oid")).refusal


async def test_a_read_returns_the_minimal_result_and_writes_no_conversation(aid: Aid, use_case: Any) -> None:
    requests, outboxes = use_case
    answer = await requests.ask(_ask("m365_user_get", user="sarah.lin@contoso.com"))
    assert answer.kind == "read" and answer.result == {"outcome": "done"} and answer.message == "m365_user_get done"
    assert await aid.ledger.context(DOUG_CHAT, 10) == [] and not outboxes[DOUG_CHAT].cards


async def test_a_change_becomes_a_pending_action_with_its_card_in_the_requesters_own_chat(aid: Aid,
                                                                                         use_case: Any) -> None:
    requests, outboxes = use_case
    answer = await requests.ask(_ask("m365_license_assign", user="sarah.lin@contoso.com", sku="ENTERPRISEPACK"))
    assert answer.kind == "pending" and answer.action is not None and answer.card_shown
    assert aid.tools.runs == []  # nothing ran
    action = answer.action
    assert action.state == "AWAITING" and action.conversation_ref == DOUG_CHAT and action.orchestrator == "agent X"
    card_id, card = next(iter(outboxes[DOUG_CHAT].cards.items()))
    assert card.action_id == action.id and card.summary == action.summary and action.card_activity_id == card_id


async def test_without_a_known_chat_nothing_is_proposed(aid: Aid, use_case: Any) -> None:
    requests, _ = use_case
    answer = await requests.ask(_ask("m365_user_disable", person=EVE, user="sarah.lin@contoso.com"))
    assert answer.kind == "no_chat"
    assert "Send the Aid one message in Teams first" in answer.message
    assert await aid.ledger.actions_in_state("AWAITING") == []


async def test_the_aids_own_account_is_refused_and_reply_is_not_a_request(use_case: Any) -> None:
    requests, _ = use_case
    assert (await requests.ask(_ask("m365_user_disable", user="aid@contoso.com"))).kind == "refused"
    assert (await requests.ask(_ask("reply", intent="greeting", about="none"))).kind == "refused"
    with pytest.raises(ApplianceError):
        await requests.ask(_ask("m365_user_disable", user="sarah.lin@contoso.com", confirm=True))


async def test_status_and_waiting_show_only_the_requesters_own(aid: Aid, use_case: Any) -> None:
    requests, _ = use_case
    answer = await requests.ask(_ask("m365_user_disable", user="sarah.lin@contoso.com"))
    assert answer.action is not None
    assert await requests.status(DOUG.object_id, answer.action.id) is not None
    assert await requests.status(EVE.object_id, answer.action.id) is None
    assert [a.id for a in await requests.waiting(DOUG.object_id)] == [answer.action.id]
    assert await requests.waiting(EVE.object_id) == []
