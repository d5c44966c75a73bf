"""`appliance store info|rekey`: inspect the encrypted store, rotate its key."""

from __future__ import annotations

import os

import click

from appliance.config import load_settings


@click.group()
def store() -> None:
    """Inspect the encrypted store or rotate its key."""


@store.command()
def info() -> None:
    """Where the store and its key are, its schema version, row counts and audit chain state (never contents)."""
    from appliance.store import TenantStore, audit_records, secrets

    with TenantStore.open(load_settings()) as tenant_store:
        click.echo(f"store:   {tenant_store.path}")
        click.echo(f"key:     {tenant_store.keys.describe()}")
        click.echo(f"schema:  version {tenant_store.schema_version}")
        for table, count in tenant_store.row_counts().items():
            click.echo(f"rows:    {table} {count}")
        click.echo(f"secrets: {', '.join(tenant_store.run(secrets.secret_names)) or '(none)'}")
        click.echo(f"audit:   {tenant_store.run(audit_records.verify).describe()}")


@store.command()
@click.option(
    "--new-key-env",
    metavar="NAME",
    default=None,
    help="Take the new key (64 hex digits) from this environment variable instead of generating one. "
    "Required when the key itself comes from an environment variable.",
)
def rekey(new_key_env: str | None) -> None:
    """Rotate the store key: re-seal every secret and re-encrypt every page under a new key.

    Stop `appliance serve` first. With a key file, the new key replaces it atomically (a crash half way is
    finished on the next open); keep a backup of the new key file as your policy requires.
    """
    from appliance.store import TenantStore
    from appliance.store.key_provider import parse_hex_key
    from appliance.store.serve_lock import refuse_while_serving

    settings = load_settings()
    refuse_while_serving(settings.home, "rotate the store key")
    if new_key_env is not None:
        new_key = parse_hex_key(os.environ.get(new_key_env, ""), f"environment variable {new_key_env}")
    else:
        new_key = os.urandom(32)
    from appliance.store.operator_log import record_operation

    with TenantStore.open(settings, new_key_env=new_key_env) as tenant_store:
        tenant_store.rotate_key(new_key)
        tenant_store.run(record_operation, "store.rekey", "every page and secret re-encrypted under a new key",
                         {"key_source": tenant_store.keys.describe()})
        click.echo(f"rotated: every page and secret of {tenant_store.path} is now under the new key")
        if settings.store.key_provider == "env":
            click.echo(f"now store the value of {new_key_env} as {settings.store.key_env} in your secret manager")
        else:
            click.echo(f"the new key is in {tenant_store.keys.describe()}; the old key no longer opens the store")
