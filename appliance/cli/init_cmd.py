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


DEV_GRAPH_SECTION = """
[graph]
dev = true   # written by `appliance init --dev`: Entra and Graph are the embedded dev tenant
"""


def configure_dev(settings: Settings) -> list[str]:
    """Point the configuration at the dev tenant and sign the Aid in there (device code, auto-approved)."""
    from appliance.config import CONFIG_FILE_NAME
    from appliance.wiring import sign_in_dev

    steps = []
    config = settings.home / CONFIG_FILE_NAME
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if "[graph]" not in text:
        config.write_text(text + DEV_GRAPH_SECTION, encoding="utf-8")
        steps.append(f"wrote [graph] dev = true to {config}")
    elif not settings.graph.dev:
        raise click.ClickException(f"{config} already has a [graph] section without dev = true; not changing it")
    upn = sign_in_dev(load_settings(settings.home), lambda message: steps.append(f"sign-in: {message}"))
    steps.append(f"the Aid is signed in to the dev tenant as {upn}; its token cache is sealed in the store")
    return steps


@click.command()
@click.option("--dev", is_flag=True, help="Also configure the embedded dev tenant and sign the Aid in to it.")
def init(dev: bool) -> None:
    """Set up this appliance's state: the store key and the encrypted store under $APPLIANCE_HOME.

    With --dev, also point Entra/Graph at the embedded dev tenant and sign the Aid in there, so that
    the Graph side works with nothing else to set up. Safe to run again.
    """
    settings = load_settings()
    steps = initialize_store(settings)
    if dev:
        steps += configure_dev(settings)
    for step in steps:
        click.echo(step)
