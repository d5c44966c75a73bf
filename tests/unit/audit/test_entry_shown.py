"""What a reader is told about a record's M365 entry: its id and how it was matched, in the CLI and in the chat."""

from __future__ import annotations

from appliance.audit import chat_answer
from appliance.audit.closures import m365_entry_shown


def test_a_joined_record_shows_its_entry_and_how_it_was_matched() -> None:
    joined = {"AuditEntryId": "Directory_1", "AuditEntryMatchedBy": "activity", "ClientRequestId": "crid-1"}
    assert m365_entry_shown(joined) == "Directory_1 (matched by activity)"
    assert "M365 entry Directory_1 (matched by activity)" in chat_answer([joined], days=1, everyone=True)
    assert m365_entry_shown({**joined, "AuditEntryMatchedBy": "correlationId"}) == (
        "Directory_1 (matched by correlationId)")


def test_a_record_joined_before_the_match_was_kept_shows_its_entry_alone() -> None:
    assert m365_entry_shown({"AuditEntryId": "Directory_1", "AuditEntryMatchedBy": None}) == "Directory_1"
    assert m365_entry_shown({"AuditEntryId": "Directory_1"}) == "Directory_1"
    assert m365_entry_shown({"AuditEntryId": None, "ClientRequestId": "crid-1"}) == "pending"
