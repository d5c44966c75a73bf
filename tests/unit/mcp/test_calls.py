"""MCP tool calls over the real use case (SQLCipher ledger, fake Graph): what an agent can and cannot do."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.catalog import DEFAULT_CATALOG, REPLY_TOOL
from appliance.gate import card_payload
from appliance.mcp import AidCalls, McpCaller, mcp_tools
from appliance.mcp.tools import CHAT_ONLY
from appliance.orchestrator import CatalogRequests
from appliance_dev.testing.outbox import RecordingOutbox
from tests.unit.orchestrator.conftest import DOUG, EVE, MALLORY, Aid

DOUG_CHAT, EVE_CHAT = f"teams://msg/{DOUG.object_id}", f"teams://msg/{EVE.object_id}"
AGENT = McpCaller(DOUG.object_id, "11111111-2222-3333-4444-555555555555", "openclaw", "1.2.3")


@pytest.fixture
async def calls(aid: Aid) -> tuple[AidCalls, dict[str, RecordingOutbox]]:
    outboxes = {DOUG_CHAT: RecordingOutbox(), EVE_CHAT: RecordingOutbox()}
    await aid.ledger.save_reference(DOUG_CHAT, "{}", DOUG.object_id)
    await aid.ledger.save_reference(EVE_CHAT, "{}", EVE.object_id)

    async def outbox_for(conversation_ref: str) -> RecordingOutbox | None:
        return outboxes.get(conversation_ref)

    aid.connect(outbox_for)
    requests = CatalogRequests(catalog=DEFAULT_CATALOG, ledger=aid.ledger, tools=aid.tools, directory=aid.directory,
                               policy=aid.handler.policy, clock=aid.clock, outbox_for=outbox_for)
    return AidCalls(requests), outboxes


def _text(result: Any) -> str:
    return " ".join(block.text for block in result.content)


def test_the_tools_are_the_catalog_minus_reply_plus_status_and_pending() -> None:
    names = [tool.name for tool in mcp_tools(DEFAULT_CATALOG)]
    assert REPLY_TOOL in CHAT_ONLY and names[-2:] == ["action_status", "pending_actions"]
    assert set(names[:-2]) == set(DEFAULT_CATALOG) - CHAT_ONLY
    assign = next(t for t in mcp_tools(DEFAULT_CATALOG) if t.name == "m365_license_assign")
    assert assign.input_schema == DEFAULT_CATALOG["m365_license_assign"].arguments_schema()
    assert assign.annotations is not None and assign.annotations.destructive_hint
    assert "only that person can confirm" in (assign.description or "").casefold()
    assert not any(t.name == "confirm" or t.name.startswith("confirm") for t in mcp_tools(DEFAULT_CATALOG))


def test_the_orchestrator_names_the_client_and_its_app_with_only_plain_characters() -> None:
    assert AGENT.orchestrator == "MCP client openclaw 1.2.3 (app 11111111-2222-3333-4444-555555555555)"
    odd = McpCaller("oid", "app\n\u202e", "evil\u0000name\nRequestedBy: x" + "y" * 200, "")
    assert "\n" not in odd.orchestrator and "\u202e" not in odd.orchestrator and len(odd.orchestrator) < 120


async def test_a_read_returns_its_result(calls: Any, aid: Aid) -> None:
    aid_calls, outboxes = calls
    result = await aid_calls.call(AGENT, "m365_user_get", {"user": "sarah.lin@contoso.com"})
    assert not result.is_error and result.structured_content["status"] == "done"
    assert result.structured_content["result"] == {"outcome": "done"} and not outboxes[DOUG_CHAT].cards


async def test_a_change_only_proposes_and_its_card_goes_to_the_requesters_teams_chat(calls: Any, aid: Aid) -> None:
    aid_calls, outboxes = calls
    result = await aid_calls.call(AGENT, "m365_user_disable", {"user": "sarah.lin@contoso.com"})
    shown = result.structured_content
    assert not result.is_error and shown["status"] == "awaiting_confirmation" and aid.tools.runs == []
    action = await aid.ledger.get_action(shown["action_id"])
    assert action is not None and action.state == "AWAITING" and action.orchestrator == AGENT.orchestrator
    assert shown["summary"] == action.summary and shown["expires_at"] == action.expires_at
    assert action.id in _text(result) and "Teams" in _text(result)
    card = next(iter(outboxes[DOUG_CHAT].cards.values()))
    assert card.action_id == action.id and outboxes[EVE_CHAT].cards == {}


async def test_the_agent_cannot_confirm_through_any_argument_or_tool(calls: Any, aid: Aid) -> None:
    aid_calls, _ = calls
    proposed = await aid_calls.call(AGENT, "m365_user_disable", {"user": "sarah.lin@contoso.com"})
    action = await aid.ledger.get_action(proposed.structured_content["action_id"])
    assert action is not None
    attempts = [
        ("m365_user_disable", {"user": "sarah.lin@contoso.com", "confirm": True}),
        ("m365_user_disable", {"user": "sarah.lin@contoso.com", **card_payload("confirm", action.id,
                                                                               action.action_hash)}),
        ("action_status", {"action_id": action.id, "decision": "confirm", "action_hash": action.action_hash}),
        ("confirm", {"action_id": action.id, "action_hash": action.action_hash}),
        ("pending_actions", {"confirm": action.id}),
    ]
    for name, arguments in attempts:
        result = await aid_calls.call(AGENT, name, arguments)
        assert result.is_error, (name, arguments)
    after = await aid.ledger.get_action(action.id)
    assert after is not None and after.state == "AWAITING" and aid.tools.runs == []


async def test_status_of_a_forged_or_someone_elses_action_reveals_nothing(calls: Any, aid: Aid) -> None:
    aid_calls, _ = calls
    eves = await aid_calls.call(McpCaller(EVE.object_id, "app"), "m365_user_disable", {"user": "jo.kim@contoso.com"})
    eve_action = eves.structured_content["action_id"]
    for forged in (eve_action, "00000000-0000-0000-0000-000000000000", "../../etc", "x" * 65):
        result = await aid_calls.call(AGENT, "action_status", {"action_id": forged})
        assert result.is_error and eve_action not in _text(result)
    mine = await aid_calls.call(AGENT, "pending_actions", {})
    assert mine.structured_content == {"actions": []}


async def test_a_person_off_the_requester_list_gets_nothing(calls: Any, aid: Aid) -> None:
    aid_calls, _ = calls
    result = await aid_calls.call(McpCaller(MALLORY.object_id, "app"), "m365_user_get", {"user": "doug@contoso.com"})
    assert result.is_error and "not on the list" in _text(result) and aid.tools.runs == []


async def test_after_the_requester_confirms_in_teams_status_reports_done_with_the_audit_record(
    calls: Any, aid: Aid
) -> None:
    aid_calls, outboxes = calls
    proposed = await aid_calls.call(AGENT, "m365_user_disable", {"user": "sarah.lin@contoso.com"})
    action_id = proposed.structured_content["action_id"]
    card = next(iter(outboxes[DOUG_CHAT].cards.values()))
    await aid.press(DOUG, card_payload("confirm", card.action_id, card.action_hash), outboxes[DOUG_CHAT])
    status = await aid_calls.call(AGENT, "action_status", {"action_id": action_id})
    shown = status.structured_content
    assert shown["state"] == "DONE" and shown["audit_record"]["Outcome"] == "Success"
    assert shown["audit_record"]["Orchestrator"] == AGENT.orchestrator and shown["audit_record"]["AuditEntryId"]
    assert [run[0] for run in aid.tools.runs] == ["m365_user_disable"]
