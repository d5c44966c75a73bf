"""`AidCalls`: one MCP `tools/call` from an authenticated person, answered through the channel-free use case.

The person is the token's `oid` (checked against the requester list on every call, like a Teams
user); the proposing orchestrator is the MCP client (its `clientInfo` and the token's client app id),
which is what the audit record's Orchestrator field names. Nothing here can confirm: a state-changing
tool ends as a pending action whose card waits in the requester's Teams chat with the Aid.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import mcp_types as types

from appliance import ops_log
from appliance.errors import ApplianceError
from appliance.mcp.tools import ACTION_ID_PATTERN, ACTION_STATUS, PENDING_ACTIONS
from appliance.orchestrator import Answer, CatalogRequest, CatalogRequests
from appliance.types import PendingAction

LABEL_CHARS = re.compile(r"[^A-Za-z0-9 ._:/@()+-]")
STATES = {
    "AWAITING": "waiting for your confirmation in your Teams chat with the Aid",
    "CONFIRMED": "confirmed; about to run",
    "EXECUTING": "running",
    "DONE": "done",
    "FAILED": "failed or not carried out; nothing more will run",
    "CANCELLED": "cancelled; nothing was changed",
    "EXPIRED": "expired before it was confirmed; nothing was changed",
}
RECORD_FIELDS = ("Hash", "Outcome", "Orchestrator", "ClientRequestId", "AuditEntryId", "AuditEntryMatchedBy",
                 "ExecutedAt", "ConfirmedAt", "ConfirmedBy", "SecondApprovedBy", "Detail")


def _label(text: str | None, limit: int = 64) -> str:
    """A client-supplied name, reduced to plain printable characters (it lands in the audit record)."""
    return LABEL_CHARS.sub("", text or "")[:limit].strip()


@dataclass(frozen=True)
class McpCaller:
    """Who is calling: the person (Entra object id) and the agent they use."""

    object_id: str
    client_app_id: str
    client_name: str = ""
    client_version: str = ""

    @property
    def orchestrator(self) -> str:
        """The audit record's Orchestrator: `MCP client <name> <version> (app <client app id>)`."""
        name = " ".join(p for p in (_label(self.client_name), _label(self.client_version, 32)) if p) or "unnamed"
        return f"MCP client {name} (app {_label(self.client_app_id) or 'unknown'})"


def _result(text: str, structured: dict[str, Any], error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=structured, is_error=error)


def _refusal(text: str, reason: str) -> types.CallToolResult:
    return _result(text, {"status": "refused", "reason": reason, "message": text}, error=True)


def action_view(action: PendingAction) -> dict[str, Any]:
    """An action as its requester may see it."""
    return {
        "action_id": action.id, "tool": action.tool, "summary": action.summary, "state": action.state,
        "status_text": STATES.get(action.state, action.state.lower()), "expires_at": action.expires_at,
        "confirmed_at": action.requester_confirmed_at or action.confirmed_at, "ended_at": action.ended_at,
        "second_approver": action.approver_upn,
    }


def _answer_result(answer: Answer, two_person: bool) -> types.CallToolResult:
    call = {"tool": answer.call.tool, "arguments": answer.call.arguments}
    if answer.kind == "read":
        return _result(answer.message, {"status": "done", **call, "result": answer.result, "message": answer.message})
    if answer.kind == "audit":
        records = [{k: r.get(k) for k in ("ExecutedAt", "ToolName", "ActionSummary", "Outcome", "RequestedBy",
                                         "Orchestrator", "AuditEntryId", "AuditEntryMatchedBy", "Hash")}
                   for r in answer.result["records"]]
        return _result(answer.message, {"status": "done", **call, "records": records})
    if answer.kind == "pending" and answer.action is not None:
        action = answer.action
        approval = " It also needs a second approver after you confirm." if two_person else ""
        text = (f"Not done yet: {action.summary}. A confirmation card was sent to your Teams chat with the Aid; "
                f"only you can confirm it there, before {action.expires_at}.{approval} Nothing runs until then. "
                f"Action id {action.id}: follow it with action_status.")
        if answer.message:
            text += " " + answer.message
        return _result(text, {"status": "awaiting_confirmation", **call, **action_view(action),
                              "confirm_in": "the requester's Teams chat with the Aid", "two_person_rule": two_person,
                              "earlier_waiting": answer.earlier_waiting})
    return _refusal(answer.message, answer.kind)


class AidCalls:
    """Answers `tools/call` for one running appliance."""

    def __init__(self, requests: CatalogRequests) -> None:
        self.requests = requests

    async def call(self, caller: McpCaller, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Run one tool call for `caller` (never raises for a caller's mistake: errors are results)."""
        admission = await self.requests.admit(caller.object_id)
        if admission.person is None:
            ops_log.event("mcp.call", tool=None, outcome="refused_person", requester=caller.object_id)
            return _refusal(admission.refusal, "not_a_requester")
        arguments = arguments or {}
        if name == ACTION_STATUS:
            return await self._status(caller, arguments)
        if name == PENDING_ACTIONS:
            return await self._pending(caller, arguments)
        try:
            self.requests.validate(name, arguments)
        except ApplianceError as exc:
            ops_log.event("mcp.call", tool=None, outcome="invalid", requester=caller.object_id)
            return _refusal(f"Not a valid call of an enabled tool: {exc}. Nothing was done.", "invalid_call")
        shown = json.dumps(arguments, sort_keys=True, ensure_ascii=False)[:2000]
        request = CatalogRequest(requester=admission.person, tool=name, arguments=arguments,
                                 orchestrator=caller.orchestrator, user_text=f"[{caller.orchestrator}] {name} {shown}",
                                 remember=False)
        answer = await self.requests.ask(request)
        ops_log.event("mcp.call", tool=name, outcome=answer.kind, requester=caller.object_id,
                      action=answer.action.id if answer.action else None)
        return _answer_result(answer, name in self.requests.policy.two_person_tools)

    async def _status(self, caller: McpCaller, arguments: dict[str, Any]) -> types.CallToolResult:
        action_id = arguments.get("action_id")
        well_formed = isinstance(action_id, str) and re.match(ACTION_ID_PATTERN, action_id) is not None
        if set(arguments) != {"action_id"} or not well_formed:
            return _refusal("action_status takes exactly one argument, action_id (an id a tool returned).",
                            "invalid_call")
        action = await self.requests.status(caller.object_id, str(action_id))
        if action is None:
            return _refusal("You have no action with that id.", "unknown_action")
        view = action_view(action)
        record = await self.requests.record_of(action)
        if record is not None:
            view["audit_record"] = {key: record.get(key) for key in RECORD_FIELDS}
        return _result(f"{action.summary}: {view['status_text']}.", view)

    async def _pending(self, caller: McpCaller, arguments: dict[str, Any]) -> types.CallToolResult:
        if arguments:
            return _refusal("pending_actions takes no arguments.", "invalid_call")
        waiting = await self.requests.waiting(caller.object_id)
        lines = [f"{a.id}: {a.summary} (until {a.expires_at})" for a in waiting]
        text = "\n".join(lines) if lines else "Nothing of yours is waiting for a decision."
        return _result(text, {"actions": [action_view(a) for a in waiting]})
