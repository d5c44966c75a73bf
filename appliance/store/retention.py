"""Retention: delete what is older than its configured lifetime ([store] in appliance.toml).

Defaults: conversation turns 30 days, pending actions 1 day after they end, audit records 7 years.
Audit records younger than their retention are never touched: `purge_before` removes only older ones,
and the database's own trigger refuses anything else even if this code were wrong. An action still
EXECUTING is never removed (it has not ended; the gate must reconcile it first).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from appliance.audit.closures import closed_action_record
from appliance.config import AuditSettings, StoreSettings
from appliance.store import handled_activities
from appliance.store.action_steps import expire_due_recorded
from appliance.store.audit_records import purge_before
from appliance.store.clock import iso, now
from appliance.store.connection import Connection, checkpoint
from appliance.store.key_value_settings import set_setting
from appliance.store.operator_log import record_operation
from appliance.store.pending_choices import purge_choices
from appliance.types import PendingAction

if TYPE_CHECKING:
    from appliance.store.tenant_store import TenantStore

LAST_PURGE_SETTING = "retention.last_purge_at"


@dataclass(frozen=True)
class PurgeReport:
    """How many rows of each kind were expired or deleted."""

    conversation_turns: int
    pending_actions: int
    audit_records: int
    actions_expired: int = 0

    def describe(self, policy: StoreSettings) -> str:
        """One line for an operator."""
        return (
            f"purged {self.conversation_turns} conversation turns (older than {policy.retention_conversation_days} d), "
            f"{self.pending_actions} ended pending actions (> {policy.retention_pending_days} d after they ended), "
            f"{self.audit_records} audit records (older than {policy.retention_audit_days} d); "
            f"{self.actions_expired} overdue actions marked EXPIRED"
        )


def purge(
    db: Connection, policy: StoreSettings, moment: datetime | None = None, *, audit: AuditSettings | None = None,
    operator: str | None = None,
) -> PurgeReport:
    """Expire overdue actions (each with its audit record), then delete old turns, long-ended actions and
    audit records past retention; the purge itself leaves an operator record (`operator`, default the OS user)."""
    at = moment or now()
    audit = audit or AuditSettings()

    def expired_record(action: PendingAction) -> dict[str, Any]:
        return closed_action_record(action, "Expired", moment=at, implementer=audit.implementer,
                                    implementer_name=audit.implementer_name,
                                    detail="Expired before it was confirmed; nothing ran.")

    expired = len(expire_due_recorded(db, at, expired_record))
    conversation_cutoff = iso(at - timedelta(days=policy.retention_conversation_days))
    turns = db.execute("DELETE FROM conversation_turns WHERE created_at < ?", (conversation_cutoff,)).rowcount
    db.execute("DELETE FROM conversation_references WHERE updated_at < ?", (conversation_cutoff,))
    actions = db.execute(
        "DELETE FROM pending_actions WHERE ended_at IS NOT NULL AND ended_at < ?",
        (iso(at - timedelta(days=policy.retention_pending_days)),),
    ).rowcount
    audits = purge_before(db, at - timedelta(days=policy.retention_audit_days))
    purge_choices(db, at - timedelta(days=policy.retention_pending_days))
    handled_activities.sweep(db, at)  # redelivery keys past their window (claims sweep a few each time too)
    set_setting(db, LAST_PURGE_SETTING, iso(at))
    report = PurgeReport(turns, actions, audits, expired)
    record_operation(db, "retention.purge", report.describe(policy), operator=operator,
                     facts={"conversation_turns": turns, "pending_actions": actions, "audit_records": audits,
                            "actions_expired": expired})
    if turns or actions or audits:
        checkpoint(db)  # the deleted (and overwritten) pages leave the WAL too
    return report


async def purge_periodically(
    store: TenantStore, policy: StoreSettings, every: timedelta = timedelta(hours=6), stop: asyncio.Event | None = None
) -> None:
    """Run `purge` now and then every `every` until `stop` is set (the periodic task of `serve`)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        await store.arun(purge, policy)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
        except TimeoutError:
            continue
