"""`appliance retention purge`: delete what is older than its retention ([store] in appliance.toml)."""

from __future__ import annotations

import click

from appliance.config import load_settings


@click.group()
def retention() -> None:
    """Retention of conversation turns, ended pending actions and audit records."""


@retention.command()
def purge() -> None:
    """Delete expired rows now (the same purge `serve` runs periodically).

    Audit records younger than `retention_audit_days` are never deleted.
    """
    from appliance.store import TenantStore
    from appliance.store.retention import purge as purge_rows

    settings = load_settings()
    with TenantStore.open(settings) as tenant_store:
        report = tenant_store.run(purge_rows, settings.store, audit=settings.audit)
    click.echo(report.describe(settings.store))
