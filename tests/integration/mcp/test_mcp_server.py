"""The MCP endpoint end to end: the official SDK client over Streamable HTTP -> a real `appliance serve --dev`
(SQLCipher, the gate, msal + msgraph-sdk to the dev tenant) -> the confirmation card in the requester's
own Teams chat (the dev tenant's Teams emulator), confirmed there by the requester, never by the agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from appliance.cli.main import cli
from appliance_dev.devtenant.teams_client import button_data, card_of
from tests.integration.mcp.conftest import DOUG, HANA, MIKE, McpStack

AGENT = types.Implementation(name="e2e-agent", version="4.2.0")


@asynccontextmanager
async def connected(mcp_stack: McpStack, token: str) -> AsyncIterator[Client]:
    """The official SDK client, authenticated with `token`."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, verify=mcp_stack.tls(),
                                  timeout=60.0) as http, \
            Client(streamable_http_client(mcp_stack.url, http_client=http), client_info=AGENT) as client:
        yield client


def _wait_for_card(mcp_stack: McpStack, upn: str, after: int, action_id: str) -> dict[str, Any]:
    teams = mcp_stack.stack.client
    assert teams is not None
    events = teams.wait_for(teams.conversation_of(upn), after, lambda found: any(
        (c := card_of(e)) is not None and (button_data(c, "Confirm") or {}).get("action_id") == action_id
        for e in found))
    return next(c for e in events if (c := card_of(e)) is not None)


