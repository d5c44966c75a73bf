"""The appliance's own audit records: what was asked, confirmed and done, joined to the M365 audit log."""

from appliance.audit.query import chat_answer, csv_text, write_csv, write_jsonl
from appliance.audit.reconcile import join_audit_entries
from appliance.audit.record import OUTCOMES, AuditRecord, record_for, utc_stamp

__all__ = [
    "OUTCOMES",
    "AuditRecord",
    "chat_answer",
    "csv_text",
    "join_audit_entries",
    "record_for",
    "utc_stamp",
    "write_csv",
    "write_jsonl",
]
