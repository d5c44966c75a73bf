"""`record_for`: every field of the audit record comes from the action and its result, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from appliance.audit.record import OUTCOMES, AuditRecord, record_for, utc_stamp
from appliance.types import ExecutionResult, PendingAction
from tests.local_zone import local_zone

EXECUTED = datetime(2026, 5, 21, 10, 14, 5, 123456, tzinfo=UTC)


def _action(**change: object) -> PendingAction:
    fields: dict[str, object] = dict(
        id="act-1", conversation_ref="teams://msg/c1", requester_id="doug-oid",
        arguments_json='{"sku":"ENTERPRISEPACK","user":"sarah.lin@contoso.com"}',
        tool="m365_license_assign", summary="Assign ENTERPRISEPACK to sarah.lin@contoso.com", action_hash="h" * 64,
        state="EXECUTING", client_request_id="crid-action", confirmed_by="doug-oid",
        confirmed_at="2026-05-21T10:13:59.500000+00:00", created_at="2026-05-21T10:13:00+00:00",
        expires_at="2026-05-21T10:23:00+00:00", updated_at="2026-05-21T10:14:00+00:00", ended_at=None,
        requester_upn="doug@contoso.com", orchestrator="SmolLM2 (sha256:b179c9523d0e)",
    )
    fields.update(change)
    return PendingAction(**fields)  # type: ignore[arg-type]


def _result(**change: object) -> ExecutionResult:
    fields: dict[str, object] = dict(tool="m365_license_assign", outcome="done", client_request_id="crid-result",
                                     status=200, request_id="req-9", result={}, message="Assigned.")
    fields.update(change)
    return ExecutionResult(**fields)  # type: ignore[arg-type]


def _record(action: PendingAction | None = None, result: ExecutionResult | None = None, **kw: object) -> AuditRecord:
    return record_for(action or _action(), result or _result(), executed_at=EXECUTED, implementer="MSP",
                      implementer_name="Contoso IT", **kw)  # type: ignore[arg-type]


def test_a_one_person_record_carries_every_field_from_the_action_and_result() -> None:
    assert _record().model_dump() == {
        "AuditEntryId": None, "AuditEntryMatchedBy": None, "RequestedBy": "doug@contoso.com",
        "RequesterObjectId": "doug-oid",
        "ConfirmedAt": "2026-05-21T10:13:59Z", "ConfirmedBy": "doug-oid", "SecondApprovedBy": None,
        "SecondApprovedAt": None, "ActionSummary": "Assign ENTERPRISEPACK to sarah.lin@contoso.com",
        "ConversationRef": "teams://msg/c1", "Orchestrator": "SmolLM2 (sha256:b179c9523d0e)",
        "ToolName": "m365_license_assign", "Arguments": {"sku": "ENTERPRISEPACK", "user": "sarah.lin@contoso.com"},
        "Implementer": "MSP", "ImplementerName": "Contoso IT", "ClientRequestId": "crid-result",
        "GraphRequestId": "req-9", "GraphStatus": 200, "Outcome": "Success", "Detail": "Assigned.",
        "ExecutedAt": "2026-05-21T10:14:05Z", "ActionId": "act-1", "ActionHash": "h" * 64,
    }


def test_a_two_person_record_names_the_requesters_confirmation_and_the_approver() -> None:
    action = _action(requester_confirmed_at="2026-05-21T10:13:30+00:00", confirmed_by="eve-oid",
                     approver_upn="eve@contoso.com")
    record = _record(action)
    assert record.ConfirmedAt == "2026-05-21T10:13:30Z" and record.ConfirmedBy == "doug-oid"
    assert record.SecondApprovedBy == "eve@contoso.com" and record.SecondApprovedAt == "2026-05-21T10:13:59Z"


def test_a_two_person_record_before_the_approval_has_no_second_approval_time() -> None:
    action = _action(requester_confirmed_at="2026-05-21T10:13:30+00:00", confirmed_at=None, approver_upn=None)
    record = _record(action)
    assert record.SecondApprovedAt is None and record.SecondApprovedBy is None
    assert record.ConfirmedAt == "2026-05-21T10:13:30Z"


def test_an_unconfirmed_record_has_no_confirmation_time() -> None:
    record = _record(_action(confirmed_at=None, confirmed_by=None))
    assert record.ConfirmedAt is None and record.ConfirmedBy is None


def test_fallbacks_requester_id_orchestrator_and_the_actions_client_request_id() -> None:
    record = _record(_action(requester_upn=None, orchestrator=None), _result(client_request_id=""))
    assert record.RequestedBy == "doug-oid" and record.Orchestrator == "unknown"
    assert record.ClientRequestId == "crid-action"


@pytest.mark.parametrize(("outcome", "expected"), [("done", "Success"), ("failed", "Failure"), ("refused", "Refused")])
def test_each_outcome_is_named_as_in_the_m365_audit_log(outcome: str, expected: str) -> None:
    assert _record(result=_result(outcome=outcome)).Outcome == expected == OUTCOMES[outcome]


def test_detail_overrides_the_message_and_is_cut_to_500_characters() -> None:
    assert _record(detail="Confirmed from the M365 audit log.").Detail == "Confirmed from the M365 audit log."
    assert _record(detail="").Detail == ""  # an empty detail is still the detail, not the message
    assert _record(result=_result(message="x" * 600)).Detail == "x" * 500
    assert _record(detail="y" * 501).Detail == "y" * 500


def test_the_audit_entry_id_is_kept_out_of_the_chained_fields_until_known() -> None:
    assert not {"AuditEntryId", "AuditEntryMatchedBy"} & set(_record().fields())  # hashed exactly as before
    joined = _record(audit_entry_id="Directory_42", audit_entry_matched_by="activity")
    assert joined.AuditEntryId == "Directory_42" and joined.fields()["AuditEntryId"] == "Directory_42"
    assert joined.AuditEntryMatchedBy == "activity" and joined.fields()["AuditEntryMatchedBy"] == "activity"
    assert set(joined.fields()) == set(AuditRecord.model_fields)
    assert "AuditEntryMatchedBy" not in _record(audit_entry_id="Directory_42").fields()


def test_a_record_says_how_its_entry_was_matched_only_in_the_documented_words() -> None:
    assert _record(audit_entry_id="D", audit_entry_matched_by="correlationId").AuditEntryMatchedBy == "correlationId"
    with pytest.raises(ValidationError):
        _record(audit_entry_id="D", audit_entry_matched_by="guessed")


def test_records_are_frozen_and_refuse_unknown_fields() -> None:
    record = _record()
    with pytest.raises(ValidationError):
        record.Outcome = "Failure"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        AuditRecord(**{**record.model_dump(), "Password": "x"})


def test_utc_stamp_converts_to_utc_and_drops_fractions() -> None:
    assert utc_stamp(datetime(2026, 5, 21, 12, 14, 5, 999999, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-05-21T10:14:05Z"
    )


def test_utc_stamp_is_utc_on_a_machine_in_another_zone() -> None:
    with local_zone("America/New_York"):
        assert utc_stamp(datetime(2026, 5, 21, 10, 14, 5, tzinfo=UTC)) == "2026-05-21T10:14:05Z"
