"""`AuditRecord`: the appliance's own record of one executed (or failed, or refused) action.

Its fields are those of the public sample ("Subtwin-side joined metadata") plus what a reviewer needs
to join and trust it: the client-request-id the appliance sent (= the M365 directory audit's
correlationId), Graph's request-id, the outcome and the action's hash. The store adds RecordedAt,
PreviousHash and Hash (the chain); AuditEntryId is filled in later, from Graph's directory audits, with
AuditEntryMatchedBy: how that entry was found (`appliance.types.EntryMatch`: `correlationId`, the strong join,
or `activity`, the fallback on the entry's documented fields). A write whose answer was lost and that was
settled from the directory audit log carries both from the start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from appliance.types import EntryMatch, ExecutionResult, PendingAction

Outcome = Literal["Success", "Failure", "Refused", "Unknown"]
OUTCOMES: dict[str, Outcome] = {"done": "Success", "failed": "Failure", "refused": "Refused", "unknown": "Unknown"}
"""`Unknown`: the write may have reached Graph and its directory audit entry has not appeared; a later record
of the same action (same ClientRequestId) settles it as Success or Failure."""


class AuditRecord(BaseModel):
    """One joined metadata record. Field names match the public sample, so reviewers see the same keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    AuditEntryId: str | None = None
    AuditEntryMatchedBy: EntryMatch | None = None
    RequestedBy: str
    RequesterObjectId: str
    ConfirmedAt: str | None
    ConfirmedBy: str | None
    SecondApprovedBy: str | None = None
    SecondApprovedAt: str | None = None
    ActionSummary: str
    ConversationRef: str
    Orchestrator: str
    ToolName: str
    Arguments: dict[str, Any]
    Implementer: str
    ImplementerName: str
    ClientRequestId: str | None
    GraphRequestId: str | None
    GraphStatus: int | None
    Outcome: Outcome
    Detail: str
    ExecutedAt: str
    ActionId: str
    ActionHash: str

    def fields(self) -> dict[str, Any]:
        """The record as the store chains it (AuditEntryId and AuditEntryMatchedBy left out until known)."""
        unknown = {key for key in ("AuditEntryId", "AuditEntryMatchedBy") if getattr(self, key) is None}
        return self.model_dump(exclude=unknown)


def utc_stamp(moment: datetime) -> str:
    """`2026-05-21T10:14:05Z`, the format of the M365 audit log."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_for(
    action: PendingAction,
    result: ExecutionResult,
    *,
    executed_at: datetime,
    implementer: str,
    implementer_name: str,
    detail: str | None = None,
    audit_entry_id: str | None = None,
    audit_entry_matched_by: EntryMatch | None = None,
) -> AuditRecord:
    """The record of `action` as executed (`result`). `detail` overrides the result's message; an action settled
    from the directory audit log names its entry (`audit_entry_id`) and how it was matched."""
    two_person = action.requester_confirmed_at is not None
    confirmed = action.requester_confirmed_at if two_person else action.confirmed_at
    return AuditRecord(
        AuditEntryId=audit_entry_id,
        AuditEntryMatchedBy=audit_entry_matched_by,
        RequestedBy=action.requester_upn or action.requester_id,
        RequesterObjectId=action.requester_id,
        ConfirmedAt=utc_stamp(datetime.fromisoformat(confirmed)) if confirmed else None,
        ConfirmedBy=action.requester_id if two_person else action.confirmed_by,
        SecondApprovedBy=action.approver_upn if two_person else None,
        SecondApprovedAt=utc_stamp(datetime.fromisoformat(action.confirmed_at))
        if two_person and action.confirmed_at else None,
        ActionSummary=action.summary,
        ConversationRef=action.conversation_ref,
        Orchestrator=action.orchestrator or "unknown",
        ToolName=action.tool,
        Arguments=action.arguments,
        Implementer=implementer,
        ImplementerName=implementer_name,
        ClientRequestId=result.client_request_id or action.client_request_id,
        GraphRequestId=result.request_id,
        GraphStatus=result.status,
        Outcome=OUTCOMES[result.outcome],
        Detail=(detail if detail is not None else result.message)[:500],
        ExecutedAt=utc_stamp(executed_at),
        ActionId=action.id,
        ActionHash=action.action_hash,
    )
