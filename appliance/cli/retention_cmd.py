"""`appliance retention purge`: delete what is older than its retention ([store] in appliance.toml)."""

from __future__ import annotations

import click

from appliance.config import load_settings


@click.group()
def retention() -> None:
    """Retention of conversation turns, ended pending actions and audit records."""


@retention.command()
def purge() -> None:
    """Delete expired rows now (the same purge `serve` runs periodically)."""
    from appliance.store import TenantStore
    from appliance.store.retention import purge as purge_rows

    settings = load_settings()
    with TenantStore.open(settings) as tenant_store:
        report = tenant_store.run(purge_rows, settings.store)
    click.echo(
        f"purged {report.conversation_turns} conversation turns (> {settings.store.retention_conversation_days} d), "
        f"{report.pending_actions} ended actions (> {settings.store.retention_pending_days} d), "
        f"{report.audit_records} audit records (> {settings.store.retention_audit_days} d)"
    )
