"""`appliance store info|rekey`: the encrypted store."""

from __future__ import annotations

import os

import click

from appliance.config import load_settings


@click.group()
def store() -> None:
    """Inspect the encrypted store or rotate its key."""


@store.command()
def info() -> None:
    """Where the store and its key are, its schema version, and row counts (never contents)."""
    from appliance.store import TenantStore

    with TenantStore.open(load_settings()) as tenant_store:
        click.echo(f"store:  {tenant_store.path}")
        click.echo(f"key:    {tenant_store.keys.describe()}")
        click.echo(f"schema: version {tenant_store.schema_version}")
        for table in ("conversation_turns", "pending_actions", "audit_records", "secrets"):
            count = tenant_store.run(lambda db, t=table: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            click.echo(f"{table:20} {count} rows")


@store.command()
def rekey() -> None:
    """Rotate the store key: re-encrypt every page and secret under a new random key, then replace the
    key file. Take a backup of the old key file first if your policy requires one."""
    from appliance.store import TenantStore

    with TenantStore.open(load_settings()) as tenant_store:
        tenant_store.rotate_key(os.urandom(32))
        click.echo(f"rotated: the store is now encrypted under the new key in {tenant_store.keys.describe()}")
