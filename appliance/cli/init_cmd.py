"""`appliance init`: create the store key (0600, outside the data dir) and the encrypted store."""

from __future__ import annotations

import click

from appliance.config import Settings, load_settings


def initialize_store(settings: Settings) -> list[str]:
    """Create the key (if the provider creates keys and none exists) and the migrated store."""
    from appliance.store import TenantStore, database_path, key_provider_for
    from appliance.store.keys import FileKeyProvider

    steps = []
    keys = key_provider_for(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    if isinstance(keys, FileKeyProvider) and not keys.path.exists():
        if database_path(settings).exists():
            raise click.ClickException(
                f"{database_path(settings)} exists but {keys.describe()} does not: refusing to make a new key "
                "that could never open it. Restore the key file, or remove the store to start over."
            )
        keys.create()
        steps.append(f"created {keys.describe()} (mode 0600)")
    with TenantStore.open(settings, create=True) as store:
        steps.append(f"store {store.path} ready (schema version {store.schema_version})")
    return steps


@click.command()
def init() -> None:
    """Set up this appliance's state under $APPLIANCE_HOME: the store key and the encrypted store.

    Idempotent: an existing key and store are kept (and migrated to the current schema).
    """
    for step in initialize_store(load_settings()):
        click.echo(step)
