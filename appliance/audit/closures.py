"""Audit records for what did NOT reach Microsoft Graph, and for what the operator did.

Every action ends in a hash-chained record, not only those that ran: a cancelled or expired action,
and a request or an answer the gate refused, are recorded too. None of them sent anything to Graph,
so they carry no ClientRequestId and `M365Entry: "none expected"`: nothing waits for (or is shown as
pending) an M365 directory audit entry. Operator actions (key rotation, export, retention purge,
backup, restore, offboarding) leave `RecordKind: "operator"` records under the tool name `appliance.*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from appliance.audit.record import utc_stamp
from appliance.types import PendingAction

NONE_EXPECTED = "none expected"
NO_TOOL = "(none)"
ClosedOutcome = Literal["Cancelled", "Expired", "Refused", "Failure"]


def m365_entry_shown(record: Mapping[str, Any]) -> str:
    """What a reader is told about a record's M365 audit entry: its id and how it was matched ("matched by
    correlationId" or "matched by activity", `appliance.types.EntryMatch`; records joined before that was kept
    show the id alone), "pending" (a write that Graph should have logged), or "none expected" (nothing was sent
    to Graph)."""
    if record.get("AuditEntryId"):
        matched_by = record.get("AuditEntryMatchedBy")
        return f"{record['AuditEntryId']} (matched by {matched_by})" if matched_by else str(record["AuditEntryId"])
    if record.get("M365Entry") == NONE_EXPECTED or not record.get("ClientRequestId"):
        return NONE_EXPECTED
    return "pending"


def closed_action_record(
    action: PendingAction, outcome: ClosedOutcome, *, moment: datetime, implementer: str, implementer_name: str,
    detail: str, actor_id: str | None = None, reason: str | None = None,
) -> dict[str, Any]:
    """The record of an action that ended without a Graph call (cancelled, expired, not run after a
    restart), or of a refused answer to its card (`actor_id` pressed it; `reason` is the gate's code)."""
    return {
        "RecordKind": "action", "RequestedBy": action.requester_upn or action.requester_id,
        "RequesterObjectId": action.requester_id, "ActorObjectId": actor_id or action.requester_id,
        "ConfirmedAt": None, "ConfirmedBy": None, "ActionSummary": action.summary,
        "ConversationRef": action.conversation_ref, "Orchestrator": action.orchestrator or "unknown",
        "ToolName": action.tool, "Arguments": action.arguments, "Implementer": implementer,
        "ImplementerName": implementer_name, "ClientRequestId": None, "GraphRequestId": None, "GraphStatus": None,
        "Outcome": outcome, "Reason": reason, "Detail": detail[:500], "ExecutedAt": utc_stamp(moment),
        "ActionId": action.id, "ActionHash": action.action_hash, "M365Entry": NONE_EXPECTED,
    }


def refused_request_record(
    *, requester_id: str, requester_upn: str | None, conversation_ref: str, reason: str, moment: datetime,
    implementer: str, implementer_name: str, tool: str | None = None, arguments: Mapping[str, Any] | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """The record of a request the Aid refused before any action existed (not a requester, a protected
    target, ...). `tool` is the proposed tool if the model got that far."""
    return {
        "RecordKind": "refusal", "RequestedBy": requester_upn or requester_id, "RequesterObjectId": requester_id,
        "ConversationRef": conversation_ref, "ToolName": tool or NO_TOOL, "Arguments": dict(arguments or {}),
        "Implementer": implementer, "ImplementerName": implementer_name, "ClientRequestId": None,
        "Outcome": "Refused", "Reason": reason, "Detail": detail[:500], "ExecutedAt": utc_stamp(moment),
        "M365Entry": NONE_EXPECTED,
    }


def operator_record(
    operation: str, *, operator: str, moment: datetime, detail: str, outcome: str = "Success",
    facts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The record of an operator's command (`operation` such as "store.rekey"): who ran it (the OS
    user and host), when, and what it did (`facts`: counts, destinations, key sources; never a key)."""
    return {
        "RecordKind": "operator", "RequestedBy": operator, "ToolName": f"appliance.{operation}",
        "Outcome": outcome, "Detail": detail[:500], "ExecutedAt": utc_stamp(moment), "Facts": dict(facts or {}),
        "ClientRequestId": None, "M365Entry": NONE_EXPECTED, "Implementer": "Operator",
    }
