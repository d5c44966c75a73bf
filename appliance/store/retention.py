"""Retention: purge what is older than its configured lifetime. Audit records younger than their
retention are never touched (the database's own trigger refuses it even if this code were wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.config import StoreSettings
from appliance.store.audit_records import purge_before
from appliance.store.clock import days_ago
from appliance.store.connection import Connection


@dataclass(frozen=True)
class PurgeReport:
    """How many rows of each kind were deleted."""

    conversation_turns: int
    pending_actions: int
    audit_records: int


def purge(db: Connection, policy: StoreSettings, moment: datetime | None = None) -> PurgeReport:
    """Delete expired turns, ended pending actions, and audit records past their retention."""
    turns = db.execute(
        "DELETE FROM conversation_turns WHERE created_at < ?", (days_ago(policy.retention_conversation_days, moment),)
    ).rowcount
    actions = db.execute(
        "DELETE FROM pending_actions WHERE ended_at IS NOT NULL AND ended_at < ?",
        (days_ago(policy.retention_pending_days, moment),),
    ).rowcount
    audits = purge_before(db, days_ago(policy.retention_audit_days, moment))
    return PurgeReport(int(turns), int(actions), audits)