async def _status_until(client: Client, action_id: str, done: Any, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = await client.call_tool("action_status", {"action_id": action_id})
        shown: dict[str, Any] = result.structured_content
        if done(shown):
            return shown
        assert time.monotonic() < deadline, f"action_status never reached the expected state: {shown}"
        await asyncio.sleep(0.3)


async def test_tools_and_a_read_only_call(mcp_stack: McpStack) -> None:
    async with connected(mcp_stack, mcp_stack.token(DOUG)) as client:
        listed = await client.list_tools()
        names = [tool.name for tool in listed.tools]
        assert "reply" not in names and {"m365_user_get", "m365_license_assign", "action_status",
                                         "pending_actions"} <= set(names)
        assert not any("confirm" in name for name in names)
        result = await client.call_tool("m365_user_get", {"user": "sarah.lin@contoso.com"})
        assert not result.is_error, result
        assert result.structured_content["result"]["userPrincipalName"] == "sarah.lin@contoso.com"


async def test_a_change_is_confirmed_only_in_the_requesters_teams_chat_then_runs_and_is_audited(
    mcp_stack: McpStack,
) -> None:
    mcp_stack.first_message(DOUG)
    teams = mcp_stack.stack.client
    assert teams is not None
    before = teams.last_seq(teams.conversation_of(DOUG))
    async with connected(mcp_stack, mcp_stack.token(DOUG)) as client:
        proposed = await client.call_tool("m365_user_disable", {"user": "leaver@contoso.com"})
        shown = proposed.structured_content
        assert not proposed.is_error and shown["status"] == "awaiting_confirmation", proposed
        assert shown["summary"] == "Disable the account of leaver@contoso.com (block sign-in)"
        action_id = shown["action_id"]
        card = _wait_for_card(mcp_stack, DOUG, before, action_id)
        assert mcp_stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True  # type: ignore[index]

        confirm = button_data(card, "Confirm")
        assert confirm is not None
        forged = {**confirm, "action_hash": "0" * 64}
        for name, arguments in [  # every MCP surface the agent has, trying to confirm
            ("m365_user_disable", {"user": "leaver@contoso.com", "confirm": True}),
            ("m365_user_disable", {"user": "leaver@contoso.com", **confirm}),
            ("action_status", {"action_id": action_id, "decision": "confirm"}),
            ("action_status", forged),
            ("pending_actions", {"action_id": action_id}),
            ("confirm", {"action_id": action_id, "action_hash": confirm["action_hash"]}),
        ]:
            attempt = await client.call_tool(name, arguments)
            assert attempt.is_error, (name, attempt)
        waiting = (await client.call_tool("pending_actions", {})).structured_content["actions"]
        # The stack is shared with the Inspector tests, which may leave Doug's own earlier proposal waiting.
        assert [a["state"] for a in waiting if a["action_id"] == action_id] == ["AWAITING"]
        assert mcp_stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is True  # type: ignore[index]

        _, pressed = teams.ask(DOUG, value=confirm)  # the requester, in Teams
        assert any(card_of(e) for e in pressed)
        final = await _status_until(client, action_id, lambda s: s["state"] == "DONE"
                                    and (s.get("audit_record") or {}).get("AuditEntryId"))
    assert mcp_stack.tenant.context.state.user("leaver@contoso.com")["accountEnabled"] is False  # type: ignore[index]
    record = final["audit_record"]
    assert record["Outcome"] == "Success" and len(record["Hash"]) == 64
    assert record["Orchestrator"] == "MCP client e2e-agent 4.2.0 (app 11111111-aaaa-4bbb-8ccc-222222222222)"
    entries = [a for a in mcp_stack.tenant.context.state.data["directoryAudits"]
               if a["correlationId"] == record["ClientRequestId"]]
    assert len(entries) == 1 and entries[0]["id"] == record["AuditEntryId"]
    assert record["AuditEntryMatchedBy"] == "correlationId"  # how the join found it, shown to the agent too
    assert entries[0]["initiatedBy"]["user"]["userPrincipalName"] == "aid@contoso.com"


async def test_another_users_action_cannot_be_seen_or_confirmed_by_the_agent(mcp_stack: McpStack) -> None:
    mcp_stack.first_message(HANA)
    async with connected(mcp_stack, mcp_stack.token(HANA)) as hana:
        proposed = await hana.call_tool("m365_user_enable", {"user": "leaver@contoso.com"})
        hanas = proposed.structured_content["action_id"]
    async with connected(mcp_stack, mcp_stack.token(DOUG)) as doug:
        for arguments in ({"action_id": hanas}, {"action_id": "00000000-0000-4000-8000-000000000000"}):
            seen = await doug.call_tool("action_status", arguments)
            assert seen.is_error and "no action with that id" in seen.content[0].text  # type: ignore[union-attr]
    async with connected(mcp_stack, mcp_stack.token(MIKE)) as mike:  # signed in, but not on the requester list
        refused = await mike.call_tool("m365_user_get", {"user": "doug@contoso.com"})
        assert refused.is_error and "not on the list" in refused.content[0].text  # type: ignore[union-attr]


def test_appliance_mcp_token_gives_a_dev_token_the_endpoint_accepts(mcp_stack: McpStack) -> None:
    printed = CliRunner().invoke(cli, ["mcp", "token", "--as", DOUG], env={"APPLIANCE_HOME": str(mcp_stack.stack.home)})
    assert printed.exit_code == 0, printed.output

    async def listed() -> list[str]:
        async with connected(mcp_stack, printed.stdout.strip()) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    assert "action_status" in asyncio.run(listed())


def test_no_chat_with_the_aid_yet_means_nothing_is_proposed(mcp_stack: McpStack) -> None:
    async def propose() -> Any:
        async with connected(mcp_stack, mcp_stack.token("ivo.petrov@contoso.com")) as client:
            return await client.call_tool("m365_user_disable", {"user": "leaver@contoso.com"})

    result = asyncio.run(propose())
    assert result.is_error and "Send the Aid one message in Teams first" in result.content[0].text


def test_bad_tokens_get_401_and_a_token_without_the_scope_403_with_the_resource_metadata(mcp_stack: McpStack) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    import jwt

    claims = jwt.decode(mcp_stack.token(DOUG), options={"verify_signature": False})
    cases = {
        "none": None,
        "garbage": "not-a-jwt",
        "graph audience": mcp_stack.forged(aud="https://graph.microsoft.com"),
        "other tenant": mcp_stack.forged(tid="72f988bf-86f1-41af-91ab-2d7cd011db47"),
        "expired": mcp_stack.forged(exp=int(time.time()) - 600, nbf=int(time.time()) - 4000),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "signed by someone else": jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "stranger"}),
    }
    expected = f'resource_metadata="https://localhost:{mcp_stack.port}/.well-known/oauth-protected-resource/mcp"'
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}
    for label, token in cases.items():
        headers = {"Accept": "application/json, text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = httpx.post(mcp_stack.url, json=body, headers=headers, verify=mcp_stack.tls(), timeout=15.0)
        assert response.status_code == 401, label
        challenge = response.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer ") and expected in challenge, (label, challenge)
    scopeless = {"Authorization": f"Bearer {mcp_stack.forged(scp='User.Read')}",
                 "Accept": "application/json, text/event-stream"}
    no_scope = httpx.post(mcp_stack.url, json=body, verify=mcp_stack.tls(), timeout=15.0, headers=scopeless)
    challenge = no_scope.headers.get("WWW-Authenticate", "")
    assert no_scope.status_code == 403 and 'error="insufficient_scope"' in challenge and expected in challenge
    assert "api://aidizen-mcp/Aid.Request" in challenge
    ok = httpx.post(mcp_stack.url, json=body, verify=mcp_stack.tls(), timeout=15.0, headers={
        "Authorization": f"Bearer {mcp_stack.token(DOUG, version=1)}", "Accept": "application/json, text/event-stream"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
def test_protected_resource_metadata_names_the_tenants_entra(mcp_stack: McpStack, path: str) -> None:
    response = httpx.get(f"https://localhost:{mcp_stack.port}{path}", verify=mcp_stack.tls(), timeout=15.0)
    metadata = response.json()
    tenant = mcp_stack.tenant.context.state.tenant_id
    assert response.status_code == 200 and metadata["resource"] == mcp_stack.url
    assert metadata["authorization_servers"] == [f"https://login.microsoftonline.com/{tenant}/v2.0"]
    assert metadata["scopes_supported"] == ["api://aidizen-mcp/Aid.Request"]
    assert metadata["bearer_methods_supported"] == ["header"]


def test_the_ops_log_and_stderr_hold_no_personal_data_after_mcp_calls(mcp_stack: McpStack) -> None:
    """Runs last in this package: everything the MCP calls above wrote to the ops log and to stderr."""
    log = (mcp_stack.stack.home / "logs" / "ops.jsonl").read_text(encoding="utf-8")
    stderr = mcp_stack.stack.log_path.read_text(encoding="utf-8")
    assert "mcp.call" in log and "mcp.unauthorized" in log and "MCP: listening" in stderr
    for canary in ("sarah.lin", "contoso.com", "leaver", "Disable the account", "doug", "hana", "eyJ", "e2e-agent",
                   "Bearer "):
        assert canary not in log, canary
        assert canary not in stderr, canary
