"""`appliance init`: create the store key (0600, outside the data dir) and the encrypted, migrated store."""

from __future__ import annotations

import click

from appliance.config import Settings, load_settings


def initialize_store(settings: Settings) -> list[str]:
    """Create the key (if the provider makes keys and there is none) and the migrated store; say what was done.

    Idempotent: an existing key and store are kept, and the store is migrated to the current schema.
    Never makes a new key for an existing store (that store could then never be opened).
    """
    from appliance.store import TenantStore, database_path, key_provider_for
    from appliance.store.errors import KeyFileError
    from appliance.store.keys import FileKeyProvider

    steps = []
    keys = key_provider_for(settings)
    database = database_path(settings)
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if isinstance(keys, FileKeyProvider) and not keys.path.exists():
        if database.exists():
            raise KeyFileError(
                f"{database} exists but its {keys.describe()} does not; refusing to make a new key that could "
                "never open it",
                hint="Restore the key file from your backup (or set [store] key_file to where it is); to start "
                "over instead, move the old store away first.",
            )
        keys.create()
        steps.append(f"created {keys.describe()} (mode 0600, outside {settings.home})")
    with TenantStore.open(settings, create=True) as store:
        steps.append(f"store {store.path} ready (schema version {store.schema_version}, key: {keys.describe()})")
    return steps


@click.command()
def init() -> None:
    """Set up this appliance's state: the store key and the encrypted store under $APPLIANCE_HOME.

    Safe to run again: an existing key and store are kept (and the store migrated).
    """
    for step in initialize_store(load_settings()):
        click.echo(step)
